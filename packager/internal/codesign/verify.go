package codesign

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
)

// maxPagesNamed bounds how many bad pages one error lists.
const maxPagesNamed = 5

// Verify checks data's signature as macOS would before trusting it: every
// page hash and special slot in the CodeDirectory against the file, and for
// a certificate signature the CMS over the CodeDirectory (signer's
// signature, messageDigest, CDHashes) and any timestamp. It does not judge
// the identity: Info says who signed, the caller decides whether to accept.
func Verify(data []byte) (*Info, error) {
	f, err := parseMachO(data)
	if err != nil {
		return nil, fmt.Errorf("codesign: verify: %w", err)
	}
	if f.sigCmdOff == 0 {
		return nil, fmt.Errorf("codesign: verify: the binary is not signed (no LC_CODE_SIGNATURE); sign it with SignAdHoc or Sign")
	}
	blobs, err := parseSuperBlob(data[f.dataoff : f.dataoff+f.datasize])
	if err != nil {
		return nil, fmt.Errorf("codesign: verify: %w", err)
	}
	cdBlob, ok := blobs[slotCodeDirectory]
	if !ok {
		return nil, fmt.Errorf("codesign: verify: the signature has no CodeDirectory")
	}
	cd, err := parseCodeDirectory(cdBlob)
	if err != nil {
		return nil, fmt.Errorf("codesign: verify: %w", err)
	}
	if err := checkPages(cd, data, f.dataoff); err != nil {
		return nil, fmt.Errorf("codesign: verify: %w", err)
	}
	if err := checkSpecialSlots(cd, blobs); err != nil {
		return nil, fmt.Errorf("codesign: verify: %w", err)
	}

	digest := sha256.Sum256(cdBlob)
	info := &Info{
		AdHoc:      cd.flags&FlagAdHoc != 0,
		Identifier: cd.identifier,
		TeamID:     cd.teamID,
		Flags:      cd.flags,
		CDHash:     digest[:20],
	}
	var cms []byte
	if w, ok := blobs[slotCMS]; ok {
		if be.Uint32(w) != magicBlobWrapper {
			return nil, fmt.Errorf("codesign: verify: the CMS slot holds blob magic %#x, not a blob wrapper", be.Uint32(w))
		}
		cms = w[8:]
	}
	switch {
	case info.AdHoc && len(cms) != 0:
		return nil, fmt.Errorf("codesign: verify: the CodeDirectory says ad-hoc but a CMS signature is present: the signature was tampered with")
	case info.AdHoc:
		return info, nil
	case len(cms) == 0:
		return nil, fmt.Errorf("codesign: verify: the CodeDirectory is not ad-hoc but there is no CMS signature over it: sign again")
	}
	res, err := verifyCMS(cms, cdBlob)
	if err != nil {
		return nil, fmt.Errorf("codesign: verify: %w", err)
	}
	info.Signer, info.Chain = res.signer, res.chain
	if team := certTeamID(res.signer); team != "" && team != info.TeamID {
		return nil, fmt.Errorf("codesign: verify: the CodeDirectory's team identifier %q is not the signing certificate's team (subject OU) %q: macOS refuses it; sign again", info.TeamID, team)
	}
	if res.timestamp != nil {
		t, err := checkTimestamp(res.timestamp, res.signature)
		if err != nil {
			return nil, fmt.Errorf("codesign: verify: %w", err)
		}
		info.Timestamp = &t
	}
	return info, nil
}

// checkPages re-hashes every page the CodeDirectory covers and names the
// pages that differ.
func checkPages(cd *parsedCD, data []byte, dataoff uint32) error {
	if cd.codeLimit != dataoff {
		return fmt.Errorf("the CodeDirectory covers %#x bytes but the signature starts at %#x: bytes were added or removed after signing; sign again", cd.codeLimit, dataoff)
	}
	if want := (int(cd.codeLimit) + pageSize - 1) / pageSize; cd.nCode != want {
		return fmt.Errorf("the CodeDirectory has %d page hashes for %#x bytes, want %d", cd.nCode, cd.codeLimit, want)
	}
	var bad []string
	n := 0
	for p := 0; p < cd.nCode; p++ {
		start, end := p*pageSize, min((p+1)*pageSize, int(cd.codeLimit))
		h := sha256.Sum256(data[start:end])
		if !bytes.Equal(h[:], cd.hashSlot(p)) {
			n++
			if len(bad) < maxPagesNamed {
				bad = append(bad, fmt.Sprintf("page %d (bytes %#x-%#x)", p, start, end-1))
			}
		}
	}
	if n > 0 {
		more := ""
		if n > len(bad) {
			more = fmt.Sprintf(" and %d more", n-len(bad))
		}
		return fmt.Errorf("%d of %d pages do not match their CodeDirectory hash: %s%s; the file changed after signing: rebuild and sign again", n, cd.nCode, strings.Join(bad, ", "), more)
	}
	return nil
}

// checkSpecialSlots checks the special slot hashes against the blobs that
// the signature carries. Slot 1 (Info.plist) refers to a file outside a
// bare binary and must be empty here; slots for blobs we do not carry must
// be empty too, or something was removed.
func checkSpecialSlots(cd *parsedCD, blobs map[uint32][]byte) error {
	zero := make([]byte, cd.hashSize)
	for slot := 1; slot <= cd.nSpecial; slot++ {
		got := cd.hashSlot(-slot)
		b, ok := blobs[uint32(slot)]
		switch {
		case ok:
			h := sha256.Sum256(b)
			if !bytes.Equal(h[:], got) {
				return fmt.Errorf("special slot %d (%s) hash %x does not match its blob (%x): the signature was tampered with", slot, slotName(slot), got, h)
			}
		case !bytes.Equal(got, zero):
			return fmt.Errorf("special slot %d (%s) has a hash but the signature carries no such blob", slot, slotName(slot))
		}
	}
	for slot := range blobs {
		if slot > 0 && slot < 0x1000 && int(slot) > cd.nSpecial {
			return fmt.Errorf("the signature carries a %s blob (slot %d) that the CodeDirectory does not hash", slotName(int(slot)), slot)
		}
	}
	return nil
}

func slotName(slot int) string {
	switch slot {
	case 1:
		return "Info.plist"
	case 2:
		return "requirements"
	case 3:
		return "resources"
	case 5:
		return "entitlements"
	case 7:
		return "DER entitlements"
	}
	return "special"
}

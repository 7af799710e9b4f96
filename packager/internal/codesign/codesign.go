// Package codesign signs macOS Mach-O binaries in-process, as Apple's
// codesign does, so a release made on Linux ships darwin binaries that
// macOS runs: an ad-hoc signature for snapshots, or a Developer ID
// signature (hardened runtime, TeamIdentifier, secure timestamp) for
// releases. It also verifies such signatures and strips them, so the
// verify step can prove a signed binary is the reproducible build plus a
// signature.
//
// Signing is a pure function of its inputs: the same binary and identifier
// always give the same ad-hoc bytes. A certificate signature varies only by
// its signing time, its key's randomness (ECDSA) and the timestamp.
//
// It must never change anything but the signature: the load command it
// adds, the __LINKEDIT sizes and the signature bytes. Strip undoes exactly
// that. It does not decide trust (which identity, which team, which root,
// whether ad-hoc is allowed): Verify reports and its caller decides.
//
// Why not github.com/blacktop/go-macho's codesign package: its
// File.CodeSign re-serialises the whole file through its own writer and
// reserves a guessed signature size, so its output is not byte-for-byte
// the linker's output plus a signature, and Strip could not prove that; it
// also leaves building the CMS (CDHashes attributes, timestamp) to the
// caller. The formats it would save us are small: a CodeDirectory is a
// header and a list of page hashes. go-macho is used by the tests instead,
// as a parser independent of this one.
package codesign

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// Options is a certificate signing identity and how to sign with it.
type Options struct {
	// Identifier names the code, usually the binary's name or a reverse-DNS
	// id. macOS keys permissions on it.
	Identifier string
	// Cert is the leaf (a Developer ID Application certificate for
	// distribution), Chain the intermediates up to (not including) the root.
	Cert  *x509.Certificate
	Chain []*x509.Certificate
	Key   crypto.Signer
	// TeamID is recorded in the CodeDirectory; empty means the certificate's
	// subject OU, which is the team for Apple-issued certificates.
	TeamID string
	// Hardened turns on the hardened runtime, which notarization requires.
	Hardened bool
	// TSAURL is an RFC 3161 time-stamp authority (Apple's is
	// http://timestamp.apple.com/ts01). Empty means no secure timestamp,
	// which notarization refuses.
	TSAURL string
	// HTTP is the client for the TSA; nil means one with a 30 s timeout.
	HTTP *http.Client
}

// Info is what Verify found in a valid signature.
type Info struct {
	AdHoc      bool
	Identifier string
	TeamID     string
	// Flags are the CodeDirectory flags: FlagAdHoc, FlagRuntime, ...
	Flags uint32
	// CDHash is the CodeDirectory's hash as macOS names it (SHA-256
	// truncated to 20 bytes): what notarization tickets list.
	CDHash []byte
	// Signer and Chain are nil for ad-hoc signatures. Chain holds every
	// other certificate the CMS carries; whether it leads to a trusted root
	// is the caller's check.
	Signer *x509.Certificate
	Chain  []*x509.Certificate
	// Timestamp is the secure timestamp's time, nil without one.
	Timestamp *time.Time
}

// SignAdHoc signs data with an ad-hoc signature: a CodeDirectory with
// CS_ADHOC, an empty requirements set and an empty CMS blob, as
// `codesign -s -` writes. Any earlier signature (Go's linker signs
// darwin/arm64) is replaced. The result is deterministic.
func SignAdHoc(data []byte, identifier string) ([]byte, error) {
	if identifier == "" {
		return nil, fmt.Errorf("codesign: ad-hoc signing needs an identifier (the binary's name)")
	}
	if err := checkName("identifier", identifier); err != nil {
		return nil, err
	}
	return sign(data, identifier, "", FlagAdHoc, emptyRequirements(), nil, 0)
}

// Sign signs data with a certificate identity (see Options). Any earlier
// signature is replaced.
func Sign(data []byte, o Options) ([]byte, error) {
	switch {
	case o.Identifier == "":
		return nil, fmt.Errorf("codesign: signing needs an identifier (the binary's name)")
	case o.Cert == nil || o.Key == nil:
		return nil, fmt.Errorf("codesign: signing needs a certificate and its private key; load them with LoadP12, or use SignAdHoc for snapshots")
	}
	team, certTeam := o.TeamID, certTeamID(o.Cert)
	switch {
	case team == "" && certTeam == "":
		return nil, fmt.Errorf("codesign: certificate %s has no subject OU to take the team identifier from: set the TeamID (Apple's 10-character team id) or use a Developer ID Application certificate", o.Cert.Subject)
	case team == "":
		team = certTeam
	case certTeam != "" && team != certTeam:
		// macOS refuses a CodeDirectory whose team is not its signer's.
		return nil, fmt.Errorf("codesign: team identifier %q differs from the certificate's team (subject OU) %q: leave TeamID empty or sign with that team's certificate", team, certTeam)
	}
	if err := checkName("identifier", o.Identifier); err != nil {
		return nil, err
	}
	if err := checkName("team identifier", team); err != nil {
		return nil, err
	}
	var flags uint32
	if o.Hardened {
		flags |= FlagRuntime
	}
	var stamp func([]byte) ([]byte, error)
	if o.TSAURL != "" {
		stamp = func(sig []byte) ([]byte, error) { return requestTimestamp(o.HTTP, o.TSAURL, sig) }
	}
	now := time.Now()
	cms := func(cd []byte) ([]byte, error) { return signCMS(cd, &o, now, stamp) }
	reserve := cmsReserve + len(o.Cert.Raw)
	for _, c := range o.Chain {
		reserve += len(c.Raw)
	}
	if stamp != nil {
		reserve += timestampReserve
	}
	return sign(data, o.Identifier, team, flags, designatedRequirements(o.Identifier, team, o.Cert), cms, reserve)
}

// certTeamID is the team a certificate names: Apple puts it in the subject
// OU of every Developer ID certificate.
func certTeamID(c *x509.Certificate) string {
	if len(c.Subject.OrganizationalUnit) > 0 {
		return c.Subject.OrganizationalUnit[0]
	}
	return ""
}

// checkName refuses what cannot be stored as a C string in the
// CodeDirectory.
func checkName(what, s string) error {
	if strings.ContainsRune(s, 0) {
		return fmt.Errorf("codesign: the %s %q contains a NUL byte", what, s)
	}
	return nil
}

// LoadP12 reads a signing identity from PKCS#12 bytes (what Keychain
// Access exports as a .p12): the certificate, its private key and the
// chain. The caller fills in Identifier, Hardened and TSAURL.
func LoadP12(p12 []byte, password string) (Options, error) {
	key, cert, chain, err := pkcs12.DecodeChain(p12, password)
	if err != nil {
		return Options{}, fmt.Errorf("codesign: reading the PKCS#12 identity: %w; check the password and that the file is a .p12 export of a certificate with its private key", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return Options{}, fmt.Errorf("codesign: the PKCS#12 key is a %T, which cannot sign", key)
	}
	return Options{Cert: cert, Chain: chain, Key: signer}, nil
}

// Strip returns data without its signature: no LC_CODE_SIGNATURE, no
// signature bytes, __LINKEDIT sized as before signing. An unsigned binary
// comes back unchanged. Strip(Sign(x)) == Strip(SignAdHoc(x)) == Strip(x)
// for any x this package signs, and == x for an unsigned x: so a verifier
// can prove a signed binary is a reproducible build plus a signature.
func Strip(data []byte) ([]byte, error) {
	f, err := parseMachO(data)
	if err != nil {
		return nil, fmt.Errorf("codesign: strip: %w", err)
	}
	return f.stripped(), nil
}

// cmsReserve is the room left for the CMS signature besides the
// certificates: signed attributes and signature (~1.5 KiB for RSA-4096),
// plus a timestamp token (Apple's are ~5 KiB with their chain). The header
// covers the signature's size, so the room is fixed before the CMS exists;
// unused room is zeros, as codesign leaves it.
const (
	cmsReserve       = 2 << 10
	timestampReserve = 8 << 10
)

// sign lays out the signature, hashes the pages and fills it in. cms makes
// the CMS over the CodeDirectory blob, in at most reserve bytes; it is nil
// for ad-hoc signatures.
func sign(data []byte, identifier, teamID string, flags uint32, reqs []byte, cms func(cd []byte) ([]byte, error), reserve int) ([]byte, error) {
	f, err := parseMachO(data)
	if err != nil {
		return nil, fmt.Errorf("codesign: %w", err)
	}
	f, err = parseMachO(f.stripped())
	if err != nil {
		return nil, fmt.Errorf("codesign: after removing the old signature: %w", err)
	}
	reqHash := sha256.Sum256(reqs)
	cd := &codeDirectory{
		version:    cdVersionExecSeg,
		flags:      flags,
		identifier: identifier,
		teamID:     teamID,
		execBase:   f.text.fileoff,
		execLimit:  f.text.filesize,
		special:    [][]byte{make([]byte, sha256.Size), reqHash[:]},
	}
	if f.filetype == mhExecute {
		cd.execFlags = execSegMainBinary
	}
	if flags&FlagRuntime != 0 {
		cd.version, cd.runtime = cdVersionRuntime, f.sdk
	}

	// Everything but the CMS has a size known now: the CodeDirectory's
	// hashes cover the file up to the 16-byte-aligned signature offset.
	cd.codeLimit = uint32((len(f.data) + sigAlign - 1) &^ (sigAlign - 1))
	fixed := 12 + 3*8 + cd.size() + len(reqs) + 8
	for attempt := 0; ; attempt++ {
		out, dataoff, err := f.withSignatureSpace(uint32(fixed + reserve))
		if err != nil {
			return nil, fmt.Errorf("codesign: %w", err)
		}
		cd.codeLimit = dataoff
		cdBlob := cd.marshal(out)
		var cmsBlob []byte
		if cms != nil {
			if cmsBlob, err = cms(cdBlob); err != nil {
				return nil, fmt.Errorf("codesign: %w", err)
			}
		}
		sb := superBlob([]blob{
			{slotCodeDirectory, cdBlob},
			{slotRequirements, reqs},
			{slotCMS, wrapCMS(cmsBlob)},
		})
		if len(sb) <= fixed+reserve {
			copy(out[dataoff:], sb)
			return out, nil
		}
		if attempt > 0 {
			return nil, fmt.Errorf("codesign: the CMS signature (%d bytes) does not fit the %d bytes reserved for it twice: a certificate chain or timestamp this large is unexpected", len(cmsBlob), reserve)
		}
		// The header changes with the size, so hash and sign again.
		reserve = len(sb) - fixed + cmsReserve
	}
}

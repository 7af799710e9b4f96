package codesign

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Code signature formats, from xnu's osfmk/kern/cs_blobs.h. All of it is
// big-endian, unlike the Mach-O file around it.
const (
	magicRequirement       = 0xfade0c00
	magicRequirements      = 0xfade0c01
	magicCodeDirectory     = 0xfade0c02
	magicEmbeddedSignature = 0xfade0cc0
	magicBlobWrapper       = 0xfade0b01 // wraps the CMS signature

	slotCodeDirectory = 0
	slotRequirements  = 2
	slotCMS           = 0x10000

	// The CodeDirectory versions this package writes: 0x20400 adds the
	// exec segment (and, from 0x20200, the team identifier); 0x20500 adds the
	// runtime version that hardened-runtime signatures carry.
	cdVersionExecSeg = 0x20400
	cdVersionRuntime = 0x20500
	cdVersionTeamID  = 0x20200
	cdHeaderExecSeg  = 88 // bytes of header through execSegFlags
	cdHeaderRuntime  = 96 // plus runtime and preEncryptOffset

	hashTypeSHA256 = 2
	pageSizeBits   = 12
	pageSize       = 1 << pageSizeBits

	// CodeDirectory flags.
	FlagAdHoc         = 0x2
	FlagRuntime       = 0x10000 // hardened runtime
	FlagLinkerSigned  = 0x20000
	execSegMainBinary = 0x1

	// specialSlots is how many special slots our CodeDirectories have: the
	// Info.plist (1, empty for a bare binary) and the requirements (2).
	specialSlots = 2
)

var be = binary.BigEndian

// codeDirectory is what a CodeDirectory says, besides its hashes.
type codeDirectory struct {
	version    uint32
	flags      uint32
	identifier string
	teamID     string
	codeLimit  uint32
	execBase   uint64
	execLimit  uint64
	execFlags  uint64
	runtime    uint32
	// special holds the special slot hashes, special[i-1] for slot i.
	special [][]byte
}

// marshal writes the CodeDirectory blob, hashing every 4096-byte page of
// code[:cd.codeLimit].
func (cd *codeDirectory) marshal(code []byte) []byte {
	identOff, teamOff, hashOff, nCode := cd.layout()
	b := make([]byte, hashOff+nCode*sha256.Size)

	be.PutUint32(b[0:], magicCodeDirectory)
	be.PutUint32(b[4:], uint32(len(b)))
	be.PutUint32(b[8:], cd.version)
	be.PutUint32(b[12:], cd.flags)
	be.PutUint32(b[16:], uint32(hashOff))
	be.PutUint32(b[20:], uint32(identOff))
	be.PutUint32(b[24:], uint32(len(cd.special)))
	be.PutUint32(b[28:], uint32(nCode))
	be.PutUint32(b[32:], cd.codeLimit)
	b[36] = sha256.Size
	b[37] = hashTypeSHA256
	b[38] = 0 // platform: not a platform binary
	b[39] = pageSizeBits
	// 40 spare2, 44 scatterOffset: zero.
	be.PutUint32(b[48:], uint32(teamOff))
	// 52 spare3, 56 codeLimit64: zero, the file is under 4 GiB.
	be.PutUint64(b[64:], cd.execBase)
	be.PutUint64(b[72:], cd.execLimit)
	be.PutUint64(b[80:], cd.execFlags)
	if cd.version >= cdVersionRuntime {
		be.PutUint32(b[88:], cd.runtime)
	}
	copy(b[identOff:], cd.identifier)
	if teamOff != 0 {
		copy(b[teamOff:], cd.teamID)
	}
	// Special slot i is stored i hashes before slot 0.
	for i, h := range cd.special {
		copy(b[hashOff-(i+1)*sha256.Size:], h)
	}
	for p := 0; p < nCode; p++ {
		end := min((p+1)*pageSize, int(cd.codeLimit))
		h := sha256.Sum256(code[p*pageSize : end])
		copy(b[hashOff+p*sha256.Size:], h[:])
	}
	return b
}

// layout returns where the identifier, team identifier (0: none) and code
// slot 0 sit, and how many pages are hashed.
func (cd *codeDirectory) layout() (identOff, teamOff, hashOff, nCode int) {
	identOff = cdHeaderExecSeg
	if cd.version >= cdVersionRuntime {
		identOff = cdHeaderRuntime
	}
	hashOff = identOff + len(cd.identifier) + 1
	if cd.teamID != "" {
		teamOff = hashOff
		hashOff += len(cd.teamID) + 1
	}
	hashOff += len(cd.special) * sha256.Size
	nCode = (int(cd.codeLimit) + pageSize - 1) / pageSize
	return identOff, teamOff, hashOff, nCode
}

// size is the length of the marshalled CodeDirectory.
func (cd *codeDirectory) size() int {
	_, _, hashOff, nCode := cd.layout()
	return hashOff + nCode*sha256.Size
}

// parsedCD is a CodeDirectory read back from a file, for Verify.
type parsedCD struct {
	codeDirectory
	raw       []byte
	hashOff   int
	nSpecial  int
	nCode     int
	hashSize  int
	hashType  byte
	pageShift byte
}

func parseCodeDirectory(b []byte) (*parsedCD, error) {
	if len(b) < 44 || be.Uint32(b) != magicCodeDirectory || int(be.Uint32(b[4:])) != len(b) {
		return nil, fmt.Errorf("CodeDirectory blob is malformed (%d bytes)", len(b))
	}
	cd := &parsedCD{raw: b}
	cd.version = be.Uint32(b[8:])
	cd.flags = be.Uint32(b[12:])
	cd.hashOff = int(be.Uint32(b[16:]))
	identOff := int(be.Uint32(b[20:]))
	cd.nSpecial = int(be.Uint32(b[24:]))
	cd.nCode = int(be.Uint32(b[28:]))
	cd.codeLimit = be.Uint32(b[32:])
	cd.hashSize, cd.hashType, cd.pageShift = int(b[36]), b[37], b[39]
	if cd.hashType != hashTypeSHA256 || cd.hashSize != sha256.Size {
		return nil, fmt.Errorf("CodeDirectory uses hash type %d, size %d: only SHA-256 (type %d) is checked; sign again with this package or a current codesign", cd.hashType, cd.hashSize, hashTypeSHA256)
	}
	if cd.pageShift != pageSizeBits {
		return nil, fmt.Errorf("CodeDirectory page size is 2^%d: only 4096-byte pages are checked", cd.pageShift)
	}
	if cd.hashOff-cd.nSpecial*cd.hashSize < 0 || cd.hashOff+cd.nCode*cd.hashSize > len(b) || cd.nSpecial > 64 {
		return nil, fmt.Errorf("CodeDirectory hash slots (offset %d, %d special, %d code) lie outside its %d bytes", cd.hashOff, cd.nSpecial, cd.nCode, len(b))
	}
	var err error
	if cd.identifier, err = cdString(b, identOff, "identifier"); err != nil {
		return nil, err
	}
	if cd.version >= cdVersionTeamID && len(b) >= 52 {
		if teamOff := int(be.Uint32(b[48:])); teamOff != 0 {
			if cd.teamID, err = cdString(b, teamOff, "team identifier"); err != nil {
				return nil, err
			}
		}
	}
	if cd.version >= 0x20300 && len(b) >= 64 && be.Uint64(b[56:]) != 0 {
		return nil, fmt.Errorf("CodeDirectory uses a 64-bit code limit: files over 4 GiB are not supported")
	}
	if cd.version >= cdVersionExecSeg && len(b) >= cdHeaderExecSeg {
		cd.execBase, cd.execLimit, cd.execFlags = be.Uint64(b[64:]), be.Uint64(b[72:]), be.Uint64(b[80:])
	}
	if cd.version >= cdVersionRuntime && len(b) >= cdHeaderRuntime {
		cd.runtime = be.Uint32(b[88:])
	}
	return cd, nil
}

func cdString(b []byte, off int, what string) (string, error) {
	if off <= 0 || off >= len(b) {
		return "", fmt.Errorf("CodeDirectory %s offset %d is outside the blob", what, off)
	}
	for i := off; i < len(b); i++ {
		if b[i] == 0 {
			return string(b[off:i]), nil
		}
	}
	return "", fmt.Errorf("CodeDirectory %s at offset %d is not NUL-terminated", what, off)
}

// hashSlot returns the hash stored for slot (negative: special slot -slot).
func (cd *parsedCD) hashSlot(slot int) []byte {
	off := cd.hashOff + slot*cd.hashSize
	return cd.raw[off : off+cd.hashSize]
}

// blob is one entry of a SuperBlob.
type blob struct {
	slot uint32
	data []byte
}

// superBlob writes the embedded signature: a header, an index, then each
// blob in order.
func superBlob(blobs []blob) []byte {
	n := 12 + 8*len(blobs)
	for _, bl := range blobs {
		n += len(bl.data)
	}
	out := make([]byte, 12+8*len(blobs), n)
	be.PutUint32(out[0:], magicEmbeddedSignature)
	be.PutUint32(out[4:], uint32(n))
	be.PutUint32(out[8:], uint32(len(blobs)))
	for i, bl := range blobs {
		be.PutUint32(out[12+8*i:], bl.slot)
		be.PutUint32(out[16+8*i:], uint32(len(out)))
		out = append(out, bl.data...)
	}
	return out
}

// parseSuperBlob returns the blobs of an embedded signature by slot. Each
// blob's length comes from its own header, so the zero padding a signer
// leaves after the SuperBlob is ignored.
func parseSuperBlob(sig []byte) (map[uint32][]byte, error) {
	if len(sig) < 12 || be.Uint32(sig) != magicEmbeddedSignature {
		return nil, fmt.Errorf("code signature does not start with an embedded-signature SuperBlob")
	}
	length, count := be.Uint32(sig[4:]), be.Uint32(sig[8:])
	if int(length) > len(sig) || 12+8*uint64(count) > uint64(length) {
		return nil, fmt.Errorf("code signature SuperBlob (length %d, %d blobs) does not fit in LC_CODE_SIGNATURE's %d bytes", length, count, len(sig))
	}
	sig = sig[:length]
	blobs := make(map[uint32][]byte, count)
	for i := 0; i < int(count); i++ {
		slot, off := be.Uint32(sig[12+8*i:]), int(be.Uint32(sig[16+8*i:]))
		if off+8 > len(sig) {
			return nil, fmt.Errorf("code signature blob for slot %#x at offset %d is outside the SuperBlob", slot, off)
		}
		n := int(be.Uint32(sig[off+4:]))
		if n < 8 || off+n > len(sig) {
			return nil, fmt.Errorf("code signature blob for slot %#x (offset %d, length %d) is outside the SuperBlob", slot, off, n)
		}
		if _, dup := blobs[slot]; dup {
			return nil, fmt.Errorf("code signature has two blobs for slot %#x", slot)
		}
		blobs[slot] = sig[off : off+n]
	}
	return blobs, nil
}

// wrapCMS puts CMS bytes (or none, for ad-hoc) in the blob wrapper Apple
// stores the signature in.
func wrapCMS(cms []byte) []byte {
	b := make([]byte, 8+len(cms))
	be.PutUint32(b, magicBlobWrapper)
	be.PutUint32(b[4:], uint32(len(b)))
	copy(b[8:], cms)
	return b
}

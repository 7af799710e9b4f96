package authenticode

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"fmt"
)

// peFile is where, in a PE's bytes, the fields Authenticode cares about lie.
// It is found by reading headers only; nothing is copied.
type peFile struct {
	checksumOff int // offset of the optional header's CheckSum (4 bytes)
	secDirOff   int // offset of the Certificate Table data directory entry (8 bytes)
	certOff     int // file offset of the attribute certificate table, 0 if none
	certSize    int
	naturalEnd  int // end of the last headers, section, symbol or string table byte
}

const (
	peSignatureOffset = 0x3c
	coffHeaderSize    = 20
	magicPE32         = 0x10b
	magicPE32Plus     = 0x20b
	securityDirIndex  = 4 // IMAGE_DIRECTORY_ENTRY_SECURITY
	coffSymbolSize    = 18
	sectionHeaderSize = 40

	winCertRevision2   = 0x0200
	winCertTypePKCS7   = 0x0002
	winCertHeaderSize  = 8
	certTableAlignment = 8
)

// parsePE reads the headers of data, checking every offset it follows so
// that a truncated or hostile file fails with the name of the field that
// points outside it.
func parsePE(data []byte) (*peFile, error) {
	le := binary.LittleEndian
	if len(data) < peSignatureOffset+4 || data[0] != 'M' || data[1] != 'Z' {
		return nil, fmt.Errorf("%w: no MZ header", ErrNotPE)
	}
	pe := int(le.Uint32(data[peSignatureOffset:]))
	if pe < 0 || pe+4+coffHeaderSize > len(data) || !bytes.Equal(data[pe:pe+4], []byte("PE\x00\x00")) {
		return nil, fmt.Errorf("%w: no PE signature at offset %#x", ErrNotPE, pe)
	}
	coff := pe + 4
	numSections := int(le.Uint16(data[coff+2:]))
	symPtr := int64(le.Uint32(data[coff+8:]))
	numSyms := int64(le.Uint32(data[coff+12:]))
	optSize := int(le.Uint16(data[coff+16:]))
	opt := coff + coffHeaderSize
	if opt+optSize > len(data) || optSize < 2 {
		return nil, fmt.Errorf("%w: optional header (%d bytes at %#x) runs past the end of the file", ErrNotPE, optSize, opt)
	}
	var dirs, numDirsOff int
	switch magic := le.Uint16(data[opt:]); magic {
	case magicPE32:
		numDirsOff, dirs = opt+92, opt+96
	case magicPE32Plus:
		numDirsOff, dirs = opt+108, opt+112
	default:
		return nil, fmt.Errorf("%w: unknown optional header magic %#x", ErrNotPE, magic)
	}
	if numDirsOff+4 > opt+optSize {
		return nil, fmt.Errorf("%w: optional header too short (%d bytes) for its data directories", ErrNotPE, optSize)
	}
	if n := int(le.Uint32(data[numDirsOff:])); n <= securityDirIndex {
		return nil, fmt.Errorf("%w: only %d data directories, none for certificates", ErrNotPE, n)
	}
	f := &peFile{checksumOff: opt + 64, secDirOff: dirs + securityDirIndex*8}
	if f.secDirOff+8 > opt+optSize {
		return nil, fmt.Errorf("%w: certificate table directory entry lies outside the optional header", ErrNotPE)
	}
	// Offsets are read as int64 so that a hostile uint32 cannot wrap a
	// 32-bit int into a negative index.
	certOff, certSize := int64(le.Uint32(data[f.secDirOff:])), int64(le.Uint32(data[f.secDirOff+4:]))
	f.certOff, f.certSize = int(certOff), int(certSize)
	if certOff == 0 && certSize != 0 || certOff != 0 && (certOff+certSize > int64(len(data)) || certSize < winCertHeaderSize) {
		return nil, fmt.Errorf("%w: certificate table (offset %#x, %d bytes) lies outside the %d-byte file", ErrMalformed, f.certOff, f.certSize, len(data))
	}
	if certOff != 0 && certOff < int64(f.secDirOff+8) {
		return nil, fmt.Errorf("%w: certificate table at %#x overlaps the PE headers", ErrMalformed, f.certOff)
	}

	// naturalEnd is where the file would end without a signature or the
	// padding a signer adds to align the certificate table.
	sizeOfHeaders := int(le.Uint32(data[opt+60:]))
	f.naturalEnd = max(opt+optSize, sizeOfHeaders)
	sections := opt + optSize
	if sections+numSections*sectionHeaderSize > len(data) {
		return nil, fmt.Errorf("%w: %d section headers run past the end of the file", ErrNotPE, numSections)
	}
	end := int64(f.naturalEnd)
	for i := range numSections {
		s := sections + i*sectionHeaderSize
		size, ptr := int64(le.Uint32(data[s+16:])), int64(le.Uint32(data[s+20:]))
		if ptr != 0 && size != 0 {
			end = max(end, ptr+size)
		}
	}
	if symPtr != 0 {
		strTab := symPtr + numSyms*coffSymbolSize
		end = max(end, strTab)
		if strTab+4 <= int64(len(data)) {
			end = max(end, strTab+int64(le.Uint32(data[strTab:])))
		}
	}
	// Past the end of the file, naturalEnd only makes Strip keep padding.
	f.naturalEnd = int(min(end, int64(len(data))))
	return f, nil
}

// signed reports whether the certificate table directory entry is set.
func (f *peFile) signed() bool { return f.certOff != 0 }

// hashedEnd is where the bytes covered by the Authenticode digest end: at
// the certificate table, or at the end of the file.
func (f *peFile) hashedEnd(data []byte) int {
	if f.signed() {
		return f.certOff
	}
	return len(data)
}

// authenticodeDigest hashes data as Authenticode defines it: every byte
// before the certificate table except the CheckSum and the certificate
// table directory entry, which signing itself changes. Microsoft's
// specification hashes headers, then sections by file offset, then the
// rest; for a PE whose sections follow one another (every linker's output,
// Go's included) that is the same as this single pass. An unsigned file
// is hashed as if padded with zeros to 8 bytes, as a signer pads it.
func authenticodeDigest(data []byte, f *peFile, h crypto.Hash) []byte {
	d := h.New()
	end := f.hashedEnd(data)
	d.Write(data[:f.checksumOff])
	d.Write(data[f.checksumOff+4 : f.secDirOff])
	d.Write(data[f.secDirOff+8 : end])
	if pad := end % certTableAlignment; !f.signed() && pad != 0 {
		d.Write(make([]byte, certTableAlignment-pad))
	}
	return d.Sum(nil)
}

// pkcs7FromCertTable returns the first PKCS#7 SignedData in the table.
// A second one (a "nested" signature) is ignored: verify checks the first,
// which is the one Windows shows.
func pkcs7FromCertTable(data []byte, f *peFile) ([]byte, error) {
	le := binary.LittleEndian
	table := data[f.certOff : f.certOff+f.certSize]
	for len(table) >= winCertHeaderSize {
		length := int(le.Uint32(table))
		rev, typ := le.Uint16(table[4:]), le.Uint16(table[6:])
		if length < winCertHeaderSize || length > len(table) {
			return nil, fmt.Errorf("%w: WIN_CERTIFICATE length %d does not fit the %d-byte certificate table at %#x", ErrMalformed, length, f.certSize, f.certOff)
		}
		if rev == winCertRevision2 && typ == winCertTypePKCS7 {
			return table[winCertHeaderSize:length], nil
		}
		step := (length + certTableAlignment - 1) &^ (certTableAlignment - 1)
		if step > len(table) {
			break
		}
		table = table[step:]
	}
	return nil, fmt.Errorf("%w: certificate table at %#x holds no PKCS#7 SignedData (WIN_CERT_TYPE_PKCS_SIGNED_DATA)", ErrMalformed, f.certOff)
}

// Unsigned reports whether data is a PE without a certificate table. It is
// false for anything that is not a PE, so callers ask IsPE first when the
// difference matters.
func Unsigned(data []byte) bool {
	f, err := parsePE(data)
	return err == nil && !f.signed()
}

// IsPE reports whether data starts like a PE image (MZ and PE headers).
func IsPE(data []byte) bool {
	_, err := parsePE(data)
	return err == nil
}

// Strip returns data without its Authenticode signature: the certificate
// table and the alignment padding before it cut off, the certificate table
// directory entry zeroed and the optional header CheckSum set to 0.
//
// Those are all the bytes osslsigncode (and signtool, and relic) change.
// CheckSum goes back to 0 because that is what Go's linker writes, so
// Strip(Sign(x)) == x byte for byte for a Go-built PE; for a PE whose linker
// wrote a real checksum the result differs from the original in those 4
// bytes only, and the Authenticode digest (which skips them) is unchanged.
//
// Strip of an unsigned PE is a copy of it. Strip refuses a signed PE with
// bytes after its certificate table: they are not covered by the signature
// and could not be told apart from the original file.
func Strip(data []byte) ([]byte, error) {
	f, err := parsePE(data)
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(data)
	if !f.signed() {
		return out, nil
	}
	if end := f.certOff + f.certSize; end != len(data) {
		return nil, fmt.Errorf("%w: %d bytes follow the certificate table (offset %#x, %d bytes); a signed PE ends with it", ErrMalformed, len(data)-end, f.certOff, f.certSize)
	}
	cut := f.certOff
	if pad := cut - f.naturalEnd; pad > 0 && pad < certTableAlignment && allZero(data[f.naturalEnd:cut]) {
		cut = f.naturalEnd
	}
	out = out[:cut]
	clear(out[f.secDirOff : f.secDirOff+8])
	clear(out[f.checksumOff : f.checksumOff+4])
	return out, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

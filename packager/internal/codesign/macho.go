package codesign

import (
	"encoding/binary"
	"fmt"
)

// The Mach-O facts this package needs, from <mach-o/loader.h>. Only thin
// 64-bit little-endian files are handled: that is all Go builds for darwin.
const (
	magic64         = 0xfeedfacf
	fatMagic        = 0xcafebabe
	headerSize64    = 32
	lcSegment64     = 0x19
	lcCodeSignature = 0x1d
	lcBuildVersion  = 0x32
	mhExecute       = 0x2
	sigCmdSize      = 16
	// sigAlign is where codesign_allocate and Go's linker both put the
	// signature: on a 16-byte boundary inside __LINKEDIT.
	sigAlign = 16
)

var le = binary.LittleEndian

// segment is one LC_SEGMENT_64 command: where its command sits in the
// header (so sizes can be rewritten in place) and the file range it maps.
type segment struct {
	cmdOff   int
	fileoff  uint64
	filesize uint64
	vmsize   uint64
}

// machoFile is the parsed header of a thin 64-bit Mach-O. It keeps only
// offsets into data; every change is made by rewriting bytes at them.
type machoFile struct {
	data       []byte
	filetype   uint32
	ncmds      uint32
	sizeofcmds uint32
	text       *segment
	linkedit   *segment
	// sigCmdOff is the offset of LC_CODE_SIGNATURE, 0 when unsigned.
	sigCmdOff int
	dataoff   uint32
	datasize  uint32
	// firstSection is the lowest file offset of any section's contents:
	// the load commands may grow up to it and no further.
	firstSection uint64
	// sdk is LC_BUILD_VERSION's SDK, which a hardened signature records as
	// the runtime version.
	sdk uint32
}

func parseMachO(data []byte) (*machoFile, error) {
	if len(data) < headerSize64 {
		return nil, fmt.Errorf("not a Mach-O file: %d bytes is shorter than a Mach-O header", len(data))
	}
	switch m := binary.BigEndian.Uint32(data); {
	case m == fatMagic:
		return nil, fmt.Errorf("universal (fat) Mach-O files are not supported: sign each architecture's binary before joining them with lipo")
	case le.Uint32(data) != magic64:
		return nil, fmt.Errorf("not a 64-bit Mach-O file (magic %#08x): build with GOOS=darwin GOARCH=amd64 or arm64", le.Uint32(data))
	}
	f := &machoFile{
		data:         data,
		filetype:     le.Uint32(data[12:]),
		ncmds:        le.Uint32(data[16:]),
		sizeofcmds:   le.Uint32(data[20:]),
		firstSection: uint64(len(data)),
	}
	end := headerSize64 + int(f.sizeofcmds)
	if end > len(data) {
		return nil, fmt.Errorf("Mach-O load commands (%d bytes) run past the end of the file (%d bytes): the file is truncated", f.sizeofcmds, len(data))
	}
	off := headerSize64
	for i := uint32(0); i < f.ncmds; i++ {
		if off+8 > end {
			return nil, fmt.Errorf("Mach-O load command %d at offset %#x runs past sizeofcmds: the header is corrupt", i, off)
		}
		cmd, size := le.Uint32(data[off:]), int(le.Uint32(data[off+4:]))
		if size < 8 || off+size > end {
			return nil, fmt.Errorf("Mach-O load command %d (%#x) at offset %#x has size %d, outside the load commands: the header is corrupt", i, cmd, off, size)
		}
		c := data[off : off+size]
		switch cmd {
		case lcSegment64:
			if size < 72 {
				return nil, fmt.Errorf("LC_SEGMENT_64 at offset %#x is %d bytes, shorter than a segment command", off, size)
			}
			seg := &segment{cmdOff: off, vmsize: le.Uint64(c[32:]), fileoff: le.Uint64(c[40:]), filesize: le.Uint64(c[48:])}
			switch cstring(c[8:24]) {
			case "__TEXT":
				f.text = seg
			case "__LINKEDIT":
				f.linkedit = seg
			}
			nsects := int(le.Uint32(c[64:]))
			if 72+nsects*80 > size {
				return nil, fmt.Errorf("LC_SEGMENT_64 at offset %#x claims %d sections, more than fit in its %d bytes", off, nsects, size)
			}
			for s := 0; s < nsects; s++ {
				sect := c[72+s*80:]
				flags := le.Uint32(sect[64:])
				// Zero-fill sections (bss) have an offset but no bytes in the file.
				if so := uint64(le.Uint32(sect[48:])); so != 0 && !zeroFill(flags) && so < f.firstSection {
					f.firstSection = so
				}
			}
		case lcCodeSignature:
			if size != sigCmdSize {
				return nil, fmt.Errorf("LC_CODE_SIGNATURE at offset %#x is %d bytes, want %d", off, size, sigCmdSize)
			}
			if f.sigCmdOff != 0 {
				return nil, fmt.Errorf("two LC_CODE_SIGNATURE load commands (offsets %#x and %#x): the file is corrupt", f.sigCmdOff, off)
			}
			f.sigCmdOff, f.dataoff, f.datasize = off, le.Uint32(c[8:]), le.Uint32(c[12:])
		case lcBuildVersion:
			if size >= 24 {
				f.sdk = le.Uint32(c[16:])
			}
		}
		off += size
	}
	if f.text == nil {
		return nil, fmt.Errorf("Mach-O file has no __TEXT segment: not an executable Go builds")
	}
	if f.linkedit == nil {
		return nil, fmt.Errorf("Mach-O file has no __LINKEDIT segment, where a signature must live: was it linked with -d or an unusual linker?")
	}
	if f.sigCmdOff != 0 {
		sigEnd := uint64(f.dataoff) + uint64(f.datasize)
		if f.dataoff < uint32(end) {
			return nil, fmt.Errorf("code signature at %#x overlaps the load commands (ending at %#x): the file is corrupt", f.dataoff, end)
		}
		if uint64(f.dataoff) < f.linkedit.fileoff || sigEnd > f.linkedit.fileoff+f.linkedit.filesize {
			return nil, fmt.Errorf("code signature at %#x+%#x lies outside __LINKEDIT (%#x+%#x): the file is corrupt", f.dataoff, f.datasize, f.linkedit.fileoff, f.linkedit.filesize)
		}
		if sigEnd != uint64(len(data)) {
			return nil, fmt.Errorf("%d bytes follow the code signature (which ends at %#x): something was appended after signing; rebuild and sign again", uint64(len(data))-sigEnd, sigEnd)
		}
	}
	return f, nil
}

// zeroFill reports the section types (S_ZEROFILL, S_GB_ZEROFILL,
// S_THREAD_LOCAL_ZEROFILL) that occupy memory but no bytes of the file.
func zeroFill(flags uint32) bool {
	t := flags & 0xff
	return t == 0x1 || t == 0xc || t == 0x12
}

func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// setLinkedit rewrites __LINKEDIT's file size, moving its memory size by
// the same amount. Moving both by one delta (rather than page-rounding
// vmsize as codesign_allocate does) is what makes Strip the exact inverse
// of signing: Go's linker writes vmsize == filesize, and Strip gives that
// back.
func (f *machoFile) setLinkedit(out []byte, filesize uint64) {
	l := f.linkedit
	le.PutUint64(out[l.cmdOff+48:], filesize)
	le.PutUint64(out[l.cmdOff+32:], l.vmsize+filesize-l.filesize)
}

// stripped returns the file as it was before any signature was added: no
// LC_CODE_SIGNATURE, no signature bytes, __LINKEDIT ending where the
// signature began. An unsigned file comes back as a copy.
func (f *machoFile) stripped() []byte {
	if f.sigCmdOff == 0 {
		return append([]byte(nil), f.data...)
	}
	out := append([]byte(nil), f.data[:f.dataoff]...)
	f.setLinkedit(out, uint64(f.dataoff)-f.linkedit.fileoff)
	// Close the gap the command leaves, so the load commands read as if it
	// had never been added (Go's linker puts it last, where this is a no-op).
	end := headerSize64 + int(f.sizeofcmds)
	copy(out[f.sigCmdOff:], out[f.sigCmdOff+sigCmdSize:end])
	clear(out[end-sigCmdSize : end])
	le.PutUint32(out[16:], f.ncmds-1)
	le.PutUint32(out[20:], f.sizeofcmds-sigCmdSize)
	return out
}

// withSignatureSpace returns an unsigned file grown by a zeroed signature of
// sigSize bytes: LC_CODE_SIGNATURE appended to the load commands and
// __LINKEDIT extended over the signature. It returns where the signature
// starts, which is also the CodeDirectory's codeLimit.
func (f *machoFile) withSignatureSpace(sigSize uint32) ([]byte, uint32, error) {
	if f.sigCmdOff != 0 {
		return nil, 0, fmt.Errorf("internal error: adding a signature to a signed file; strip it first")
	}
	l := f.linkedit
	if l.fileoff+l.filesize != uint64(len(f.data)) {
		return nil, 0, fmt.Errorf("__LINKEDIT ends at %#x but the file at %#x: the signature must be the last thing in the file and in __LINKEDIT; sign the linker's output unchanged", l.fileoff+l.filesize, len(f.data))
	}
	end := headerSize64 + int(f.sizeofcmds)
	if uint64(end+sigCmdSize) > f.firstSection {
		return nil, 0, fmt.Errorf("no room for LC_CODE_SIGNATURE: the load commands end at %#x and the first section starts at %#x; relink with -ldflags=-headerpad=0x100 or sign with Apple's codesign", end, f.firstSection)
	}
	for _, b := range f.data[end : end+sigCmdSize] {
		if b != 0 {
			return nil, 0, fmt.Errorf("no room for LC_CODE_SIGNATURE: the %d bytes after the load commands at %#x are not padding", sigCmdSize, end)
		}
	}
	dataoff := (uint64(len(f.data)) + sigAlign - 1) &^ (sigAlign - 1)
	if dataoff+uint64(sigSize) > 1<<32-1 {
		return nil, 0, fmt.Errorf("binary is %d bytes: code signatures address at most 4 GiB", len(f.data))
	}
	out := make([]byte, dataoff+uint64(sigSize))
	copy(out, f.data)
	le.PutUint32(out[end:], lcCodeSignature)
	le.PutUint32(out[end+4:], sigCmdSize)
	le.PutUint32(out[end+8:], uint32(dataoff))
	le.PutUint32(out[end+12:], sigSize)
	le.PutUint32(out[16:], f.ncmds+1)
	le.PutUint32(out[20:], f.sizeofcmds+sigCmdSize)
	f.setLinkedit(out, dataoff+uint64(sigSize)-l.fileoff)
	return out, uint32(dataoff), nil
}

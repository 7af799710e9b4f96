package verify

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/layout"
)

// readPkg is readLinuxPackage on bytes, turning a panic into a test failure
// that names the input.
func readPkg(t *testing.T, f layout.LinuxFormat, what string, b []byte) (p *pkgPayload, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s %s: panic: %v", f, what, r)
			p, err = nil, fmt.Errorf("panic")
		}
	}()
	switch f {
	case layout.Deb:
		return readDeb(bytes.NewReader(b))
	case layout.RPM:
		return readRPM(bytes.NewReader(b))
	}
	return readAPK(bytes.NewReader(b))
}

// realPackages are the .deb, .rpm and .apk linuxpkg builds of a small tree.
func realPackages(t *testing.T) map[layout.LinuxFormat][]byte {
	t.Helper()
	r := newPkgRelease(t)
	out := map[layout.LinuxFormat][]byte{}
	for _, f := range layout.LinuxFormats {
		name := r.rebuild(t, f, func(string) {})
		b, err := os.ReadFile(filepath.Join(r.c.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

// Every truncation of a real package, and every byte of it overwritten with
// values a hostile or broken writer would put there, is read without a
// panic; a cut package is never read as whole.
func TestLinuxPackageReadersSurviveTruncationAndCorruption(t *testing.T) {
	for f, whole := range realPackages(t) {
		if _, err := readPkg(t, f, "whole", whole); err != nil {
			t.Fatalf("%s: the real package is unreadable: %v", f, err)
		}
		for n := 0; n < len(whole); n++ {
			if f == layout.Deb && n == len(whole)-1 && whole[n] == '\n' {
				continue // ar's padding byte after an odd last member, which ar readers forgive
			}
			if _, err := readPkg(t, f, fmt.Sprintf("cut at %d of %d", n, len(whole)), whole[:n]); err == nil {
				t.Errorf("%s cut at byte %d of %d is read without an error", f, n, len(whole))
			}
		}
		// Every byte of the headers (the first 1 KB), every 5th after.
		for i := 0; i < len(whole); i++ {
			if i >= 1024 && i%5 != 0 {
				continue
			}
			for _, v := range []byte{0x00, 0xff, '9', ' '} {
				b := bytes.Clone(whole)
				b[i] = v
				readPkg(t, f, fmt.Sprintf("byte %d set to %#x", i, v), b)
			}
		}
	}
}

// allocated is how many bytes read allocates.
func allocated(read func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	read()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// cpioHeader is an SVR4 cpio header for a regular file of size bytes.
func cpioHeader(name string, size int64) []byte {
	h := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", 0, 0o100644, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name)+1, 0)
	b := append([]byte(h), name...)
	b = append(b, 0)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// rpmHeaderBytes is an RPM header structure claiming n entries and size
// bytes of store, with none of them present.
func rpmHeaderBytes(n, size uint32) []byte {
	b := []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}
	b = binary.BigEndian.AppendUint32(b, n)
	return binary.BigEndian.AppendUint32(b, size)
}

// Sizes a hostile package claims for what it does not hold are refused
// with an error, allocating memory in proportion to the bytes read, not to
// the claim.
func TestLinuxPackageReadersDoNotTrustClaimedSizes(t *testing.T) {
	lead := append([]byte{0xed, 0xab, 0xee, 0xdb}, make([]byte, 92)...)
	arMember := func(name, size string) []byte {
		h := fmt.Sprintf("%-16s%-12s%-6s%-6s%-8s%-10s`\n", name, "0", "0", "0", "100644", size)
		return []byte("!<arch>\n" + h)
	}
	for _, tc := range []struct {
		what    string
		read    func() error
		wantErr string
	}{
		{"a cpio member claiming 500 MB", func() error {
			_, err := readCPIO(bytes.NewReader(cpioHeader("./usr/bin/tern", 500<<20)))
			return err
		}, "cpio member ./usr/bin/tern"},
		{"a cpio member over the limit", func() error {
			_, err := readCPIO(bytes.NewReader(cpioHeader("./usr/bin/tern", 0xffffffff)))
			return err
		}, "a broken cpio header"},
		{"an rpm signature header claiming 64 MB of store", func() error {
			_, err := readRPM(bytes.NewReader(append(bytes.Clone(lead), rpmHeaderBytes(1<<16, 64<<20)...)))
			return err
		}, "signature"},
		{"an rpm header claiming 4 GB", func() error {
			_, err := readRPM(bytes.NewReader(append(bytes.Clone(lead), rpmHeaderBytes(1<<30, 0xffffffff)...)))
			return err
		}, "too large"},
		{"an ar member claiming 500 MB", func() error {
			_, err := readDeb(bytes.NewReader(arMember("data.tar.gz", "524288000")))
			return err
		}, "data.tar.gz"},
		{"an ar member of a negative size", func() error {
			_, err := readDeb(bytes.NewReader(arMember("data.tar.gz", "-1")))
			return err
		}, "bad size"},
		{"an ar member of a size in hex", func() error {
			_, err := readDeb(bytes.NewReader(arMember("data.tar.gz", "0x10")))
			return err
		}, "bad size"},
		{"an ar header cut short", func() error {
			_, err := readDeb(bytes.NewReader(arMember("data.tar.gz", "10")[:30]))
			return err
		}, "ar header"},
	} {
		var err error
		n := allocated(func() { err = tc.read() })
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: got error %v, want one containing %q", tc.what, err, tc.wantErr)
		}
		if n > 8<<20 {
			t.Errorf("%s: reading a few hundred bytes allocated %d MB", tc.what, n>>20)
		}
	}
}

// tarOf is a tar of files (name → body; a name ending in * is made
// executable), in order, with its end blocks.
func tarOf(t testing.TB, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i < len(files); i += 2 {
		name, mode := files[i], int64(0o644)
		if n, ok := strings.CutSuffix(name, "*"); ok {
			name, mode = n, 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[i+1]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

type arMember struct {
	name string
	body []byte
}

// debOf is a .deb: an ar of debian-binary, control.tar.gz and data.tar.gz.
func debOf(control, data []byte) []byte {
	return arOf(arMember{"debian-binary", []byte("2.0\n")}, arMember{"control.tar.gz", gz(control)}, arMember{"data.tar.gz", gz(data)})
}

// arOf is an ar archive of members, in order.
func arOf(members ...arMember) []byte {
	b := []byte("!<arch>\n")
	for _, m := range members {
		b = append(b, fmt.Sprintf("%-16s%-12s%-6s%-6s%-8s%-10d`\n", m.name, "0", "0", "0", "100644", len(m.body))...)
		b = append(b, m.body...)
		if len(m.body)%2 == 1 {
			b = append(b, '\n')
		}
	}
	return b
}

// A data.tar that decompresses past the limit is refused, not cut at the
// limit: cut on an entry's boundary, it read as a whole tar, and an
// executable after the limit went unseen while dpkg would install it.
func TestDebOverTheDecompressedLimitIsRefused(t *testing.T) {
	control := tarOf(t, "./control", "Package: tern\nVersion: 1\nArchitecture: amd64\n")
	data := tarOf(t, "./usr/share/doc/tern/filler", strings.Repeat("x", 1536), "./usr/bin/evil*", "#!/bin/sh\n")
	defer func(n int64) { maxDecompressed = n }(maxDecompressed)
	maxDecompressed = 512 + 1536 // up to the second header (and all of control.tar)

	p, err := readDeb(bytes.NewReader(debOf(control, data)))
	if err == nil {
		t.Fatalf("read without an error; files: %v", keys(p.files))
	}
	if want := "data.tar.gz: not a valid tar: it decompresses to more than 2048 bytes, the limit"; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

func keys(m map[string]pkgFile) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A tar whose compression is whole but which stops inside a header is cut,
// not ended: that reads as a package without its later files.
func TestATarCutInsideAHeaderIsRefused(t *testing.T) {
	control := tarOf(t, "./control", "Package: tern\nVersion: 1\nArchitecture: amd64\n")
	data := tarOf(t, "./usr/share/doc/tern/README", "hello", "./usr/bin/evil*", "#!/bin/sh\n")
	_, err := readDeb(bytes.NewReader(debOf(control, data[:1024+100])))
	if err == nil || !strings.Contains(err.Error(), "data.tar.gz: not a valid tar: unexpected EOF") {
		t.Errorf("got %v, want data.tar.gz: not a valid tar: unexpected EOF", err)
	}
}

// An apk is a signature, a control and a data stream: a fourth is refused
// before it is read, however many a hostile file holds.
func TestAPKWithMoreThanThreeStreamsIsRefused(t *testing.T) {
	var b []byte
	for i := 0; i < 4; i++ {
		b = append(b, gz(tarOf(t, fmt.Sprintf("f%d", i), "x"))...)
	}
	_, err := readAPK(bytes.NewReader(b))
	if want := "gzip stream 4: an apk holds at most 3 (a signature, the control and the data)"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

// The fuzz targets hold each reader to: no panic, whatever the bytes. The
// seeds are a small valid package of each format and the hostile headers
// above; go test runs the seeds, go test -fuzz explores from them.
func FuzzReadDeb(f *testing.F) {
	control := tarOf(f, "./control", "Package: tern\nVersion: 1\nArchitecture: amd64\n")
	f.Add(debOf(control, tarOf(f, "./usr/bin/tern*", "\x7fELF")))
	f.Add([]byte("!<arch>\n" + fmt.Sprintf("%-16s%-12s%-6s%-6s%-8s%-10s`\n", "data.tar.xz", "0", "0", "0", "100644", "100")))
	f.Fuzz(func(t *testing.T, b []byte) { readDeb(bytes.NewReader(b)) })
}

func FuzzReadRPM(f *testing.F) {
	lead := append([]byte{0xed, 0xab, 0xee, 0xdb}, make([]byte, 92)...)
	f.Add(append(bytes.Clone(lead), rpmHeaderBytes(0, 0)...))
	f.Add(append(append(bytes.Clone(lead), rpmHeaderBytes(2, 16)...), make([]byte, 48)...))
	f.Fuzz(func(t *testing.T, b []byte) { readRPM(bytes.NewReader(b)) })
}

func FuzzReadCPIO(f *testing.F) {
	f.Add(append(cpioHeader("./usr/bin/tern", 4), append([]byte("\x7fELF"), cpioHeader("TRAILER!!!", 0)...)...))
	f.Fuzz(func(t *testing.T, b []byte) { readCPIO(bytes.NewReader(b)) })
}

func FuzzReadAPK(f *testing.F) {
	f.Add(append(gz(tarOf(f, ".PKGINFO", "pkgname = tern\n")), gz(tarOf(f, "usr/bin/tern*", "\x7fELF"))...))
	f.Fuzz(func(t *testing.T, b []byte) { readAPK(bytes.NewReader(b)) })
}

// A .deb is read in the order dpkg insists on, and nothing after data.tar
// is read: a second data.tar there (dpkg installs the first) cannot hide
// what the first holds, and a .deb dpkg refuses is refused.
func TestDebMembersInDpkgsOrder(t *testing.T) {
	control := arMember{"control.tar.gz", gz(tarOf(t, "./control", "Package: tern\nVersion: 1\nArchitecture: amd64\n"))}
	data := arMember{"data.tar.gz", gz(tarOf(t, "./usr/bin/tern*", "\x7fELF"))}
	version := arMember{"debian-binary", []byte("2.0\n")}
	for _, tc := range []struct {
		what    string
		members []arMember
		wantErr string
	}{
		{"the usual order", []arMember{version, control, data}, ""},
		{"a member dpkg skips", []arMember{version, {"_gpgbuilder", []byte("x")}, control, data}, ""},
		{"no debian-binary", []arMember{control, data}, `the first member is control.tar.gz holding`},
		{"debian-binary 3.0", []arMember{{"debian-binary", []byte("3.0\n")}, control, data}, `not debian-binary holding 2.0`},
		{"data before control", []arMember{version, data, control}, "a member data.tar.gz where dpkg expects control.tar.*"},
		{"two data members", []arMember{version, control, data, {"data.tar.gz", gz(tarOf(t, "./usr/bin/evil*", "x"))}}, "a member data.tar.gz follows data.tar"},
		{"two control members", []arMember{version, control, control, data}, "a member control.tar.gz where dpkg expects data.tar.*"},
		{"an unknown member", []arMember{version, control, {"extra", []byte("x")}, data}, "a member extra where dpkg expects data.tar.*"},
	} {
		_, err := readDeb(bytes.NewReader(arOf(tc.members...)))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.what, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: got %v, want %q", tc.what, err, tc.wantErr)
		}
	}
}

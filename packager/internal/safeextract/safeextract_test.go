package safeextract

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type member struct {
	name, link string
	typ        byte
	body       string
	size       int64 // when set, the header claims this size
}

// hostile builds a tar in memory from hand-made headers.
func hostile(t *testing.T, members ...member) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, m := range members {
		hdr := &tar.Header{Name: m.name, Linkname: m.link, Typeflag: m.typ, Mode: 0o644, Size: int64(len(m.body)), Format: tar.FormatPAX}
		if m.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if m.size > 0 {
			hdr.Size = m.size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if m.typ == tar.TypeReg {
			body := m.body
			if m.size > 0 {
				body = strings.Repeat("x", int(m.size))
			}
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	return b.Bytes()
}

func TestRefusesHostileTarballs(t *testing.T) {
	small := Limits{MaxEntry: 1 << 10, MaxTotal: 4 << 10, MaxFiles: 100}
	for _, tc := range []struct {
		name    string
		members []member
		want    string
	}{
		{"absolute path", []member{{name: "/etc/passwd", typ: tar.TypeReg, body: "x"}}, "an absolute path"},
		{"dot-dot", []member{{name: "src/../../escape", typ: tar.TypeReg, body: "x"}}, "a .. in the path"},
		{"symlink leading out", []member{{name: "src/link", link: "../../etc", typ: tar.TypeSymlink}}, "leads out of the tree"},
		{"absolute symlink", []member{{name: "src/link", link: "/etc/passwd", typ: tar.TypeSymlink}}, "leads out of the tree"},
		{"write through a link", []member{
			{name: "src/dir", link: ".", typ: tar.TypeSymlink},
			{name: "src/dir/file", typ: tar.TypeReg, body: "x"},
		}, "written through the link"},
		{"hard link leading out", []member{{name: "src/h", link: "../outside", typ: tar.TypeLink}}, "leads out of the tree"},
		{"character device", []member{{name: "src/null", typ: tar.TypeChar}}, "character device"},
		{"block device", []member{{name: "src/sda", typ: tar.TypeBlock}}, "block device"},
		{"fifo", []member{{name: "src/pipe", typ: tar.TypeFifo}}, "fifo"},
		{"oversized entry", []member{{name: "src/big", typ: tar.TypeReg, size: 2 << 10}}, "over the 1024-byte limit"},
		{"oversized total", []member{
			{name: "a", typ: tar.TypeReg, size: 1000}, {name: "b", typ: tar.TypeReg, size: 1000},
			{name: "c", typ: tar.TypeReg, size: 1000}, {name: "d", typ: tar.TypeReg, size: 1000},
			{name: "e", typ: tar.TypeReg, size: 1000},
		}, "unpacks to more than 4096 bytes"},
		{"a duplicate overwriting a file", []member{
			{name: "src/f", typ: tar.TypeReg, body: "x"}, {name: "src/f", typ: tar.TypeReg, body: "y"},
		}, "cannot create it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			err := Tar(bytes.NewReader(hostile(t, tc.members...)), dest, small)
			var ue *UnsafeError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want an UnsafeError saying %q", err, tc.want)
			}
			// Nothing may have landed outside dest.
			entries, _ := os.ReadDir(parent)
			if len(entries) != 1 {
				t.Fatalf("something was written beside dest: %v", entries)
			}
		})
	}
}

func TestExtractsAnOrdinaryTree(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "dest")
	data := hostile(t,
		member{name: "pkg/", typ: tar.TypeDir},
		member{name: "pkg/configure", typ: tar.TypeReg, body: "#!/bin/sh\n"},
		member{name: "pkg/docs/README", typ: tar.TypeReg, body: "hi\n"},
		member{name: "pkg/README", link: "docs/README", typ: tar.TypeSymlink},
		member{name: "pkg/COPY", link: "pkg/docs/README", typ: tar.TypeLink},
	)
	if err := Tar(bytes.NewReader(data), dest, DefaultLimits); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "pkg", "README")); err != nil || string(b) != "hi\n" {
		t.Fatalf("README through its in-tree link: %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "pkg", "COPY")); err != nil || string(b) != "hi\n" {
		t.Fatalf("hard link: %q, %v", b, err)
	}
}

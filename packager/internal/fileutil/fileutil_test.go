package fileutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWriteAtomicKeepsNothingWhenWriteRefuses(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "out")
	refused := errors.New("digest mismatch")
	err := WriteAtomic(p, func(w io.Writer) error {
		io.WriteString(w, "half")
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("got %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(p)); len(entries) != 0 {
		t.Fatalf("a refused write left %v", entries)
	}
	if err := WriteAtomic(p, func(w io.Writer) error { _, err := io.WriteString(w, "whole"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "whole" {
		t.Fatalf("got %q", b)
	}
}

// TestWriteAtomicMode: a new file is readable by all, as a published file
// must be (os.CreateTemp alone makes it 0600); a replaced file keeps its mode.
func TestWriteAtomicMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits")
	}
	p := filepath.Join(t.TempDir(), "out")
	write := func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }
	if err := WriteAtomic(p, write); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Errorf("a new file has mode %v, want 0644", st.Mode().Perm())
	}
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(p, write); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o755 {
		t.Errorf("a replaced file has mode %v, want its old 0755", st.Mode().Perm())
	}
}

func TestCopyFileAndSHA256File(t *testing.T) {
	dir := t.TempDir()
	from := filepath.Join(dir, "a")
	if err := os.WriteFile(from, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(dir, "x", "y", "b")
	if err := CopyFile(from, to, 0o755); err != nil {
		t.Fatal(err)
	}
	sum, n, err := SHA256File(to)
	if err != nil || n != 3 || sum != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("sha256 %s size %d: %v", sum, n, err)
	}
	if _, _, err := SHA256File(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing file: %v", err)
	}
}

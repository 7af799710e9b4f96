package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestApplyPatch(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("one\ntwo\nthree\n"), 0o644)
	os.WriteFile(filepath.Join(root, "gone.txt"), []byte("x\n"), 0o644)
	patch := "*** Begin Patch\n*** Update File: a.txt\n@@\n one\n-two\n+2\n three\n*** Add File: dir/new.txt\n+hello\n*** Delete File: gone.txt\n*** End Patch"
	summary, err := ApplyPatch(root, patch)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "a.txt")); string(b) != "one\n2\nthree\n" {
		t.Fatalf("a.txt = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "dir", "new.txt")); string(b) != "hello\n" {
		t.Fatalf("new.txt = %q", b)
	}
	if _, err := os.Stat(filepath.Join(root, "gone.txt")); err == nil {
		t.Fatal("gone.txt survived")
	}
	if summary != "M a.txt\nA dir/new.txt\nD gone.txt" {
		t.Fatalf("summary %q", summary)
	}
}

func TestApplyPatchIsAllOrNothing(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "a.txt"), []byte("one\n"), 0o644)
	for name, patch := range map[string]string{
		"a hunk that does not match": "*** Begin Patch\n*** Add File: b.txt\n+b\n*** Update File: a.txt\n@@\n-nope\n+x\n*** End Patch",
		"a path outside":             "*** Begin Patch\n*** Add File: b.txt\n+b\n*** Add File: ../escape.txt\n+x\n*** End Patch",
		"a missing file":             "*** Begin Patch\n*** Add File: b.txt\n+b\n*** Delete File: missing.txt\n*** End Patch",
		"no envelope":                "*** Add File: b.txt\n+b\n",
	} {
		if _, err := ApplyPatch(root, patch); err == nil {
			t.Errorf("%s: applied", name)
		}
		if _, err := os.Stat(filepath.Join(root, "b.txt")); err == nil {
			t.Fatalf("%s: b.txt was written by a patch that failed", name)
		}
		if b, _ := os.ReadFile(filepath.Join(root, "a.txt")); string(b) != "one\n" {
			t.Fatalf("%s: a.txt changed to %q", name, b)
		}
	}
}

func TestInsidePath(t *testing.T) {
	root := t.TempDir()
	os.Symlink("/etc", filepath.Join(root, "etc-link"))
	for _, p := range []string{"../x", "/etc/passwd", "etc-link/passwd"} {
		if _, err := insidePath(root, p); err == nil || !strings.Contains(err.Error(), "outside the workspace") {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := insidePath(root, "new/dir/file.go"); err != nil {
		t.Errorf("a new path inside: %v", err)
	}
}

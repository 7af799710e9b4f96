package tools

import (
	"errors"
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

// TestOutsidePaths: the paths insidePath refused are still refused, now by
// localName's syntax or by the kernel through os.Root.
func TestOutsidePaths(t *testing.T) {
	root := t.TempDir()
	os.Symlink("/etc", filepath.Join(root, "etc-link"))
	for _, p := range []string{"../x", "/etc/passwd", "etc-link/passwd"} {
		if _, err := (&Set{Workspace: root}).readFile(p, 0, 0); err == nil || !strings.Contains(err.Error(), "outside the workspace") {
			t.Errorf("%s: %v", p, err)
		}
	}
	for p, want := range map[string]string{"new/dir/file.go": "new/dir/file.go", ".": ".", "": ".", root + "/a/../b": "b", "a/./b/": "a/b"} {
		if got, err := localName(root, p); err != nil || got != filepath.FromSlash(want) {
			t.Errorf("localName(%q) = %q, %v; want %q", p, got, err, want)
		}
	}
}

// TestApplyPatchRollsBack fails the second file's rename, after the first
// was already in place: the first must be put back as it was.
func TestApplyPatchRollsBack(t *testing.T) {
	for _, tc := range []struct{ name, patch, fail string }{
		{"update then update", "*** Begin Patch\n*** Update File: a.txt\n-one\n+1\n*** Update File: b.txt\n-two\n+2\n*** End Patch", "b.txt"},
		{"add then update", "*** Begin Patch\n*** Add File: new/c.txt\n+c\n*** Update File: b.txt\n-two\n+2\n*** End Patch", "b.txt"},
		{"delete then add", "*** Begin Patch\n*** Delete File: a.txt\n*** Add File: d.txt\n+d\n*** End Patch", "d.txt"},
		{"update then delete", "*** Begin Patch\n*** Update File: a.txt\n-one\n+1\n*** Delete File: b.txt\n*** End Patch", "b.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			os.WriteFile(filepath.Join(root, "a.txt"), []byte("one\n"), 0o600)
			os.WriteFile(filepath.Join(root, "b.txt"), []byte("two\n"), 0o644)
			beforeRename = func(target string) error {
				if filepath.Base(target) == tc.fail {
					return errors.New("injected failure")
				}
				return nil
			}
			defer func() { beforeRename = func(string) error { return nil } }()
			if _, err := ApplyPatch(root, tc.patch); err == nil || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("want the injected failure, got %v", err)
			}
			var names []string
			entries, _ := os.ReadDir(root)
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if strings.Join(names, " ") != "a.txt b.txt" {
				t.Errorf("the workspace holds %v after a failed patch, want only a.txt and b.txt", names)
			}
			for name, want := range map[string]string{"a.txt": "one\n", "b.txt": "two\n"} {
				if b, _ := os.ReadFile(filepath.Join(root, name)); string(b) != want {
					t.Errorf("%s = %q after a failed patch, want %q", name, b, want)
				}
			}
			if st, _ := os.Stat(filepath.Join(root, "a.txt")); st == nil || st.Mode().Perm() != 0o600 {
				t.Errorf("a.txt lost its mode: %v", st)
			}
		})
	}
}

func TestApplyPatchRefusesAnAmbiguousHunk(t *testing.T) {
	root := t.TempDir()
	orig := "func a() {\n\treturn nil\n}\n\nfunc b() {\n\treturn nil\n}\n"
	os.WriteFile(filepath.Join(root, "x.go"), []byte(orig), 0o644)
	_, err := ApplyPatch(root, "*** Begin Patch\n*** Update File: x.go\n@@\n-\treturn nil\n+\treturn err\n*** End Patch")
	if err == nil || !strings.Contains(err.Error(), "hunk 1 matches 2 places (lines 2 and 6)") || !strings.Contains(err.Error(), "add context lines") {
		t.Fatalf("want an ambiguous hunk refused with advice, got %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "x.go")); string(b) != orig {
		t.Fatalf("x.go changed: %q", b)
	}
	// The same change with a context line applies; so does a second hunk
	// that is unique after the first.
	if _, err := ApplyPatch(root, "*** Begin Patch\n*** Update File: x.go\n@@\n func b() {\n-\treturn nil\n+\treturn err\n*** End Patch"); err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyPatch(root, "*** Begin Patch\n*** Update File: x.go\n@@\n func a() {\n-\treturn nil\n+\treturn 1\n@@\n-}\n+} // a\n*** End Patch"); err == nil || !strings.Contains(err.Error(), "hunk 2 matches 2 places (lines 3 and 7)") {
		t.Fatalf("want the second hunk refused as ambiguous after the first, got %v", err)
	}
}

// TestDeleteThenAdd replaces a file in one patch; it keeps its mode, as an
// update would.
func TestDeleteThenAdd(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "run.sh"), []byte("old\n"), 0o750)
	os.Symlink("run.sh", filepath.Join(root, "link"))
	summary, err := ApplyPatch(root, "*** Begin Patch\n*** Delete File: run.sh\n*** Add File: run.sh\n+new\n*** Delete File: link\n*** Add File: link\n+was a link\n*** End Patch")
	if err != nil || summary != "M run.sh\nM link" {
		t.Fatalf("summary %q, %v", summary, err)
	}
	if st, _ := os.Stat(filepath.Join(root, "run.sh")); st == nil || st.Mode().Perm() != 0o750 {
		t.Errorf("run.sh lost its mode: %v", st)
	}
	if st, _ := os.Lstat(filepath.Join(root, "link")); st == nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o644 {
		t.Errorf("link is not a new regular file: %v", st)
	}
}

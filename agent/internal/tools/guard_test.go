package tools

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// gitWorkspace is a workspace holding a repository's .git, with a link a
// sandboxed command could plant into it.
func gitWorkspace(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(ws, ".git", "hooks"), 0o755))
	must(t, os.WriteFile(filepath.Join(ws, ".git", "config"), []byte("[core]\n"), 0o644))
	must(t, os.Symlink(".git/hooks", filepath.Join(ws, "h")))
	must(t, os.Symlink(".git/config", filepath.Join(ws, "cfg")))
	must(t, os.MkdirAll(filepath.Join(ws, "vendor", "lib", ".git", "hooks"), 0o755))
	return ws
}

// apply_patch runs outside the sandbox, so the sandbox's read-only .git
// does not stop it: it refuses by itself, through any link.
func TestApplyPatchKeepsOutOfGit(t *testing.T) {
	for _, tc := range []struct{ name, patch string }{
		{"add a hook", addFile(".git/hooks/pre-commit", "touch /tmp/pwned")},
		{"add a hook through a directory link", addFile("h/pre-commit", "touch /tmp/pwned")},
		{"a new directory in .git", addFile(".git/info2/x", "y")},
		{"update the config through a file link", "*** Begin Patch\n*** Update File: cfg\n [core]\n+\tfsmonitor = touch /tmp/pwned\n*** End Patch"},
		{"update the config", "*** Begin Patch\n*** Update File: .git/config\n [core]\n+\thooksPath = /tmp\n*** End Patch"},
		{"delete the config", "*** Begin Patch\n*** Delete File: .git/config\n*** End Patch"},
		{"a good file first, then the hook", "*** Begin Patch\n*** Add File: fine.txt\n+ok\n*** Add File: h/post-checkout\n+x\n*** End Patch"},
		{"a nested repository's hook", addFile("vendor/lib/.git/hooks/pre-commit", "touch /tmp/pwned")},
		{"a new directory through a link into .git", addFile("h/newdir/x", "y")},
		{"a repository made since", addFile("new/.git/config", "[core]")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := gitWorkspace(t)
			_, err := ApplyPatch(ws, tc.patch)
			if err == nil || !strings.Contains(err.Error(), "stays read-only") {
				t.Fatalf("err = %v, want a refusal naming the read-only .git", err)
			}
			for _, hooks := range []string{".git/hooks", "vendor/lib/.git/hooks"} {
				if entries, _ := os.ReadDir(filepath.Join(ws, hooks)); len(entries) != 0 {
					t.Fatalf("%s was written: %v", hooks, entries)
				}
			}
			if _, err := os.Stat(filepath.Join(ws, "new", ".git")); err == nil {
				t.Fatal("a .git was made")
			}
			if b, _ := os.ReadFile(filepath.Join(ws, ".git", "config")); string(b) != "[core]\n" {
				t.Fatalf(".git/config changed: %q", b)
			}
			if _, err := os.Stat(filepath.Join(ws, "fine.txt")); err == nil {
				t.Fatal("a refused patch must change nothing, fine.txt included")
			}
		})
	}
	// Everything else in the workspace is still the model's to change.
	ws := gitWorkspace(t)
	if _, err := ApplyPatch(ws, addFile("src/git.go", "package git")); err != nil {
		t.Fatal(err)
	}
}

// A command flips a directory between a real one and a link into .git
// while patches are applied through it: none may ever land in .git.
func TestApplyPatchGitSwapRace(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux tells which directory an open handle is; elsewhere the check is by name")
	}
	ws := gitWorkspace(t)
	d := filepath.Join(ws, "d")
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			os.RemoveAll(d)
			os.Mkdir(d, 0o755)
			os.RemoveAll(d)
			os.Symlink(".git/hooks", d)
		}
	}()
	for i := 0; i < 300; i++ {
		ApplyPatch(ws, addFile("d/pre-commit", "touch /tmp/pwned"))
	}
	stop.Store(true)
	<-done
	if entries, _ := os.ReadDir(filepath.Join(ws, ".git", "hooks")); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("a patch landed in .git/hooks: %v", names)
	}
}

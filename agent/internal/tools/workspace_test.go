package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// planted is a workspace as a sandboxed command can leave it, beside a
// directory outside it that nothing may touch.
type planted struct {
	ws, outside string
	secret      string // a file outside, as ~/.bashrc would be
}

const secretText = "export SECRET=1\n"

func plant(t *testing.T) planted {
	t.Helper()
	p := planted{ws: t.TempDir(), outside: t.TempDir()}
	p.secret = filepath.Join(p.outside, "bashrc")
	must(t, os.WriteFile(p.secret, []byte(secretText), 0o644))
	must(t, os.WriteFile(filepath.Join(p.ws, "ok.txt"), []byte("one\n"), 0o644))
	must(t, os.Mkdir(filepath.Join(p.ws, "real"), 0o755))
	must(t, os.WriteFile(filepath.Join(p.ws, "real", "target.txt"), []byte("inside\n"), 0o644))
	return p
}

// untouched fails the test if anything outside the workspace changed.
func (p planted) untouched(t *testing.T) {
	t.Helper()
	if b, err := os.ReadFile(p.secret); err != nil || string(b) != secretText {
		t.Fatalf("the file outside the workspace changed: %q, %v", b, err)
	}
	entries, _ := os.ReadDir(p.outside)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files appeared outside the workspace: %v", names)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func addFile(path, line string) string {
	return "*** Begin Patch\n*** Add File: " + path + "\n+" + line + "\n*** End Patch"
}

func TestApplyPatchStaysInTheWorkspace(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, p planted)
		patch func(p planted) string
		ok    bool   // the patch applies (inside the workspace)
		check string // for ok: a file in the workspace that must hold "pwned\n"
	}{
		{
			// The red-team finding: tern's own temporary was a fixed name.
			name: "a symlink at the temporary name",
			setup: func(t *testing.T, p planted) {
				must(t, os.Symlink(p.secret, filepath.Join(p.ws, "notes.md.tern-patch")))
			},
			patch: func(planted) string { return addFile("notes.md", "pwned") },
			ok:    true, check: "notes.md",
		},
		{
			name:  "a symlink at the temporary name of an update",
			setup: func(t *testing.T, p planted) { must(t, os.Symlink(p.secret, filepath.Join(p.ws, "ok.txt.tern-patch"))) },
			patch: func(planted) string {
				return "*** Begin Patch\n*** Update File: ok.txt\n-one\n+pwned\n*** End Patch"
			},
			ok: true, check: "ok.txt",
		},
		{
			name:  "a symlink to outside at the target (add)",
			setup: func(t *testing.T, p planted) { must(t, os.Symlink(p.secret, filepath.Join(p.ws, "notes.md"))) },
			patch: func(planted) string { return addFile("notes.md", "pwned") },
		},
		{
			name:  "a symlink to outside at the target (update)",
			setup: func(t *testing.T, p planted) { must(t, os.Symlink(p.secret, filepath.Join(p.ws, "notes.md"))) },
			patch: func(planted) string {
				return "*** Begin Patch\n*** Update File: notes.md\n-export SECRET=1\n+pwned\n*** End Patch"
			},
		},
		{
			name: "a relative symlink to outside at the target",
			setup: func(t *testing.T, p planted) {
				must(t, os.Symlink("../../../../../../../.."+p.secret, filepath.Join(p.ws, "notes.md")))
			},
			patch: func(planted) string {
				return "*** Begin Patch\n*** Update File: notes.md\n-export SECRET=1\n+pwned\n*** End Patch"
			},
		},
		{
			name:  "a directory symlink to outside in the path (add)",
			setup: func(t *testing.T, p planted) { must(t, os.Symlink(p.outside, filepath.Join(p.ws, "sub"))) },
			patch: func(planted) string { return addFile("sub/new.txt", "pwned") },
		},
		{
			name:  "a directory symlink to outside in the path (update)",
			setup: func(t *testing.T, p planted) { must(t, os.Symlink(p.outside, filepath.Join(p.ws, "sub"))) },
			patch: func(planted) string {
				return "*** Begin Patch\n*** Update File: sub/bashrc\n-export SECRET=1\n+pwned\n*** End Patch"
			},
		},
		{
			name:  "a directory symlink to outside in the path (delete)",
			setup: func(t *testing.T, p planted) { must(t, os.Symlink(p.outside, filepath.Join(p.ws, "sub"))) },
			patch: func(planted) string { return "*** Begin Patch\n*** Delete File: sub/bashrc\n*** End Patch" },
		},
		{
			name:  "a directory symlink to outside, deeper",
			setup: func(t *testing.T, p planted) { must(t, os.Symlink(p.outside, filepath.Join(p.ws, "real", "up"))) },
			patch: func(planted) string { return addFile("real/up/a/b.txt", "pwned") },
		},
		{
			name:  "..",
			patch: func(p planted) string { return addFile("../"+filepath.Base(p.outside)+"/x.txt", "pwned") },
		},
		{
			name:  ".. inside a path",
			patch: func(p planted) string { return addFile("real/../../"+filepath.Base(p.outside)+"/x.txt", "pwned") },
		},
		{
			name:  "an absolute path outside",
			patch: func(p planted) string { return addFile(filepath.Join(p.outside, "x.txt"), "pwned") },
		},
		{
			name:  "an absolute path inside",
			patch: func(p planted) string { return addFile(filepath.Join(p.ws, "abs.txt"), "pwned") },
			ok:    true, check: "abs.txt",
		},
		{
			// A link that stays inside is followed: the file it names is patched.
			name:  "a symlink inside pointing inside",
			setup: func(t *testing.T, p planted) { must(t, os.Symlink("real/target.txt", filepath.Join(p.ws, "link.txt"))) },
			patch: func(planted) string {
				return "*** Begin Patch\n*** Update File: link.txt\n-inside\n+pwned\n*** End Patch"
			},
			ok: true, check: "real/target.txt",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := plant(t)
			if tc.setup != nil {
				tc.setup(t, p)
			}
			_, err := ApplyPatch(p.ws, tc.patch(p))
			p.untouched(t)
			if tc.ok {
				if err != nil {
					t.Fatalf("a patch inside the workspace failed: %v", err)
				}
				if b, _ := os.ReadFile(filepath.Join(p.ws, tc.check)); string(b) != "pwned\n" {
					t.Fatalf("%s = %q after the patch", tc.check, b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "outside the workspace") {
				t.Fatalf("want a refusal naming the workspace, got %v", err)
			}
		})
	}
}

func TestAnInsideSymlinkStaysASymlink(t *testing.T) {
	p := plant(t)
	link := filepath.Join(p.ws, "link.txt")
	must(t, os.Symlink("real/target.txt", link))
	if _, err := ApplyPatch(p.ws, "*** Begin Patch\n*** Update File: link.txt\n-inside\n+changed\n*** End Patch"); err != nil {
		t.Fatal(err)
	}
	if dest, err := os.Readlink(link); err != nil || dest != "real/target.txt" {
		t.Fatalf("the link was replaced: %q, %v", dest, err)
	}
}

func TestReadAndListStayInTheWorkspace(t *testing.T) {
	p := plant(t)
	must(t, os.Symlink(p.secret, filepath.Join(p.ws, "secret-link")))
	must(t, os.Symlink(p.outside, filepath.Join(p.ws, "outside-link")))
	must(t, os.Symlink("/etc", filepath.Join(p.ws, "etc-link")))
	must(t, os.Symlink("real/target.txt", filepath.Join(p.ws, "inside-link")))
	s := &Set{Workspace: p.ws}
	call := func(tool, path string) (string, error) {
		args, _ := json.Marshal(map[string]string{"path": path})
		return s.Call(context.Background(), tool, args)
	}
	for _, tc := range []struct{ tool, path string }{
		{"read_file", "secret-link"},
		{"read_file", "outside-link/bashrc"},
		{"read_file", "etc-link/passwd"},
		{"read_file", "/etc/passwd"},
		{"read_file", "../" + filepath.Base(p.outside) + "/bashrc"},
		{"read_file", p.secret},
		{"list_dir", "outside-link"},
		{"list_dir", "etc-link"},
		{"list_dir", ".."},
		{"list_dir", "/etc"},
	} {
		out, err := call(tc.tool, tc.path)
		if err == nil || !strings.Contains(err.Error(), "outside the workspace") {
			t.Errorf("%s %s: want a refusal naming the workspace, got %q, %v", tc.tool, tc.path, out, err)
		}
	}
	if out, err := call("read_file", "inside-link"); err != nil || out != "inside\n" {
		t.Errorf("read_file of a link inside the workspace: %q, %v", out, err)
	}
	if out, err := call("read_file", filepath.Join(p.ws, "ok.txt")); err != nil || out != "one\n" {
		t.Errorf("read_file of an absolute path inside: %q, %v", out, err)
	}
	if out, err := call("list_dir", ""); err != nil || !strings.Contains(out, "real/") {
		t.Errorf("list_dir of the workspace: %q, %v", out, err)
	}
}

// TestSymlinkSwapRace flips a directory of the workspace between a real
// directory and a symlink to outside while patches and reads run through
// it: a check of the path followed by a write would lose this race.
func TestSymlinkSwapRace(t *testing.T) {
	p := plant(t)
	sub, stash := filepath.Join(p.ws, "sub"), filepath.Join(p.ws, "stash")
	must(t, os.Mkdir(sub, 0o755))
	must(t, os.WriteFile(filepath.Join(sub, "bashrc"), []byte("inside\n"), 0o644))

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			os.RemoveAll(stash)
			os.Rename(sub, stash)
			os.Symlink(p.outside, sub)
			os.RemoveAll(sub) // the link, or a directory a patch made
			os.Rename(stash, sub)
		}
	}()
	s := &Set{Workspace: p.ws}
	var applied, refused int
	for i := range 500 {
		if _, err := ApplyPatch(p.ws, addFile(fmt.Sprintf("sub/new-%d.txt", i), "pwned")); err == nil {
			applied++
		} else if strings.Contains(err.Error(), "outside the workspace") {
			refused++
		}
		ApplyPatch(p.ws, "*** Begin Patch\n*** Update File: sub/bashrc\n-export SECRET=1\n+pwned\n*** End Patch")
		args, _ := json.Marshal(map[string]string{"path": "sub/bashrc"})
		if out, _ := s.Call(context.Background(), "read_file", args); strings.Contains(out, "SECRET") {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("read_file returned a file outside the workspace: %q", out)
		}
	}
	stop.Store(true)
	wg.Wait()
	p.untouched(t)
	t.Logf("%d patches applied, %d refused as outside", applied, refused)
}

//go:build !windows

package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/agent/internal/helperbin"
)

// Each of tern's files is found in the writable root it lies in, however
// the path to it or to the root is spelt: through a linked directory, or as
// a link inside the root that points out of it (which a command can still
// replace).
func TestExposedInNamesTheRootEachFileLiesIn(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ws, other, outside := filepath.Join(base, "ws"), filepath.Join(base, "other"), filepath.Join(base, "outside")
	for _, d := range []string{ws, other, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	wsLink := filepath.Join(base, "ws-link") // a home directory through a symlink
	must(t, os.Symlink(ws, wsLink))
	global := filepath.Join(outside, "tern")
	must(t, os.WriteFile(global, nil, 0o755))
	binLink := filepath.Join(ws, "tern-link") // a bin link in the workspace to a global tern
	must(t, os.Symlink(global, binLink))
	must(t, os.WriteFile(filepath.Join(other, "tern"), nil, 0o755))
	outsideLink := filepath.Join(outside, "tern-link") // a link outside to a tern inside
	must(t, os.Symlink(filepath.Join(other, "tern"), outsideLink))

	roots := []string{ws, other}
	for _, c := range []struct {
		path, root string
	}{
		{filepath.Join(ws, "tern"), ws},
		{filepath.Join(wsLink, "tern"), ws},
		{filepath.Join(wsLink, "tern-link"), ws},
		{binLink, ws},
		{outsideLink, other},
		{global, ""},
		{base, ""},
	} {
		got := ExposedIn([]OwnFile{{What: "x", Path: c.path}}, roots)
		switch {
		case c.root == "" && len(got) != 0:
			t.Errorf("%s: exposed in %s, want in no writable root", c.path, got[0].Root)
		case c.root != "" && (len(got) != 1 || got[0].Root != c.root):
			t.Errorf("%s: exposed %v, want in %s", c.path, got, c.root)
		}
	}
}

// The npm launcher spawns the binary by its real path; the launcher lies in
// the binary's first node_modules, whichever layout put it there.
func TestLauncherTreeIsTheBinarysFirstNodeModules(t *testing.T) {
	for exe, want := range map[string]string{
		"/p/node_modules/@s/cli-linux-x64/bin/tern":                                           "/p/node_modules",
		"/p/node_modules/.pnpm/@s+cli-linux-x64@1.0.0/node_modules/@s/cli-linux-x64/bin/tern": "/p/node_modules",
		"/p/node_modules/@s/cli/vendor/@s/cli-linux-x64/bin/tern":                             "/p/node_modules",
		"/usr/local/lib/node_modules/@s/cli-linux-x64/bin/tern":                               "/usr/local/lib/node_modules",
		"/home/u/go/bin/tern":              "",
		"/p/my_node_modules_copy/bin/tern": "",
	} {
		if got := launcherTree(exe); got != want {
			t.Errorf("launcherTree(%s) = %q, want %q", exe, got, want)
		}
	}
}

// The path tern was started through: a path as given, made absolute, or a
// name found on PATH as the shell found it.
func TestInvokedAs(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "tern-x"), nil, 0o755))
	t.Setenv("PATH", dir)
	if got := invokedAs("tern-x"); got != filepath.Join(dir, "tern-x") {
		t.Errorf("invokedAs(tern-x) = %q, want the PATH entry", got)
	}
	t.Chdir(dir)
	if got := invokedAs("./tern-x"); got != filepath.Join(dir, "tern-x") {
		t.Errorf("invokedAs(./tern-x) = %q, want it absolute", got)
	}
	if got := invokedAs("not-on-path"); got != "" {
		t.Errorf("invokedAs(not-on-path) = %q, want none", got)
	}
}

// One line with every file, its root and the remedy; nothing when no file
// is in reach, or in a sandbox that writes nowhere (read-only).
func TestWarnExposedSaysItOnceOrNotAtAll(t *testing.T) {
	ws := t.TempDir()
	bwrap := helperbin.Helper{Name: "bwrap", Path: filepath.Join(ws, "libexec", "tern", "bwrap")}
	files := []OwnFile{{What: "tern's executable", Path: filepath.Join(ws, "bin", "tern")}, {What: "the bwrap tern runs", Path: bwrap.Path}}
	var out bytes.Buffer
	WarnExposed(&out, files, []string{ws})
	line := out.String()
	if strings.Count(line, "\n") != 1 || !strings.HasPrefix(line, "tern: warning: ") {
		t.Fatalf("want one warning line, got %q", line)
	}
	for _, want := range []string{"in the writable root " + ws + ": " + files[0].Path + " (tern's executable), " + bwrap.Path + " (the bwrap tern runs)",
		"could replace them", "install tern outside the workspace", "--cd"} {
		if !strings.Contains(line, want) {
			t.Errorf("the warning does not say %q:\n%s", want, line)
		}
	}
	for _, roots := range [][]string{nil, {t.TempDir()}} {
		out.Reset()
		WarnExposed(&out, files, roots)
		if out.Len() != 0 {
			t.Errorf("roots %v: warned %q, want nothing", roots, out.String())
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

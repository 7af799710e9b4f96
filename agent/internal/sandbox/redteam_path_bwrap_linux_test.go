package sandbox

// Red team: where tern ships no bwrap of its own (go install, a distro
// package), it takes bwrap from PATH, and runs it outside any sandbox: its
// --version, then the trial start. A directory on PATH inside the
// workspace (an activated .venv/bin, node_modules/.bin under npm run,
// direnv's PATH_add) let a sandboxed command plant a bwrap there that the
// next tern ran unsandboxed, and used as its sandbox from then on.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// plantBwrap writes dir/bwrap, which leaves marker when it runs and
// claims to be a bubblewrap recent enough.
func plantBwrap(t *testing.T, dir, marker string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nid > " + marker + "\necho bubblewrap 0.9.0\n"
	if err := os.WriteFile(filepath.Join(dir, "bwrap"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// As tern starts in the workspace: the next session, as root and as a
// user, must pass over the planted bwrap and take the system's.
func TestRedteamABwrapPlantedOnPATHIsNeverRun(t *testing.T) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Fatalf("bwrap is not installed; `make test` installs Debian's bubblewrap: %v", err)
	}
	for _, r := range fallbackRunners(t) {
		t.Run(r.name, func(t *testing.T) {
			spec, outside := install(t, r, 0o755)
			// No bwrap shipped beside tern: PATH decides.
			os.RemoveAll(filepath.Join(filepath.Dir(filepath.Dir(spec.Exe)), "libexec"))
			spec.BwrapSHA256 = ""
			venv := filepath.Join(spec.Workspace, ".venv", "bin")
			marker := filepath.Join(outside, "ran-outside-the-sandbox")
			plantBwrap(t, venv, marker)
			spec.Argv = []string{"/bin/true"}
			raw, err := json.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(spec.Exe)
			cmd.Dir = spec.Workspace
			cmd.Env = []string{"PATH=" + venv + ":/usr/bin:/bin", "HOME=" + spec.Workspace, envFallbackChild + "=" + string(raw)}
			if r.cred != nil {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
				if err := os.Chown(outside, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
					t.Fatal(err)
				}
			}
			out, _ := cmd.CombinedOutput()
			if b, err := os.ReadFile(marker); err == nil {
				t.Fatalf("tern ran the bwrap a sandboxed command planted in %s, outside the sandbox (%s):\n%s", venv, strings.TrimSpace(string(b)), out)
			}
			if !strings.Contains(string(out), "backend: bwrap\n") {
				t.Errorf("tern did not take the system's bwrap after passing over the planted one:\n%s", out)
			}
		})
	}
}

// A workspace other than the current directory (--cd): its policy, made
// before the probe as the CLI makes it, puts it out of reach too.
func TestRedteamABwrapPlantedInAnotherWorkspaceIsNeverRun(t *testing.T) {
	ws, outside := t.TempDir(), t.TempDir()
	venv := filepath.Join(ws, ".venv", "bin")
	marker := filepath.Join(outside, "ran-outside-the-sandbox")
	plantBwrap(t, venv, marker)
	t.Setenv("PATH", venv+":/usr/bin:/bin")
	t.Setenv("TERN_BWRAP", "")
	if _, err := NewPolicy(WorkspaceWrite, ws, nil, false); err != nil {
		t.Fatal(err)
	}
	b, passed, err := FindBwrap()
	if _, ran := os.Stat(marker); ran == nil {
		t.Fatalf("FindBwrap ran the bwrap planted in %s", venv)
	}
	if err == nil && strings.HasPrefix(b.Path, ws) {
		t.Fatalf("FindBwrap chose the planted %s", b.Path)
	}
	if len(passed) != 1 || passed[0] != filepath.Join(venv, "bwrap") {
		t.Errorf("passed over %v, want the planted bwrap", passed)
	}
}

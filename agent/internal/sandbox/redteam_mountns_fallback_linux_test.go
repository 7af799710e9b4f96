package sandbox

// Red team: where Landlock stands in for a bwrap that cannot be executed
// (mode 0744 for a user, a noexec mount for root), nothing stops a mount
// namespace, yet tern used to assume one would be refused too: .git stayed
// writable, with a warning that "this host refuses" it, and a hook planted
// there runs outside any sandbox at the user's next git command. The
// fallback must keep .git read-only wherever a mount namespace can be had.

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRedteamTheFallbackKeepsGitReadOnlyWhereMountsWork(t *testing.T) {
	needLandlockNet(t)
	for _, r := range fallbackRunners(t) {
		t.Run(r.name, func(t *testing.T) {
			mode, argv := os.FileMode(0o744), []string(nil) // a user may not execute root's 0744 bwrap
			if r.cred == nil {
				if _, err := exec.LookPath("unshare"); err != nil {
					t.Skipf("unshare (util-linux) is missing, so no noexec mount can be made: %v", err)
				}
				mode = 0o755
			}
			spec, _ := install(t, r, mode)
			if r.cred == nil {
				// Root may execute any file with an execute bit: its bwrap
				// lies on a noexec tmpfs instead.
				libexec := filepath.Join(filepath.Dir(filepath.Dir(spec.Exe)), "libexec")
				script := `set -e; cp -a "$1/tern/bwrap" /var/tmp/.tern-bwrap-$$; mount -t tmpfs -o noexec,mode=755 tern-noexec "$1"; ` +
					`mkdir -m 755 "$1/tern"; cp -a /var/tmp/.tern-bwrap-$$ "$1/tern/bwrap"; rm /var/tmp/.tern-bwrap-$$; exec "$2"`
				argv = []string{"unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", libexec, spec.Exe}
			} else {
				argv = []string{spec.Exe}
			}
			hooks := filepath.Join(spec.Workspace, ".git", "hooks")
			if err := os.MkdirAll(hooks, 0o755); err != nil {
				t.Fatal(err)
			}
			if r.cred != nil {
				for _, d := range []string{filepath.Dir(hooks), hooks} {
					if err := os.Chown(d, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
						t.Fatal(err)
					}
				}
			}
			hook := filepath.Join(hooks, "post-checkout")
			spec.Argv = []string{"/bin/sh", "-c", "echo in > inside; printf '#!/bin/sh\\necho escaped\\n' > " + hook}
			raw, err := json.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Dir = spec.Workspace
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + spec.Workspace, envFallbackChild + "=" + string(raw)}
			if r.cred != nil {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
			}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			cmd.Run()
			if !strings.Contains(out.String(), "backend: landlock\n") {
				t.Fatalf("tern did not fall back to Landlock, so this test proves nothing here:\n%s", out.String())
			}
			if b, err := os.ReadFile(filepath.Join(spec.Workspace, "inside")); err != nil || string(b) != "in\n" {
				t.Fatalf("the command did not run: %q, %v\n%s", b, err, out.String())
			}
			if _, err := os.Stat(hook); err == nil {
				t.Errorf("the fallback left .git writable where a mount namespace works: the command planted %s\n%s", hook, out.String())
			}
			if strings.Contains(out.String(), "stay writable") {
				t.Errorf("tern warns that .git stays writable where a mount namespace works:\n%s", out.String())
			}
		})
	}
}

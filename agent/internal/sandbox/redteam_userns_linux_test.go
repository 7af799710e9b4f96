package sandbox

// Red team: a sandboxed command may not create user namespaces, under
// either backend, as root or as a user. It needs none; each one counts
// against its user's quota on the host, and a command holding the whole
// quota made every tern this user started meanwhile lose bwrap (see
// redteam_userns_quota_linux_test.go); and user namespaces are the door to
// most of the kernel a sandbox keeps shut (mounts, netfilter, BPF).

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// madeUserNS is what the probe prints when the kernel gave it a user
// namespace; python's os.unshare is not there before 3.12, so unshare(1).
const madeUserNS = "USERNS-MADE"

var userNSProbe = []string{"/bin/sh", "-c", "unshare --user true && echo " + madeUserNS + "; " +
	// clone3 is refused as missing, so that glibc falls back to clone.
	"unshare --user --fork true && echo " + madeUserNS + "-fork; echo done"}

func TestRedteamNoUserNamespacesInTheSandbox(t *testing.T) {
	needLandlockNet(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skipf("unshare (util-linux) is missing: %v", err)
	}
	for _, r := range fallbackRunners(t) {
		for _, backend := range []Backend{Bubblewrap, Landlock} {
			t.Run(r.name+"/"+string(backend), func(t *testing.T) {
				var out string
				if r.cred == nil {
					out = runAsRoot(t, backend, userNSProbe)
				} else {
					out = runAsUser(t, r, backend, userNSProbe)
				}
				if !strings.Contains(out, "done") {
					t.Fatalf("the probe did not run:\n%s", out)
				}
				if strings.Contains(out, madeUserNS) {
					t.Errorf("the command created a user namespace under %s:\n%s", backend, out)
				}
			})
		}
	}
}

// runAsRoot runs argv in a workspace-write sandbox of this process, with
// the backend asked for.
func runAsRoot(t *testing.T, backend Backend, argv []string) string {
	t.Helper()
	policy, err := NewPolicy(WorkspaceWrite, t.TempDir(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	host := Probe()
	plan, err := host.Plan(policy)
	if err != nil {
		t.Fatal(err)
	}
	if backend == Landlock {
		plan = Plan{Backend: Landlock, LandlockABI: host.LandlockABI, MountNS: true}
	}
	if plan.Backend != backend {
		t.Skipf("this host plans %s, not %s", plan.Backend, backend)
	}
	var out bytes.Buffer
	if _, err := plan.Run(context.Background(), policy, Command{Argv: argv, Stdout: &out, Stderr: &out}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return out.String()
}

// runAsUser runs argv as r through a tern installed with a bwrap that r
// may execute (bwrap) or not (Landlock stands in).
func runAsUser(t *testing.T, r fallbackRunner, backend Backend, argv []string) string {
	t.Helper()
	mode := os.FileMode(0o755)
	if backend == Landlock {
		mode = 0o744
	}
	spec, _ := install(t, r, mode)
	spec.Argv = argv
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(spec.Exe)
	cmd.Dir = spec.Workspace
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + spec.Workspace, envFallbackChild + "=" + string(raw)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
	b, _ := cmd.CombinedOutput()
	out := string(b)
	if !strings.Contains(out, "backend: "+string(backend)+"\n") {
		t.Fatalf("tern did not plan %s:\n%s", backend, out)
	}
	return out
}

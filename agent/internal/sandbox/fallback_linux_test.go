package sandbox

// A bwrap that is found but cannot start a sandbox, as in a container, must
// hand over to Landlock with one warning, and Landlock must then confine.
// Both failures are made for real: tern runs inside an outer bwrap that
// forbids new namespaces (as Docker's defaults do), or its shipped bwrap is
// one the running user may read but not execute through /proc/self/fd.
// Each runs as root and as a throw-away unprivileged user.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tern-agent/tern/agent/internal/helperbin"
	"github.com/tern-agent/tern/agent/internal/testuser"
)

// envFallbackChild makes this test binary play tern: find the shipped bwrap
// beside Exe, plan a workspace-write sandbox and run Argv in it.
const envFallbackChild = "TERN_TEST_FALLBACK_CHILD"

type fallbackSpec struct {
	Exe         string   // where tern pretends to be installed: <root>/bin/tern
	BwrapSHA256 string   // the digest a release build records for the shipped bwrap
	Workspace   string   // the writable workspace
	Argv        []string // the command
}

// runIfFallbackChild plays tern in a process the fallback tests started;
// anywhere else it returns at once.
func runIfFallbackChild() {
	raw, ok := os.LookupEnv(envFallbackChild)
	if !ok {
		return
	}
	os.Unsetenv(envFallbackChild)
	var spec fallbackSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(ExitSandboxFailed)
	}
	// As a release build: bwrap is libexec/tern/bwrap beside bin/tern, its
	// digest is known, so it is executed through /proc/self/fd/N.
	helperbin.System.Executable = func() (string, error) { return spec.Exe, nil }
	helperbin.System.ExpectedSHA256 = func(string) string { return spec.BwrapSHA256 }
	host := Probe()
	policy, err := NewPolicy(WorkspaceWrite, spec.Workspace, nil, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(ExitSandboxFailed)
	}
	plan, err := host.Plan(policy)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(ExitSandboxFailed)
	}
	if host.Bwrap != nil {
		fmt.Fprintf(os.Stderr, "bwrap: %s\n", host.Bwrap.ExecPath())
	}
	fmt.Fprintf(os.Stderr, "backend: %s\n", plan.Backend)
	code, err := plan.Run(context.Background(), policy, Command{Argv: spec.Argv, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// fallbackRunner is who runs tern: root, or an unprivileged user.
type fallbackRunner struct {
	name string
	cred *syscall.Credential // nil: root
}

func fallbackRunners(t *testing.T) []fallbackRunner {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the fallback tests run tern as root and as a throw-away user, which only root can make")
	}
	return []fallbackRunner{{name: "root"}, throwawayUser(t)}
}

// throwawayUser is an unprivileged user made for this test, removed
// afterwards.
func throwawayUser(t *testing.T) fallbackRunner {
	t.Helper()
	return fallbackRunner{name: "user", cred: testuser.Create(t).Credential()}
}

// install lays out a tern tree every user can read, outside /tmp: this test
// binary as bin/tern and the system's bwrap as libexec/tern/bwrap with the
// given mode; a workspace and a directory beside it, both the runner's.
func install(t *testing.T, r fallbackRunner, bwrapMode os.FileMode) (spec fallbackSpec, outside string) {
	t.Helper()
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		t.Fatalf("bwrap is not installed; `make test` installs Debian's bubblewrap: %v", err)
	}
	root, err := os.MkdirTemp("/var/tmp", "tern-fallback-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(root, "bin", "tern")
	copyTo(t, self, exe, 0o755)
	helper := filepath.Join(root, "libexec", "tern", "bwrap")
	copyTo(t, bwrap, helper, bwrapMode)
	sum := sha256.New()
	f, err := os.Open(helper)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(sum, f)
	f.Close()
	ws, outside := filepath.Join(root, "ws"), filepath.Join(root, "outside")
	for _, d := range []string{ws, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if r.cred != nil {
			if err := os.Chown(d, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return fallbackSpec{
		Exe: exe, BwrapSHA256: hex.EncodeToString(sum.Sum(nil)), Workspace: ws,
		Argv: []string{"/bin/sh", "-c", "echo in > inside; echo out > " + filepath.Join(outside, "escaped")},
	}, outside
}

func copyTo(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}

// runFallback runs argv (which ends in the installed tern) as r with the
// child spec, and checks that Landlock took over with one warning naming
// wantWhy, and confined the command: the workspace written, the directory
// beside it not.
func runFallback(t *testing.T, r fallbackRunner, spec fallbackSpec, outside string, argv []string, wantWhy ...string) {
	t.Helper()
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
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("tern did not finish in 60 s; stderr:\n%s", stderr.String())
	}
	out := stderr.String()
	if !strings.Contains(out, "backend: landlock\n") {
		t.Fatalf("tern did not fall back to Landlock; stderr:\n%s", out)
	}
	if n := strings.Count(out, "tern: warning: bwrap"); n != 1 {
		t.Errorf("%d warnings about bwrap, want one; stderr:\n%s", n, out)
	}
	for _, why := range wantWhy {
		if !strings.Contains(out, why) {
			t.Errorf("the warning does not say %q; stderr:\n%s", why, out)
		}
	}
	if cmd.ProcessState.ExitCode() == 0 {
		t.Errorf("writing outside the workspace succeeded under the fallback; stderr:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(spec.Workspace, "inside")); err != nil || string(b) != "in\n" {
		t.Errorf("the workspace was not writable: %q, %v; stderr:\n%s", b, err, out)
	}
	if _, err := os.Stat(filepath.Join(outside, "escaped")); err == nil {
		t.Errorf("the command wrote outside the workspace under the fallback; stderr:\n%s", out)
	}
}

func needLandlockNet(t *testing.T) {
	t.Helper()
	if abi, why := LandlockABI(); abi < landlockNetABI {
		t.Skipf("this kernel has no Landlock ABI %d (abi %d %s): the fallback cannot cut the network here", landlockNetABI, abi, why)
	}
}

// Inside an outer sandbox that may not make namespaces (no capabilities,
// no further user namespaces: a container's defaults), the shipped bwrap
// cannot start: Landlock takes over.
func TestFallbackWhenNamespacesAreRefused(t *testing.T) {
	needLandlockNet(t)
	outer, err := exec.LookPath("bwrap")
	if err != nil {
		t.Fatalf("bwrap is not installed; `make test` installs Debian's bubblewrap: %v", err)
	}
	for _, r := range fallbackRunners(t) {
		t.Run(r.name, func(t *testing.T) {
			spec, outside := install(t, r, 0o755)
			runFallback(t, r, spec, outside,
				[]string{outer, "--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--dev-bind", "/", "/", "--", spec.Exe},
				"tern: warning: bwrap cannot run here (", "failed to start a trivial sandbox", "Creating new namespace failed", "Landlock confines")
		})
	}
}

// A shipped bwrap the running user may read but not execute: its exec
// through /proc/self/fd fails with EACCES, and Landlock takes over. For
// root, which may execute any file with an execute bit, the helper lies on
// a noexec mount instead.
func TestFallbackWhenTheHelperCannotBeExecuted(t *testing.T) {
	needLandlockNet(t)
	for _, r := range fallbackRunners(t) {
		t.Run(r.name, func(t *testing.T) {
			if r.cred != nil {
				spec, outside := install(t, r, 0o744) // root's to execute, readable by all
				runFallback(t, r, spec, outside, []string{spec.Exe},
					"tern: warning: bwrap cannot run here (", "failed to start a trivial sandbox", "/proc/self/fd/", "permission denied")
				return
			}
			if _, err := exec.LookPath("unshare"); err != nil {
				t.Skipf("unshare (util-linux) is missing, so no noexec mount can be made: %v", err)
			}
			spec, outside := install(t, r, 0o755)
			libexec := filepath.Join(filepath.Dir(filepath.Dir(spec.Exe)), "libexec")
			// In a mount namespace of its own, libexec/ becomes a noexec
			// tmpfs holding the same bwrap.
			script := `set -e; cp -a "$1/tern/bwrap" /var/tmp/.tern-bwrap-$$; mount -t tmpfs -o noexec,mode=755 tern-noexec "$1"; ` +
				`mkdir -m 755 "$1/tern"; cp -a /var/tmp/.tern-bwrap-$$ "$1/tern/bwrap"; rm /var/tmp/.tern-bwrap-$$; exec "$2"`
			runFallback(t, r, spec, outside,
				[]string{"unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", libexec, spec.Exe},
				"tern: warning: bwrap cannot run here (", "failed to start a trivial sandbox", "/proc/self/fd/", "permission denied")
		})
	}
}

// Where tern starts with only stdin, stdout and stderr open, as in a
// container, the verified bwrap's file gets descriptor 3, the very slot the
// sandbox's info pipe takes in bwrap's process: bwrap must still be the
// program that runs ("fork/exec /proc/self/fd/3: permission denied" was the
// pipe being executed). The outer bwrap hides /sys, so Go's runtime opens
// no cgroup files there and descriptor 3 is free for the helper; namespaces
// stay allowed, so bwrap itself must run the command.
func TestTheShippedBwrapRunsFromALowDescriptor(t *testing.T) {
	outer, err := exec.LookPath("bwrap")
	if err != nil {
		t.Fatalf("bwrap is not installed; `make test` installs Debian's bubblewrap: %v", err)
	}
	for _, r := range fallbackRunners(t) {
		t.Run(r.name, func(t *testing.T) {
			spec, _ := install(t, r, 0o755)
			spec.Argv = []string{"/bin/sh", "-c", "echo in > inside"}
			raw, err := json.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"--dev-bind", "/", "/", "--tmpfs", "/sys", "--", spec.Exe}
			if r.cred != nil {
				args = append([]string{"--unshare-user"}, args...)
			}
			cmd := exec.Command(outer, args...)
			cmd.Dir = spec.Workspace
			cmd.Env = []string{"PATH=/usr/bin:/bin", envFallbackChild + "=" + string(raw)}
			if r.cred != nil {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
			}
			out, err := cmd.CombinedOutput()
			if !strings.Contains(string(out), "bwrap: /proc/self/fd/3\n") {
				t.Fatalf("the helper is not at descriptor 3, so this test proves nothing here:\n%s", out)
			}
			if err != nil || !strings.Contains(string(out), "backend: bwrap\n") || strings.Contains(string(out), "warning") {
				t.Fatalf("bwrap did not run the command: %v\n%s", err, out)
			}
			if b, err := os.ReadFile(filepath.Join(spec.Workspace, "inside")); err != nil || string(b) != "in\n" {
				t.Errorf("the command did not run: %q, %v\n%s", b, err, out)
			}
		})
	}
}

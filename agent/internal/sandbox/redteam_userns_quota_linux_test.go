package sandbox

// Red team: a command in one tern session must not buy the next session a
// weaker sandbox. Under bwrap an unprivileged user's command may create user
// namespaces, and each one counts against that user's quota
// (user.max_user_namespaces, ENOSPC past it) in every ancestor namespace, the
// host's included. A command that holds the whole quota (3,000 processes'
// worth of nested namespaces, held by descriptors, takes about a minute) makes
// the bwrap trial start of any tern this user starts meanwhile fail with
// "nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)". tern
// used to read that as "bwrap cannot run here" and fall back to Landlock
// without a mount namespace, where .git is writable: a hook planted there
// runs outside any sandbox at the user's next git checkout.
//
// The test makes the same shortage quickly, in a user namespace that maps
// every uid to itself as the initial one does (so tern cannot tell it from
// the host) and whose quota is userNSQuota: the throw-away user's sleepers
// fill it, then the user starts tern. tern must refuse, naming the cause,
// and write nothing.

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tern-agent/tern/agent/internal/helperbin"
)

func TestRedteamAUserNamespaceShortageIsNoReasonToFallBack(t *testing.T) {
	needLandlockNet(t)
	for _, tool := range []string{"unshare", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s (util-linux) is missing, so no user namespace can be held: %v", tool, err)
		}
	}
	// Root's bwrap makes no user namespace, so only a user's tern can
	// be starved this way.
	if os.Geteuid() != 0 {
		t.Skip("runs tern as a throw-away user, which only root can make")
	}
	r := throwawayUser(t)
	spec, _ := install(t, r, 0o755)
	gitDir := filepath.Join(spec.Workspace, ".git", "hooks")
	if err := os.MkdirAll(gitDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Dir(gitDir), int(r.cred.Uid), int(r.cred.Gid)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(gitDir, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
		t.Fatal(err)
	}
	hook := filepath.Join(gitDir, "post-checkout")
	spec.Argv = []string{"/bin/sh", "-c", "printf '#!/bin/sh\\necho escaped\\n' > " + hook + " && chmod +x " + hook}
	raw, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	// Root sets the quota, then becomes the user; the other session's
	// command: sleepers that fill the quota; then tern, as the user would
	// start it meanwhile.
	script := `echo ` + strconv.Itoa(userNSQuota) + ` > /proc/sys/user/max_user_namespaces || exit 99
exec setpriv --reuid=` + strconv.Itoa(int(r.cred.Uid)) + ` --regid=` + strconv.Itoa(int(r.cred.Gid)) + ` --clear-groups --inh-caps=-all /bin/sh -c '
for i in $(seq ` + strconv.Itoa(userNSQuota) + `); do unshare --user sleep 30 2>/dev/null & held="$held $!"; done
while unshare --user true 2>/dev/null; do sleep 0.05; done
"$1"; code=$?
kill $held 2>/dev/null; exit $code' sh "$1"`
	cmd := exec.Command("/bin/sh", "-c", script, "sh", spec.Exe)
	cmd.Dir = spec.Workspace
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + spec.Workspace, envFallbackChild + "=" + string(raw)}
	everyone := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1<<32 - 1}}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER, UidMappings: everyone, GidMappings: everyone, GidMappingsEnableSetgroups: true}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
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
		t.Fatalf("tern did not finish in 60 s:\n%s", stderr.String())
	}
	out := stderr.String()
	if cmd.ProcessState.ExitCode() == 99 {
		t.Skipf("cannot set a user namespace's quota here:\n%s", out)
	}
	if _, err := os.Stat(hook); err == nil {
		t.Fatalf("a user-namespace shortage made tern fall back to a sandbox where .git is writable, and the command planted %s:\n%s", hook, out)
	}
	if code := cmd.ProcessState.ExitCode(); code != ExitSandboxFailed {
		t.Errorf("exit code %d, want %d (the sandbox refused):\n%s", code, ExitSandboxFailed, out)
	}
	for _, want := range []string{"failed to start a trivial sandbox", "temporary", "max_user_namespaces"} {
		if !strings.Contains(out, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "ENOSPC") && !strings.Contains(out, "No space left on device") {
		t.Errorf("the refusal does not name bwrap's ENOSPC:\n%s", out)
	}
	if strings.Contains(out, "backend: landlock") {
		t.Errorf("tern fell back to Landlock:\n%s", out)
	}
}

// userNSQuota is the quota in the test's user namespace: small enough to
// fill at once.
const userNSQuota = 16

// Which trial failures let tern fall back: the lasting ones only.
func TestRedteamOnlyALastingStartFailureFallsBack(t *testing.T) {
	for _, c := range []struct {
		startErr error
		stderr   string
		lasting  bool
	}{
		{&os.PathError{Op: "fork/exec", Path: "/proc/self/fd/64", Err: syscall.EACCES}, "", true},
		{&os.PathError{Op: "fork/exec", Path: "/proc/self/fd/64", Err: syscall.EAGAIN}, "", false},
		{&os.PathError{Op: "fork/exec", Path: "/proc/self/fd/64", Err: syscall.ENOMEM}, "", false},
		{&exec.ExitError{}, "bwrap: Creating new namespace failed: Operation not permitted", true},
		{&exec.ExitError{}, "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.", true},
		{&exec.ExitError{}, "bwrap: Creating new namespace failed: Resource temporarily unavailable", false},
		{&exec.ExitError{}, "", false}, // killed: the timeout
	} {
		if got := refusedForGood(c.startErr, c.stderr); got != c.lasting {
			t.Errorf("refusedForGood(%v, %q) = %v, want %v", c.startErr, c.stderr, got, c.lasting)
		}
	}
}

func TestRedteamAPassingStartFailureIsRefused(t *testing.T) {
	b := helperbin.Helper{Name: "bwrap", Path: "/usr/bin/bwrap"}
	h := Host{OS: "linux", Bwrap: &b, UserNS: Check{OK: true}, LandlockABI: 6,
		BwrapStartErr: "bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)", BwrapStartPassing: true}
	p := Policy{Mode: WorkspaceWrite, Workspace: "/ws"}
	pl, err := h.Plan(p)
	var u *UnavailableError
	if !errors.As(err, &u) {
		t.Fatalf("a passing bwrap failure planned %s, want a refusal", pl.Backend)
	}
	if !strings.Contains(u.Error(), "temporary") {
		t.Errorf("the refusal does not say the cause is temporary:\n%v", u)
	}
}

package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tern-agent/tern/agent/internal/helperbin"
	"golang.org/x/sys/unix"
)

// runBwrap runs c inside bwrap.
//
// Signals need care. bwrap does not forward them, and the sandbox's init
// (PID 1 of the new PID namespace) ignores every signal it has no handler
// for. But bwrap makes that init the leader of the command's process group,
// so tern signals the group: the init ignores it, the command and its
// children get it. bwrap reports the init's host PID on --info-fd.
func runBwrap(ctx context.Context, bwrap helperbin.Helper, p Policy, c Command) (int, error) {
	infoR, infoW, err := os.Pipe()
	if err != nil {
		return ExitSandboxFailed, err
	}
	defer infoR.Close()

	filter, err := seccompFile(p.AllowNetwork)
	if err != nil {
		infoW.Close()
		return ExitSandboxFailed, err
	}
	defer filter.Close()

	warnLinked(p)
	// ExtraFiles start at descriptor 3.
	setup := bwrapSetup{InfoFD: 3, SeccompFD: 4}
	path, release, err := execPath(bwrap)
	if err != nil {
		infoW.Close()
		return ExitSandboxFailed, err
	}
	defer release()
	cmd := exec.Command(path, bwrapArgs(p, setup, c.Argv)...)
	cmd.Args[0] = "bwrap"
	cmd.Env = c.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	cmd.ExtraFiles = []*os.File{infoW, filter}
	// When the command ends, bwrap's PID 1 ends and the kernel kills every
	// process left in the sandbox's PID namespace, closing the pipes they
	// held; WaitDelay bounds the wait should one stay open anyway.
	cmd.WaitDelay = waitDelay
	// Its own process group keeps a terminal's Ctrl-C from killing bwrap
	// (and with it the command) before tern forwards the signal.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	infoW.Close()
	filter.Close()
	if err != nil {
		return ExitSandboxFailed, fmt.Errorf("starting %s: %w", bwrap.Path, err)
	}

	var sandboxPID atomic.Int64
	reported := make(chan struct{}) // closed once bwrap said the PID, or never will
	go func() {
		defer close(reported)
		var info struct {
			ChildPID int `json:"child-pid"`
		}
		if json.NewDecoder(infoR).Decode(&info) == nil {
			sandboxPID.Store(int64(info.ChildPID))
		}
	}()
	group := func() int {
		if pid := sandboxPID.Load(); pid > 0 {
			return int(pid)
		}
		// Not started yet: signalling bwrap's own group ends it, and
		// --die-with-parent takes the sandbox with it.
		return cmd.Process.Pid
	}
	// Cancelled: kill the sandbox's init, which takes its whole PID
	// namespace with it, and bwrap. A cancel that comes before bwrap has
	// reported the init's PID waits for it: killing bwrap alone then would
	// leave an init that has already left bwrap's process group.
	stop := func() {
		select {
		case <-reported:
		case <-time.After(waitDelay):
		}
		if pid := int(sandboxPID.Load()); pid > 0 {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
	}
	return supervise(ctx, cmd, c, group, stop)
}

// seccompFile is the seccomp filter on a pipe that bwrap reads to its end.
// The program is a few hundred bytes, well within a pipe's buffer.
func seccompFile(allowNetwork bool) (*os.File, error) {
	prog, err := seccompBytes(allowNetwork)
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	_, err = w.Write(prog)
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("passing the seccomp filter to bwrap: %w", err)
	}
	return r, nil
}

// startTrialTimeout bounds the trial start; bwrap takes milliseconds.
const startTrialTimeout = 5 * time.Second

// startsBwrap starts bwrap as runBwrap would (same executable path, same
// namespaces, mounts and seccomp filter, for a read-only policy with the
// network off) around bwrap's own --version: /proc/self/exe inside is bwrap
// itself, so the trial needs no shell or tool in the filesystem (tern's
// container image has none). It returns why bwrap cannot start: its exec
// refused ("fork/exec /proc/self/fd/3: permission denied"), or bwrap's own
// message ("Creating new namespace failed: Operation not permitted").
func startsBwrap(bwrap helperbin.Helper) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTrialTimeout)
	defer cancel()
	infoR, infoW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer infoR.Close()
	filter, err := seccompFile(false)
	if err != nil {
		infoW.Close()
		return err
	}
	defer filter.Close()
	path, release, err := execPath(bwrap)
	if err != nil {
		infoW.Close()
		return err
	}
	defer release()
	trial := Policy{Mode: ReadOnly, Workspace: "/"}
	cmd := exec.CommandContext(ctx, path, bwrapArgs(trial, bwrapSetup{InfoFD: 3, SeccompFD: 4}, []string{"/proc/self/exe", "--version"})...)
	cmd.Args[0] = "bwrap"
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	cmd.ExtraFiles = []*os.File{infoW, filter}
	cmd.WaitDelay = waitDelay
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	infoW.Close()
	filter.Close()
	if err == nil {
		go io.Copy(io.Discard, infoR) // bwrap's JSON; it must not block on it
		err = cmd.Wait()
	}
	if err == nil {
		return nil
	}
	why := strings.TrimSpace(stderr.String())
	if why == "" {
		why = err.Error()
	}
	return &bwrapStartError{
		why:     fmt.Sprintf("%s failed to start a trivial sandbox: %s", bwrap.Path, why),
		lasting: refusedForGood(err, stderr.String()),
	}
}

// bwrapStartError is why the trial start failed, and whether the cause
// lasts. Only a lasting refusal lets tern fall back to Landlock: a
// passing shortage (this user's quota of user namespaces, processes or
// memory, or a start that timed out) can be made on purpose by a command
// sandboxed in another tern session of the same user, which would then
// buy its next session a weaker sandbox.
type bwrapStartError struct {
	why     string
	lasting bool
}

func (e *bwrapStartError) Error() string { return e.why }

// lastingErrnos are the errors that mean this host will never let bwrap
// start: the exec refused, namespaces forbidden, a kernel without them.
// EAGAIN, ENOMEM, EMFILE and a timeout are not among them; ENOSPC (the
// user-namespace quota) is only where tern itself runs in a user namespace
// (see quotaFullForGood).
var lastingErrnos = []syscall.Errno{
	syscall.EPERM, syscall.EACCES, syscall.ENOEXEC, syscall.EINVAL,
	syscall.ENOSYS, syscall.EROFS, syscall.ENOENT, syscall.ENOTDIR,
}

// refusedForGood reports whether a trial start failed for a lasting
// reason: the exec's own errno, or, once bwrap ran, the strerror text in
// its message ("Creating new namespace failed: Operation not permitted").
// A message it does not recognise counts as passing: refusing a command
// is safe, weakening its sandbox is not.
func refusedForGood(startErr error, stderr string) bool {
	var errno syscall.Errno
	if errors.As(startErr, &errno) {
		return slices.Contains(lastingErrnos, errno)
	}
	text := strings.ToLower(stderr)
	for _, e := range lastingErrnos {
		if strings.Contains(text, e.Error()) {
			return true
		}
	}
	// bwrap's own wording where unprivileged user namespaces are off
	// ("No permissions to creating new namespace", sic).
	if strings.Contains(text, "no permissions to creat") {
		return true
	}
	quotaFull := strings.Contains(text, "enospc") || strings.Contains(text, syscall.ENOSPC.Error())
	return quotaFull && quotaFullForGood()
}

// quotaFullForGood says whether a full user-namespace quota (ENOSPC) is
// the host's setting rather than a shortage. In the initial user namespace
// the quota tern is held to is the one UserNSProbe reads, and it is not
// zero, so the namespaces that fill it are held by this user's processes,
// perhaps on purpose by a command in another tern session: passing. In a
// user namespace of its own (a container, an outer sandbox), an ancestor's
// quota tern cannot read may be set full for good, as bwrap's
// --disable-userns does.
func quotaFullForGood() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	return strings.Join(strings.Fields(string(b)), " ") != initialUIDMap
}

// initialUIDMap is /proc/self/uid_map in the initial user namespace.
const initialUIDMap = "0 0 4294967295"

// helperFDFloor is the lowest descriptor execPath moves a helper's file to:
// well above the ExtraFiles slots (3, 4) and the few descriptors Go's
// fork moves out of their way.
const helperFDFloor = 64

// execPath is the path that executes bwrap in a child with ExtraFiles. A shipped helper is executed as its verified open file,
// /proc/self/fd/N, and the kernel resolves that path in the child, after
// the ExtraFiles were moved to descriptors 3, 4 …: were N one of them, the
// child would execute the info pipe instead and fail with "fork/exec
// /proc/self/fd/3: permission denied". That is what happens where tern
// starts with nothing but stdin, stdout and stderr open, as in a container,
// and the helper's file gets descriptor 3. A copy of the descriptor above
// the slots (close-on-exec, so bwrap does not inherit it) is executed
// instead; release closes it once the child has started.
func execPath(bwrap helperbin.Helper) (path string, release func(), err error) {
	path = bwrap.ExecPath()
	fdText, ok := strings.CutPrefix(path, "/proc/self/fd/")
	if !ok {
		return path, func() {}, nil
	}
	fd, err := strconv.Atoi(fdText)
	if err != nil || fd >= helperFDFloor {
		return path, func() {}, nil
	}
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, helperFDFloor)
	if err != nil {
		return "", nil, fmt.Errorf("keeping %s's descriptor clear of the sandbox's: %w", bwrap.Path, err)
	}
	return "/proc/self/fd/" + strconv.Itoa(high), func() { unix.Close(high) }, nil
}

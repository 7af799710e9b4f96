//go:build unix

package sandbox

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// waitDelay bounds how long tern waits for a finished command's output
// pipes to close: a process that escaped every kill and still holds one
// must not hold tern (or a tool call's timeout) hostage.
const waitDelay = 2 * time.Second

func isExecutable(st fs.FileInfo) bool { return st.Mode()&0o111 != 0 }

// supervise waits for cmd, which has been started. Each signal from
// c.Signals goes to the process group that group() names at that moment.
// Cancelling ctx calls stop, which must end cmd; nil stop kills that group
// and cmd itself.
func supervise(ctx context.Context, cmd *exec.Cmd, c Command, group func() int, stop func()) (int, error) {
	if stop == nil {
		stop = func() {
			_ = syscall.Kill(-group(), syscall.SIGKILL)
			_ = cmd.Process.Kill()
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-c.Signals:
			if s, ok := sig.(syscall.Signal); ok {
				_ = syscall.Kill(-group(), s)
			}
		case <-ctx.Done():
			stop()
			<-done
			return exitCode(cmd.ProcessState), ctx.Err()
		case err := <-done:
			var exitErr *exec.ExitError
			if err != nil && !errors.As(err, &exitErr) {
				return ExitSandboxFailed, err
			}
			return exitCode(cmd.ProcessState), nil
		}
	}
}

// exitCode reports a finished process the way a shell does.
func exitCode(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// runDirect runs the command with no sandbox, in a session of its own like
// the sandboxed modes, so that signals reach it exactly once: from tern.
func runDirect(ctx context.Context, p Policy, c Command) (int, error) {
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Dir, cmd.Env = p.Workspace, c.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	cmd.SysProcAttr = sessionAttr()
	cmd.WaitDelay = waitDelay
	if err := cmd.Start(); err != nil {
		return ExitNotExecutable, err
	}
	return supervise(ctx, cmd, c, func() int { return cmd.Process.Pid }, nil)
}

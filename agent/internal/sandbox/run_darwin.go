package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

const sandboxExecPath = "/usr/bin/sandbox-exec"

// Probe looks at what this host offers: on macOS, sandbox-exec.
func Probe() Host {
	h := Host{OS: "darwin"}
	if _, err := os.Stat(sandboxExecPath); err == nil {
		h.SandboxExec = sandboxExecPath
	}
	return h
}

func runSandboxed(ctx context.Context, pl Plan, p Policy, c Command) (int, error) {
	if pl.Backend != SandboxExec {
		return ExitSandboxFailed, errors.New("no sandbox mechanism " + string(pl.Backend) + " on macOS")
	}
	tmp, err := os.MkdirTemp("", "tern-sandbox-")
	if err != nil {
		return ExitSandboxFailed, fmt.Errorf("creating the sandbox's temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	if real, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = real // /var is a link to /private/var; the kernel checks the real path
	}
	warnLinked(p)
	cmd := exec.Command(pl.SandboxExec, seatbeltArgs(p, tmp, p.Protected, c.Argv)...)
	cmd.Dir = p.Workspace
	cmd.Env = withEnv(c.Env, "TMPDIR", tmp)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	cmd.SysProcAttr = sessionAttr()
	if err := cmd.Start(); err != nil {
		return ExitSandboxFailed, fmt.Errorf("starting sandbox-exec: %w", err)
	}
	return supervise(ctx, cmd, c, func() int { return cmd.Process.Pid }, nil)
}

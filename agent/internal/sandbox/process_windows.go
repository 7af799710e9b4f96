package sandbox

import (
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
)

func isExecutable(st fs.FileInfo) bool {
	switch strings.ToLower(filepath.Ext(st.Name())) {
	case ".exe", ".com", ".bat", ".cmd":
		return true
	}
	return false
}

// runDirect runs the command with no sandbox. Windows has no signals to
// forward: Ctrl-C reaches every process on the console by itself.
func runDirect(ctx context.Context, p Policy, c Command) (int, error) {
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Dir, cmd.Env = p.Workspace, c.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil || errors.As(err, &exitErr):
		return cmd.ProcessState.ExitCode(), ctx.Err()
	default:
		return ExitNotExecutable, err
	}
}

// runSandboxed is reached only with a Plan made by hand: Host.Plan refuses
// every sandboxed mode on Windows.
func runSandboxed(_ context.Context, _ Plan, p Policy, _ Command) (int, error) {
	_, err := Host{OS: "windows"}.Plan(p)
	return ExitSandboxFailed, err
}

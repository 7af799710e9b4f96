package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tern-agent/tern/agent/internal/exitcode"
)

// Exit codes of Run's own failures, following the shell and env(1): the
// command's own codes pass through untouched.
const (
	ExitSandboxFailed   = int(exitcode.SandboxFailed) // no sandbox could be set up
	ExitNotExecutable   = int(exitcode.NotExecutable)
	ExitCommandNotFound = int(exitcode.NotFound)
)

// Command is what to run inside the sandbox.
type Command struct {
	Argv   []string
	Env    []string // nil: the current environment
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Signals received here are forwarded to the sandboxed command and every
	// process it started. Cancelling the context kills them all instead.
	Signals <-chan os.Signal
}

// Run runs c under p with the mechanism in pl. It returns the exit code a
// shell would report: the command's own code, or 128+N when signal N killed
// it. A non-nil error means the command did not run to completion for a
// reason of tern's; the code is then 125, 126 or 127.
func (pl Plan) Run(ctx context.Context, p Policy, c Command) (int, error) {
	if len(c.Argv) == 0 {
		return ExitSandboxFailed, errors.New("no command given: put it after --, as in `tern sandbox run -- ls -l`")
	}
	if code, err := checkCommand(c, p.Workspace); err != nil {
		return code, err
	}
	if c.Env == nil {
		c.Env = os.Environ()
	}
	if pl.Backend == NoSandbox {
		if p.Mode != DangerFullAccess {
			// A Plan made by hand, not by Host.Plan: never run unsandboxed by accident.
			return ExitSandboxFailed, fmt.Errorf("refusing to run without a sandbox in %s mode", p.Mode)
		}
		return runDirect(ctx, p, c)
	}
	return runSandboxed(ctx, pl, p, c)
}

// checkCommand finds the command before any sandbox starts, so that a typo
// gets the shell's 127 and a plain message instead of a helper's error.
func checkCommand(c Command, workspace string) (int, error) {
	name := c.Argv[0]
	path := name
	if !strings.Contains(name, "/") {
		pathEnv := envValue(c.Env, "PATH")
		p, err := lookPathIn(name, pathEnv)
		if err != nil {
			if onlyTernOn(pathEnv) {
				return ExitCommandNotFound, fmt.Errorf("%s: command not found: PATH (%s) holds no program but tern, as in tern's own container image, "+
					"which has no shell or tools; run tern in an image that has the tools your commands need, with tern copied into it "+
					"(COPY --from=<tern's image> /bin/tern /usr/local/bin/tern, and /libexec/tern/ to /usr/local/libexec/tern/)", name, pathEnv)
			}
			return ExitCommandNotFound, fmt.Errorf("%s: command not found on PATH", name)
		}
		path = p
	} else if !filepath.IsAbs(name) {
		path = filepath.Join(workspace, name)
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return ExitCommandNotFound, fmt.Errorf("%s: no such file", name)
	case err != nil:
		return ExitNotExecutable, fmt.Errorf("%s: %w", name, err)
	case st.IsDir() || !isExecutable(st):
		return ExitNotExecutable, fmt.Errorf("%s: not an executable file", name)
	}
	return 0, nil
}

// onlyTernOn reports whether the directories of pathEnv hold no executable
// but this very binary: a shell-less image such as tern's own, where no
// command can run, and the remedy is another image, not a typo fixed.
func onlyTernOn(pathEnv string) bool {
	self, err := os.Executable()
	if err != nil || pathEnv == "" {
		return false
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			st, err := os.Stat(filepath.Join(dir, e.Name()))
			if err != nil || st.IsDir() || !isExecutable(st) {
				continue
			}
			if e.Name() != filepath.Base(self) {
				return false
			}
		}
	}
	return true
}

// lookPathIn is exec.LookPath against the PATH the command will get, which
// may differ from tern's own.
func lookPathIn(name, pathEnv string) (string, error) {
	if pathEnv == "" {
		return exec.LookPath(name)
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && isExecutable(st) {
			return p, nil
		}
		if p, err := exec.LookPath(p); err == nil { // adds .exe on Windows
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func envValue(env []string, key string) string {
	if env == nil {
		return os.Getenv(key)
	}
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// withEnv returns env with key set to value, replacing earlier settings.
func withEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

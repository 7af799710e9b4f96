package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// Landlock restricts the process that asks for it, and what it executes
// afterwards. So tern starts a copy of itself with the rules in an
// environment variable; that copy restricts itself and then executes the
// command (RunIfLandlockChild). The parent stays outside, to forward signals
// and remove the private temporary directory.
const envLandlockSpec = "TERN_INTERNAL_LANDLOCK_SPEC"

type landlockSpec struct {
	ABI          int      `json:"abi"`
	ReadWrite    []string `json:"rw"`
	AllowNetwork bool     `json:"allow_network"`
	Argv         []string `json:"argv"`
}

// landlockConfigs holds one go-landlock config per ABI version, index ABI-1.
var landlockConfigs = []landlock.Config{
	landlock.V1, landlock.V2, landlock.V3, landlock.V4, landlock.V5, landlock.V6,
	landlock.V7, landlock.V8, landlock.V9, landlock.V10, landlock.V11,
}

// LandlockABI returns the kernel's Landlock ABI version, or 0 and the reason
// there is none.
func LandlockABI() (int, string) {
	v, err := llsys.LandlockGetABIVersion()
	if err != nil || v < 1 {
		return 0, fmt.Sprintf("not available in this kernel (%v); it needs Linux 5.13 or newer with landlock in the lsm= boot parameter", err)
	}
	return v, ""
}

func runLandlock(ctx context.Context, abi int, p Policy, c Command) (int, error) {
	// The private temporary directory stands in for bwrap's empty /tmp.
	tmp, err := os.MkdirTemp("", "tern-sandbox-")
	if err != nil {
		return ExitSandboxFailed, fmt.Errorf("creating the sandbox's temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	spec, err := json.Marshal(landlockSpec{
		ABI:          abi,
		ReadWrite:    append(p.WritableRoots(), tmp),
		AllowNetwork: p.AllowNetwork,
		Argv:         c.Argv,
	})
	if err != nil {
		return ExitSandboxFailed, err
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Args[0] = "tern-landlock"
	cmd.Dir = p.Workspace
	cmd.Env = withEnv(withEnv(c.Env, "TMPDIR", tmp), envLandlockSpec, string(spec))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	cmd.SysProcAttr = sessionAttr()
	if err := cmd.Start(); err != nil {
		return ExitSandboxFailed, fmt.Errorf("starting the Landlock sandbox: %w", err)
	}
	return supervise(ctx, cmd, c, func() int { return cmd.Process.Pid })
}

// RunIfLandlockChild must be the first thing main does. In a process that
// runLandlock started, it applies the Landlock rules and executes the
// command, never returning; anywhere else it returns at once.
func RunIfLandlockChild() {
	raw, ok := os.LookupEnv(envLandlockSpec)
	if !ok {
		return
	}
	os.Unsetenv(envLandlockSpec)
	err := execLandlocked(raw)
	fmt.Fprintf(os.Stderr, "tern: landlock sandbox: %v\n", err)
	os.Exit(ExitSandboxFailed)
}

func execLandlocked(raw string) error {
	var spec landlockSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return fmt.Errorf("bad sandbox spec: %w", err)
	}
	if spec.ABI < 1 || len(spec.Argv) == 0 {
		return errors.New("bad sandbox spec: no ABI or no command")
	}
	path, err := exec.LookPath(spec.Argv[0])
	if err != nil {
		return err
	}
	cfg := landlockConfigs[min(spec.ABI, len(landlockConfigs))-1]
	rules := landlockRules(spec)
	if spec.AllowNetwork {
		err = cfg.RestrictPaths(rules...)
	} else {
		// With no network rule, every TCP bind and connect is denied.
		err = cfg.Restrict(rules...)
	}
	if err != nil {
		return fmt.Errorf("applying Landlock rules: %w", err)
	}
	return syscall.Exec(path, spec.Argv, os.Environ())
}

// landlockRules: read and execute everywhere, write only the writable roots
// and the harmless character devices every program expects.
func landlockRules(spec landlockSpec) []landlock.Rule {
	rules := []landlock.Rule{
		landlock.RODirs("/"),
		landlock.RWFiles("/dev/null", "/dev/zero", "/dev/full", "/dev/tty",
			"/dev/random", "/dev/urandom").IgnoreIfMissing(),
	}
	if len(spec.ReadWrite) > 0 {
		rules = append(rules, landlock.RWDirs(spec.ReadWrite...))
	}
	return rules
}

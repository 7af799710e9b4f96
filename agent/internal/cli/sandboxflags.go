package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/agent/internal/exitcode"
	"github.com/tern-agent/tern/agent/internal/sandbox"
	"github.com/tern-agent/tern/agent/internal/tools"
)

// The flags every command that runs commands shares, spelled once. tern
// uses Codex's spelling, --sandbox/-s for the mode and --cd/-C for the
// workspace: tern exec and tern mcp had it already, and people who know
// Codex type it. tern sandbox run's older --mode and --cwd stay as hidden
// aliases, so scripts that use them keep working; errors and help name
// only the canonical flags.
const (
	flagSandbox      = "--sandbox"
	flagCd           = "--cd"
	flagWritable     = "--writable"
	flagAllowNetwork = "--allow-network"
)

// sandboxOptions are the sandbox flags of one command.
type sandboxOptions struct {
	mode         string
	cd           string
	writable     []string
	allowNetwork bool
	// hostFlags: the command is tern sandbox run, which also has
	// --writable and --allow-network; exec and mcp have neither.
	hostFlags bool
}

func (o *sandboxOptions) addFlags(cmd *cobra.Command, hostFlags bool) {
	o.hostFlags = hostFlags
	f := cmd.Flags()
	f.StringVarP(&o.mode, "sandbox", "s", "", "read-only, workspace-write (default) or danger-full-access")
	f.StringVarP(&o.cd, "cd", "C", "", "the workspace and working directory (default: the current directory)")
	if hostFlags {
		// sandbox run's old spellings, bound to the same variables.
		f.StringVar(&o.mode, "mode", "", "the old spelling of --sandbox")
		f.StringVar(&o.cd, "cwd", "", "the old spelling of --cd")
		f.MarkHidden("mode")
		f.MarkHidden("cwd")
		f.StringArrayVar(&o.writable, "writable", nil, "a further writable directory (workspace-write; repeatable)")
		f.BoolVar(&o.allowNetwork, "allow-network", false, "let the command use the network")
	}
}

// probe finds what this host offers; tests replace it with a fixed Host.
var probe = sandbox.Probe

// sandboxSetup is a command's sandbox, ready to run commands in.
type sandboxSetup struct {
	Policy sandbox.Policy
	Plan   sandbox.Plan
}

// setup turns the flags, over the config file's mode (fileMode, read from
// filePath), into a policy and the plan that enforces it here. A bad flag
// is a usage error, a bad file a configuration error, and a host that
// cannot enforce the mode a sandbox failure; every message names the
// flags of this command.
func (o sandboxOptions) setup(fileMode, filePath string) (sandboxSetup, error) {
	var mode sandbox.Mode
	var err error
	switch {
	case o.mode != "":
		if mode, err = sandbox.ParseMode(o.mode); err != nil {
			return sandboxSetup{}, usageError(fmt.Errorf("%s: %w", flagSandbox, err))
		}
	case fileMode != "":
		if mode, err = sandbox.ParseMode(fileMode); err != nil {
			return sandboxSetup{}, &exitError{code: exitcode.Config, err: fmt.Errorf("%s: sandbox: %w", filePath, err)}
		}
	default:
		mode = sandbox.DefaultMode
	}
	explicit := o.mode != "" || fileMode != ""

	policy, err := sandbox.NewPolicyFor(sandbox.Flags{Mode: flagSandbox, Workspace: flagCd, Writable: flagWritable},
		mode, o.cd, o.writable, o.allowNetwork)
	if err != nil {
		return sandboxSetup{}, usageError(err)
	}
	host := probe()
	// Said before the plan, which may refuse: the installation is exposed
	// to earlier and later sessions alike.
	sandbox.WarnExposed(os.Stderr, sandbox.OwnFiles(host.Bwrap), policy.WritableRoots())
	plan, err := host.Plan(policy)
	if err != nil {
		var u *sandbox.UnavailableError
		if errors.As(err, &u) {
			err = &unavailableError{u: u, hostFlags: o.hostFlags, explicit: explicit}
		}
		return sandboxSetup{}, &exitError{code: exitcode.SandboxFailed, err: err}
	}
	return sandboxSetup{Policy: policy, Plan: plan}, nil
}

// tools is the tool set of a session in this sandbox; its commands get env.
func (s sandboxSetup) tools(env []string) *tools.Set {
	return &tools.Set{Workspace: s.Policy.Workspace, Policy: s.Policy, Plan: s.Plan, Env: env}
}

// unavailableError is sandbox.UnavailableError told with the flags of the
// command that was run: the sandbox package's own message names sandbox
// run's --mode, and its Landlock remedy --allow-network, which tern exec
// and tern mcp do not have.
type unavailableError struct {
	u         *sandbox.UnavailableError
	hostFlags bool // the command has --allow-network
	explicit  bool // the mode was chosen, not the default
}

func (e *unavailableError) Unwrap() error { return e.u }

func (e *unavailableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot sandbox a command in %s mode on this machine:", e.u.Mode)
	for _, p := range e.u.Problems {
		if !e.hostFlags && p.Fix == sandbox.FixAllowNetwork {
			p.Remedy = "use Linux 6.7 or newer, whose Landlock can deny network access"
		}
		b.WriteString("\n  - " + p.String())
	}
	fmt.Fprintf(&b, "\nRun `tern doctor` for details. To run without any sandbox, choose it explicitly: %s %s", flagSandbox, sandbox.DangerFullAccess)
	if !e.explicit {
		fmt.Fprintf(&b, "\nThe default sandbox cannot run here: choose %s %s if that works, or %s %s to run without one", flagSandbox, sandbox.ReadOnly, flagSandbox, sandbox.DangerFullAccess)
	}
	return b.String()
}

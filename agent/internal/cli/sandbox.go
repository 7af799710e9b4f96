package cli

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/agent/internal/sandbox"
)

type sandboxRunOptions struct {
	mode         string
	writable     []string
	allowNetwork bool
	cwd          string
}

func newSandbox() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run commands in tern's sandbox",
	}
	cmd.AddCommand(newSandboxRun())
	return cmd
}

func newSandboxRun() *cobra.Command {
	var o sandboxRunOptions
	cmd := &cobra.Command{
		Use:   "run [flags] -- CMD [ARGS...]",
		Short: "Run a command in the sandbox",
		Long: `Run a command in the sandbox and exit with its exit code (128+N when
signal N killed it). SIGINT, SIGTERM and SIGHUP are passed on to it.

Modes:
  read-only           read the whole filesystem; write only a private /tmp
  workspace-write     also write the working directory and each --writable dir
  danger-full-access  no sandbox at all

The network is cut off unless --allow-network is given. tern exits 125 when
it cannot set up the sandbox, and 127 when the command does not exist.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("no command given: put it after --, as in `tern sandbox run -- make test`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), args)
		},
	}
	// Everything after the first argument belongs to the command, so
	// `tern sandbox run ls -l` works as well as `-- ls -l`.
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&o.mode, "mode", string(sandbox.DefaultMode), "read-only, workspace-write or danger-full-access")
	cmd.Flags().StringArrayVar(&o.writable, "writable", nil, "a further writable directory (workspace-write; repeatable)")
	cmd.Flags().BoolVar(&o.allowNetwork, "allow-network", false, "let the command use the network")
	cmd.Flags().StringVar(&o.cwd, "cwd", "", "the workspace and working directory (default: the current directory)")
	return cmd
}

func (o sandboxRunOptions) run(ctx context.Context, argv []string) error {
	mode, err := sandbox.ParseMode(o.mode)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	policy, err := sandbox.NewPolicy(mode, o.cwd, o.writable, o.allowNetwork)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	plan, err := sandbox.Probe().Plan(policy)
	if err != nil {
		return &exitError{code: sandbox.ExitSandboxFailed, err: err}
	}
	signals, stop := forwardedSignals()
	defer stop()
	code, err := plan.Run(ctx, policy, sandbox.Command{
		Argv:    argv,
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Signals: signals,
	})
	if err != nil || code != 0 {
		return &exitError{code: code, err: err}
	}
	return nil
}

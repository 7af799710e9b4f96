package cli

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/agent/internal/exitcode"
	"github.com/tern-agent/tern/agent/internal/sandbox"
)

func newSandbox() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run commands in tern's sandbox",
	}
	cmd.AddCommand(newSandboxRun())
	return cmd
}

func newSandboxRun() *cobra.Command {
	var o sandboxOptions
	cmd := &cobra.Command{
		Use:   "run [flags] -- CMD [ARGS...]",
		Short: "Run a command in the sandbox",
		Long: `Run a command in the sandbox and exit with its exit code (128+N when
signal N killed it). SIGINT, SIGTERM and SIGHUP are passed on to it.

Modes:
  read-only           read the whole filesystem; write only a private /tmp
  workspace-write     also write the working directory (--cd) and each
                      --writable dir
  danger-full-access  no sandbox at all

The network is cut off unless --allow-network is given. tern exits 2 for bad
flags, 125 when it cannot set up the sandbox, 126 when the command cannot be
run and 127 when it does not exist; see docs/exec-events.md.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("no command given: put it after --, as in `tern sandbox run -- make test`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInSandbox(cmd.Context(), o, args)
		},
	}
	// Everything after the first argument belongs to the command, so
	// `tern sandbox run ls -l` works as well as `-- ls -l`.
	cmd.Flags().SetInterspersed(false)
	o.addFlags(cmd, true)
	return cmd
}

// runInSandbox is tern sandbox run: the config file does not apply to it.
func runInSandbox(ctx context.Context, o sandboxOptions, argv []string) error {
	sb, err := o.setup("", "")
	if err != nil {
		return err
	}
	signals, stop := forwardedSignals()
	defer stop()
	code, err := sb.Plan.Run(ctx, sb.Policy, sandbox.Command{
		Argv:    argv,
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Signals: signals,
	})
	if err != nil || code != 0 {
		// The command's own code, or the sandbox's 125, 126 or 127
		// (exitcode.SandboxFailed, NotExecutable, NotFound).
		return &exitError{code: exitcode.Code(code), err: err}
	}
	return nil
}

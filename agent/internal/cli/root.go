// Package cli holds tern's cobra commands. Commands stay thin: they parse
// flags, call a package that does the work, and print its result.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/agent/internal/buildinfo"
	"github.com/tern-agent/tern/agent/internal/exitcode"
)

// exitError carries an exit code out of a command; its message, if any, has
// been printed already or is printed by Execute.
type exitError struct {
	code exitcode.Code
	err  error
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a bad flag value: exit 2, with a message that names the
// flag.
func usageError(err error) error { return &exitError{code: exitcode.Usage, err: err} }

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// Execute runs tern with args and returns its exit code.
func Execute(args []string, stdout, stderr io.Writer) int {
	return int(execute(newRoot(stdout, stderr), args, stderr))
}

// execute runs root and decides the exit code. An error without a code of
// its own is a usage error when cobra returns it before a command ran (bad
// flags, arguments or command names), and a run-time failure once one did.
func execute(root *cobra.Command, args []string, stderr io.Writer) exitcode.Code {
	ran := false
	// Cobra calls the persistent pre-run after parsing the flags and
	// checking the arguments, just before the command's RunE.
	root.PersistentPreRun = func(*cobra.Command, []string) { ran = true }
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return exitcode.OK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "tern: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "tern: %v\n", err)
	if ran {
		return exitcode.Failure
	}
	return exitcode.Usage
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	var showVersion, asJSON bool
	root := &cobra.Command{
		Use:           "tern",
		Short:         "tern, a coding agent that runs commands in a sandbox",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				return printVersion(cmd.OutOrStdout(), asJSON)
			}
			return cmd.Help()
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.Flags().BoolVar(&showVersion, "version", false, "print the version and exit")
	root.Flags().BoolVar(&asJSON, "json", false, "with --version: print JSON")
	root.AddCommand(newVersion(), newSandbox(), newDoctor(), newExec(), newMCP())
	return root
}

func newVersion() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print version, commit, build date, Go version and target",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printVersion(cmd.OutOrStdout(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON with the keys version, commit, date, go, os, arch and target")
	return cmd
}

func printVersion(w io.Writer, asJSON bool) error {
	info := buildinfo.Get()
	if asJSON {
		return writeJSON(w, info)
	}
	_, err := fmt.Fprintln(w, info.String())
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// errWriter keeps the first write error of a printer that drops them.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

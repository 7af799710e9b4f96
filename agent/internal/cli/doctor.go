package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/agent/internal/config"
	"github.com/tern-agent/tern/agent/internal/doctor"
	"github.com/tern-agent/tern/agent/internal/exitcode"
	"github.com/tern-agent/tern/agent/internal/sandbox"
)

func newDoctor() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check helpers and sandbox support on this machine",
		Long: `Report the target, the helpers found (path, version, sha256 and how each was
found) and what the sandbox can use here. Exits 1, with one line per problem
and its remedy, when the default sandbox mode cannot work.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			report := doctor.Run(cmd.Context())
			// The commands' environment, as the config file sets it for
			// tern exec and tern mcp (their flags can change it per run).
			if fc, err := config.Load(); err != nil {
				report.Problems = append(report.Problems, sandbox.Problem{Subject: "config", Detail: err.Error()})
			} else {
				report.EnvPolicy = fc.Env.Describe()
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), report); err != nil {
					return &exitError{code: exitcode.Failure, err: fmt.Errorf("writing the report to stdout: %w", err)}
				}
			} else {
				w := &errWriter{w: cmd.OutOrStdout()}
				report.WriteText(w)
				if w.err != nil {
					return &exitError{code: exitcode.Failure, err: fmt.Errorf("writing the report to stdout: %w", w.err)}
				}
			}
			if len(report.Problems) > 0 {
				return &exitError{code: exitcode.Failure}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

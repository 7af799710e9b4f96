package cli

import (
	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/agent/internal/doctor"
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
			if env, err := loadEnvPolicy(); err != nil {
				report.Problems = append(report.Problems, sandbox.Problem{Subject: "config", Detail: err.Error()})
			} else {
				report.EnvPolicy = env.Describe()
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), report); err != nil {
					return err
				}
			} else {
				report.WriteText(cmd.OutOrStdout())
			}
			if len(report.Problems) > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

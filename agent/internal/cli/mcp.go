package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/agent/internal/config"
	"github.com/tern-agent/tern/agent/internal/exitcode"
	"github.com/tern-agent/tern/agent/internal/mcpserver"
)

func newMCP() *cobra.Command {
	var sb sandboxOptions
	var env envOptions
	cmd := &cobra.Command{
		Use:   "mcp [--sandbox MODE] [--cd DIR] [--env-inherit all|default|none] [--env-allow NAME]...",
		Short: "Serve tern's sandboxed tools over MCP on stdio",
		Long: `Speak the Model Context Protocol on stdin and stdout, offering the tools
tern exec gives its model: shell (in the sandbox), read_file, list_dir and
apply_patch, all confined to the workspace. Nothing runs outside the
sandbox: escalation is refused.

Commands get the environment tern exec gives them: the config file's
shell_environment_policy, adjusted by --env-inherit, --env-allow and
--env-set. OPENAI_API_KEY never reaches them.

Exit codes: 0 stdin ended; 1 reading stdin or writing stdout failed; 2 bad
flags; 3 a bad config file; 125 the sandbox cannot run here.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fc, err := config.Load()
			if err != nil {
				return &exitError{code: exitcode.Config, err: err}
			}
			commands, err := commandEnv(fc, env)
			if err != nil {
				return err
			}
			// The config file's sandbox mode is tern exec's; tern mcp has
			// always taken its mode from --sandbox alone.
			setup, err := sb.setup("", "")
			if err != nil {
				return err
			}
			if err := mcpserver.Serve(cmd.Context(), setup.tools(commands), cmd.InOrStdin(), cmd.OutOrStdout()); err != nil {
				return &exitError{code: exitcode.Failure, err: fmt.Errorf("mcp: %w", err)}
			}
			return nil
		},
	}
	sb.addFlags(cmd, false)
	env.addFlags(cmd)
	return cmd
}

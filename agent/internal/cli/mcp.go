package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/agent/internal/mcpserver"
	"github.com/tern-agent/tern/agent/internal/sandbox"
	"github.com/tern-agent/tern/agent/internal/tools"
)

func newMCP() *cobra.Command {
	var mode, cd string
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
--env-set. OPENAI_API_KEY never reaches them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fc, err := loadConfig()
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			commands, err := commandEnv(fc, env)
			if err != nil {
				return err
			}
			m, err := sandbox.ParseMode(mode)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			policy, err := sandbox.NewPolicy(m, cd, nil, false)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			plan, err := sandbox.Probe().Plan(policy)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			set := &tools.Set{Workspace: policy.Workspace, Policy: policy, Plan: plan, Env: commands}
			return mcpserver.Serve(cmd.Context(), set, os.Stdin, os.Stdout)
		},
	}
	cmd.Flags().StringVar(&mode, "sandbox", string(sandbox.DefaultMode), "read-only, workspace-write or danger-full-access")
	cmd.Flags().StringVar(&cd, "cd", "", "the workspace (default: the current directory)")
	env.addFlags(cmd)
	return cmd
}

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
	cmd := &cobra.Command{
		Use:   "mcp [--sandbox MODE] [--cd DIR]",
		Short: "Serve tern's sandboxed tools over MCP on stdio",
		Long: `Speak the Model Context Protocol on stdin and stdout, offering the tools
tern exec gives its model: shell (in the sandbox), read_file, list_dir and
apply_patch, all confined to the workspace. Nothing runs outside the
sandbox: escalation is refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			set := &tools.Set{Workspace: policy.Workspace, Policy: policy, Plan: plan}
			return mcpserver.Serve(cmd.Context(), set, os.Stdin, os.Stdout)
		},
	}
	cmd.Flags().StringVar(&mode, "sandbox", string(sandbox.DefaultMode), "read-only, workspace-write or danger-full-access")
	cmd.Flags().StringVar(&cd, "cd", "", "the workspace (default: the current directory)")
	return cmd
}

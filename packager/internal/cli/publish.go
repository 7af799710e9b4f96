package cli

import (
	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/publish"
)

func newPublish(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Publish a verified release",
	}
	var o publish.NPMOptions
	npmCmd := &cobra.Command{
		Use:   "npm --registry URL [--dir dist/release] [--dry-run] [--provenance]",
		Short: "Publish the npm packages: platform packages first, the meta package last",
		Long: `Publish every platform package, then the meta package, with the dist-tag
the version implies (1.3.0-beta.2 → beta, 1.3.0 → latest). A version already
on the registry is skipped when its integrity is ours and refused when it is
not, so a run that failed halfway completes when run again. npm's own
configuration (.npmrc, NODE_AUTH_TOKEN) authenticates.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, cfg, err := g.load()
			if err != nil {
				return err
			}
			if o.Dir == "" {
				o.Dir = layout.ReleaseDir(root)
			}
			o.Log = cmd.ErrOrStderr()
			return publish.NPM(cmd.Context(), cfg, o)
		},
	}
	npmCmd.Flags().StringVar(&o.Registry, "registry", "https://registry.npmjs.org/", "the npm registry")
	npmCmd.Flags().StringVar(&o.Dir, "dir", "", "the release directory (default: dist/release)")
	npmCmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "ask npm to go through the motions only")
	npmCmd.Flags().BoolVar(&o.Provenance, "provenance", false, "publish with npm provenance (GitHub Actions, OIDC)")
	npmCmd.Flags().StringVar(&o.NPM, "npm", "npm", "the npm CLI")
	cmd.AddCommand(npmCmd)
	cmd.AddCommand(newPublishDoors(g)...)
	return cmd
}

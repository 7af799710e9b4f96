package cli

import (
	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/image"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/sign"
)

func newImage(g *globalOptions) *cobra.Command {
	var o image.Options
	var keyless bool
	cmd := &cobra.Command{
		Use:   "image --repo REF [--dir dist/release]",
		Short: "Build, push and sign the multi-arch container image of a release",
		Long: `Build a multi-arch OCI image, one platform per linux target, from the
release's staged trees (scratch, the tree at /, CA certificates; entrypoint
the binary), push it to --repo
tagged with the release version, and sign it with cosign: with COSIGN_KEY
(a path or the PEM, as for release) and COSIGN_PASSWORD, or --keyless in
GitHub Actions. Nothing is pushed unless it can be signed. The staged
binaries must be the release's, byte for byte. No Docker daemon is used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, cfg, err := g.load()
			if err != nil {
				return err
			}
			o.Config, o.Sign = cfg, sign.OptionsFromEnv(keyless)
			if o.ReleaseDir == "" {
				o.ReleaseDir = layout.ReleaseDir(root)
			}
			if o.StageDir == "" {
				o.StageDir = layout.StageDir(layout.Dist(root))
			}
			_, err = image.Publish(cmd.Context(), o, cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().StringVar(&o.Repo, "repo", "", "the repository to push to, e.g. ghcr.io/tern-agent/tern")
	cmd.Flags().StringVar(&o.ReleaseDir, "dir", "", "the release directory (default: dist/release)")
	cmd.Flags().StringVar(&o.StageDir, "stage", "", "the staged trees (default: dist/stage)")
	cmd.Flags().StringVar(&o.Cosign, "cosign", "cosign", "the cosign CLI")
	cmd.Flags().BoolVar(&keyless, "keyless", false, "sign keyless (GitHub Actions)")
	cmd.Flags().BoolVar(&o.Offline, "offline", false, "sign without the transparency log (local registries)")
	cmd.MarkFlagRequired("repo")
	return cmd
}

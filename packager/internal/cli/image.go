package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/image"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/release"
)

func newImage(g *globalOptions) *cobra.Command {
	var repo, dir, stage, cosign string
	var keyless, offline bool
	cmd := &cobra.Command{
		Use:   "image --repo REF [--dir dist/release]",
		Short: "Build, push and sign the multi-arch container image of a release",
		Long: `Build a linux/amd64 + linux/arm64 OCI image from the release's staged trees
(scratch, the tree at /, CA certificates; entrypoint tern), push it to --repo
tagged with the release version, and sign it with cosign: with COSIGN_KEY
(a key file) and COSIGN_PASSWORD, or --keyless in GitHub Actions. The staged
binaries must be the release's, byte for byte. No Docker daemon is used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, cfg, err := g.load()
			if err != nil {
				return err
			}
			if dir == "" {
				dir = release.ReleaseDir(root)
			}
			if stage == "" {
				stage = filepath.Join(root, "dist", "stage")
			}
			m, err := manifest.Read(filepath.Join(dir, manifest.FileName))
			if err != nil {
				return err
			}
			if err := stagedIsReleased(cfg, m, stage); err != nil {
				return err
			}
			idx, err := image.Build(cfg, stage, m.Version, m.Time)
			if err != nil {
				return err
			}
			ref, err := image.Push(cmd.Context(), idx, repo, m.Version)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", ref)
			key := os.Getenv("COSIGN_KEY")
			if key == "" && !keyless {
				return fmt.Errorf("pushed %s unsigned: set COSIGN_KEY and COSIGN_PASSWORD, or pass --keyless in GitHub Actions", ref)
			}
			var log strings.Builder
			return image.Sign(cmd.Context(), ref, image.SignOptions{Cosign: cosign, Key: key, Offline: offline}, &log)
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "the repository to push to, e.g. ghcr.io/tern-agent/tern")
	cmd.Flags().StringVar(&dir, "dir", "", "the release directory (default: dist/release)")
	cmd.Flags().StringVar(&stage, "stage", "", "the staged trees (default: dist/stage)")
	cmd.Flags().StringVar(&cosign, "cosign", "cosign", "the cosign CLI")
	cmd.Flags().BoolVar(&keyless, "keyless", false, "sign keyless (GitHub Actions)")
	cmd.Flags().BoolVar(&offline, "offline", false, "sign without the transparency log (local registries)")
	cmd.MarkFlagRequired("repo")
	return cmd
}

// stagedIsReleased refuses to build an image from trees whose binaries are
// not the ones the release's archives hold.
func stagedIsReleased(cfg *config.Config, m *manifest.Manifest, stage string) error {
	for _, a := range m.Artifacts {
		if a.Kind != artifact.Archive || a.Binary == nil {
			continue
		}
		t, ok := cfg.Target(a.Target)
		if !ok || t.GOOS != "linux" {
			continue
		}
		p := filepath.Join(stage, t.Name, "bin", cfg.BinaryName(t))
		sum, _, err := artifact.SHA256File(p)
		if err != nil {
			return fmt.Errorf("%s: %w (run make snapshot or make release first)", p, err)
		}
		if sum != a.Binary.SHA256 {
			return fmt.Errorf("%s has sha256 %s, but the release's %s holds %s: the staged trees are not this release's", p, sum, a.Name, a.Binary.SHA256)
		}
	}
	return nil
}

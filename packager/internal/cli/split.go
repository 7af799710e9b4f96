package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/platformsign"
	"github.com/tern-agent/tern/packager/internal/release"
	"github.com/tern-agent/tern/packager/internal/sign"
)

type buildOptions struct {
	snapshot    bool
	goreleaser  string
	reuseBuild  bool
	targets     []string
	out         string
	compileOnly bool
}

// newBuild returns `build`, the half of a release that runs where its
// targets belong.
func newBuild(g *globalOptions) *cobra.Command {
	var o buildOptions
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build, stage and hand off some targets, for `packager merge` to release",
		Long: `Build the targets named by --targets (every target of release.yaml without
it) and the helpers they ship, stage their trees, and write a handoff
directory: the trees, the helpers, and handoff.json, which pins the commit,
the version, the release.yaml digest, the GoReleaser and Go versions and
every file's sha256 and size. Copy the handoffs of every target to one
machine and run packager merge there.`,
		Example: `  packager build --snapshot --targets linux-x64,linux-arm64 --out dist/handoff-linux
  packager build --snapshot --targets windows-x64,windows-arm64 --out dist/handoff-windows`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := g.repoRoot()
			if err != nil {
				return err
			}
			platform, err := platformsign.SecretsFromEnv(os.Getenv)
			if err != nil {
				return err
			}
			_, err = release.Build(cmd.Context(), release.BuildOptions{
				Root: root, ConfigPath: g.config, Snapshot: o.snapshot,
				GoReleaser: o.goreleaser, ReuseBuild: o.reuseBuild,
				Targets: o.targets, Out: o.out, Log: cmd.ErrOrStderr(),
				Platform: platform, CompileOnly: o.compileOnly,
			})
			return err
		},
	}
	cmd.Flags().BoolVar(&o.snapshot, "snapshot", false, "build an untagged or dirty tree as 0.0.0-snapshot.<sha>")
	cmd.Flags().StringVar(&o.goreleaser, "goreleaser", "goreleaser", "the GoReleaser binary")
	cmd.Flags().BoolVar(&o.reuseBuild, "reuse-build", false, "use the binaries of the last build instead of building")
	cmd.Flags().StringSliceVar(&o.targets, "targets", nil, "the targets to build, comma-separated (default: all of release.yaml)")
	cmd.Flags().StringVar(&o.out, "out", "", "the handoff directory (default: dist/handoff)")
	cmd.Flags().BoolVar(&o.compileOnly, "compile-only", false, "run GoReleaser and stop: sign, stage and hand off later with --reuse-build, in the one step given the signing secrets")
	return cmd
}

type mergeOptions struct {
	snapshot     bool
	keyless      bool
	out          string
	allowMissing []string
}

// newMerge returns `merge`, the half of a release that signs.
func newMerge(g *globalOptions) *cobra.Command {
	var o mergeOptions
	cmd := &cobra.Command{
		Use:   "merge HANDOFF...",
		Short: "Check handoffs, then pack, sign and verify the release from them",
		Long: `Check every handoff before using it: one commit, version and release.yaml
(this checkout's), one Go and GoReleaser, each target once, every target of
release.yaml present (unless --allow-missing), every file as its handoff.json
pins it and nothing else, and every binary stamped with the handoff's commit.
Then pack, write npm packages, installers, SBOMs, DotSlash, manifest.json and
SHA256SUMS, sign and verify exactly as packager release does. Merge compiles
nothing and needs no helper source; the release is moved to --out only after
the gate passes, and a refused handoff writes nothing.

Signing: COSIGN_KEY (a path or the PEM) and COSIGN_PASSWORD for a cosign key;
--keyless in GitHub Actions; a snapshot with neither gets a throw-away key.`,
		Example: `  packager merge --snapshot dist/handoff-linux dist/handoff-windows`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, cfg, err := g.load()
			if err != nil {
				return err
			}
			packages, err := release.PackageKeysFromEnv(os.Getenv, cfg.Product)
			if err != nil {
				return err
			}
			_, err = release.Merge(cmd.Context(), release.MergeOptions{
				Root: root, ConfigPath: g.config, Snapshot: o.snapshot, Packages: packages,
				Handoffs: args, AllowMissing: o.allowMissing, Out: o.out,
				Sign: sign.OptionsFromEnv(o.keyless), Until: release.Verify, Log: cmd.ErrOrStderr(),
			})
			return err
		},
	}
	cmd.Flags().BoolVar(&o.snapshot, "snapshot", false, "release an untagged or dirty tree as 0.0.0-snapshot.<sha>")
	cmd.Flags().BoolVar(&o.keyless, "keyless", false, "sign keyless through Fulcio and Rekor (GitHub Actions)")
	cmd.Flags().StringVar(&o.out, "out", "", "where the release goes (default: dist/release)")
	cmd.Flags().StringArrayVar(&o.allowMissing, "allow-missing", nil, "a target of release.yaml the release goes without (repeatable); it is left out of npm's optional dependencies too")
	return cmd
}

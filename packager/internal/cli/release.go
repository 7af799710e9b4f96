package cli

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/platformsign"
	"github.com/tern-agent/tern/packager/internal/release"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/version"
)

type releaseOptions struct {
	snapshot   bool
	keyless    bool
	goreleaser string
	reuseBuild bool
}

func (o *releaseOptions) flags(cmd *cobra.Command, building bool) {
	cmd.Flags().BoolVar(&o.snapshot, "snapshot", false, "release an untagged or dirty tree as 0.0.0-snapshot.<sha>")
	cmd.Flags().BoolVar(&o.keyless, "keyless", false, "sign keyless through Fulcio and Rekor (GitHub Actions)")
	if building {
		cmd.Flags().StringVar(&o.goreleaser, "goreleaser", "goreleaser", "the GoReleaser binary")
		cmd.Flags().BoolVar(&o.reuseBuild, "reuse-build", false, "use the binaries of the last build instead of building")
	}
}

func runPipeline(cmd *cobra.Command, g *globalOptions, o *releaseOptions, until release.Step, reuse bool) error {
	root, cfg, err := g.load()
	if err != nil {
		return err
	}
	platform, err := platformsign.SecretsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	packages, err := release.PackageKeysFromEnv(os.Getenv, cfg.Product)
	if err != nil {
		return err
	}
	_, err = release.Run(cmd.Context(), release.Options{
		Platform:   platform,
		Packages:   packages,
		Root:       root,
		ConfigPath: g.config,
		Snapshot:   o.snapshot,
		GoReleaser: o.goreleaser,
		ReuseBuild: reuse,
		Sign:       sign.OptionsFromEnv(o.keyless),
		Until:      until,
		Log:        cmd.ErrOrStderr(),
	})
	return err
}

// newRelease returns `release`, the whole pipeline, and the commands for its
// single steps (stage, pack, npm, sign).
func newRelease(g *globalOptions) []*cobra.Command {
	var o releaseOptions
	rel := &cobra.Command{
		Use:   "release",
		Short: "Build, stage, pack, checksum, sign and verify a release into dist/release",
		Long: `Run the whole pipeline. The release is written to a fresh directory and
moved to dist/release only when every step, the verification gate last,
has passed.

Signing: COSIGN_KEY (a path or the PEM) and COSIGN_PASSWORD for a cosign key;
--keyless in GitHub Actions; a snapshot with neither gets a throw-away key.

Platform signing: darwin binaries are signed with MACOS_SIGN_P12 and
MACOS_SIGN_PASSWORD (hardened runtime, secure timestamp) and, for a release
whose release.yaml asks, notarized with MACOS_NOTARY_KEY, MACOS_NOTARY_KEY_ID
and MACOS_NOTARY_ISSUER_ID; without them, ad hoc. Windows binaries are
Authenticode-signed with WINDOWS_SIGN_P12 and WINDOWS_SIGN_PASSWORD
(WINDOWS_SIGN_TSA_URL for a timestamp); without them, unsigned.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPipeline(cmd, g, &o, release.Verify, o.reuseBuild)
		},
	}
	o.flags(rel, true)
	cmds := []*cobra.Command{rel}

	// The single steps reuse the last build and run the cheap, deterministic
	// steps before them again.
	for _, step := range []struct {
		use, short string
		until      release.Step
	}{
		{"stage", "Stage one tree per target into dist/stage", release.Stage},
		{"pack", "Stage, then write the archives into dist/release", release.Pack},
		{"npm", "Stage and pack, then write the npm packages, the installers, the SBOMs and the DotSlash file into dist/release", release.Doors},
		{"sign", "Stage, pack, write the npm packages, manifest.json and SHA256SUMS, and sign them", release.Sign},
	} {
		var so releaseOptions
		cmd := &cobra.Command{
			Use:   step.use,
			Short: step.short + " (from the last build)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runPipeline(cmd, g, &so, step.until, true)
			},
		}
		so.flags(cmd, false)
		cmds = append(cmds, cmd)
	}
	return cmds
}

func newVersion(g *globalOptions) *cobra.Command {
	var snapshot, asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version this checkout releases as",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := g.repoRoot()
			if err != nil {
				return err
			}
			info, err := version.FromGit(root, snapshot)
			if err != nil {
				return err
			}
			if !asJSON {
				_, err = fmt.Fprintln(cmd.OutOrStdout(), info)
				return err
			}
			return json.NewEncoder(os.Stdout).Encode(map[string]any{
				"version": info.String(), "commit": info.Commit, "time": info.Time,
				"snapshot": info.Snapshot, "dist_tag": info.DistTag(),
			})
		},
	}
	cmd.Flags().BoolVar(&snapshot, "snapshot", false, "allow an untagged or dirty tree")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

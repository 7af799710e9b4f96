package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/gitpublish"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/publish"
)

// gitDoor is one package-manager door that publishes by a git commit.
type gitDoor struct {
	use, short, long, flag, flagHelp string
	run                              func(context.Context, *config.Config, publish.GitOptions) (gitpublish.Result, error)
}

// newPublishDoors are publish brew, scoop and winget.
func newPublishDoors(g *globalOptions) []*cobra.Command {
	const idempotent = `It clones the repository afresh, writes, and commits and pushes only if a file
changed: run again, it says "unchanged" and pushes nothing. It never
force-pushes. The commit's author is GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL
(GIT_COMMITTER_NAME, GIT_COMMITTER_EMAIL), else github-actions[bot]; git's
own credentials (a credential helper, an https token in the URL, ssh) push.`
	var cmds []*cobra.Command
	for _, d := range []gitDoor{
		{"brew --tap GIT_URL [--dir dist/release]", "Commit the release's Homebrew cask to a tap",
			"Commit the release's cask, checked against its archives, to Casks/<binary>.rb\nof the tap's default branch.", "tap", "the tap's git URL (https://github.com/<owner>/homebrew-tap)", publish.Homebrew},
		{"scoop --bucket GIT_URL [--dir dist/release]", "Commit the release's Scoop manifest to a bucket",
			"Commit the release's Scoop manifest, checked against its archives, to\nbucket/<binary>.json of the bucket's default branch.", "bucket", "the bucket's git URL", publish.Scoop},
		{"winget --fork GIT_URL [--dir dist/release]", "Commit the release's winget manifests to a branch of a winget-pkgs fork",
			"Commit the release's three winget manifests, checked against its archives, to\nmanifests/<letter>/<Publisher>/<Name>/<version>/ on the branch\n<PackageIdentifier>-<version> of your fork of microsoft/winget-pkgs, from its\ndefault branch; then open the pull request from that branch.", "fork", "your winget-pkgs fork's git URL", publish.Winget},
	} {
		var o publish.GitOptions
		cmd := &cobra.Command{
			Use:   d.use,
			Short: d.short,
			Long:  d.long + "\n\n" + idempotent,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if o.Repo == "" {
					return fmt.Errorf("--%s is required: the git URL to commit to", d.flag)
				}
				root, cfg, err := g.load()
				if err != nil {
					return err
				}
				if o.Dir == "" {
					o.Dir = layout.ReleaseDir(root)
				}
				o.Log = cmd.ErrOrStderr()
				_, err = d.run(cmd.Context(), cfg, o)
				return err
			},
		}
		cmd.Flags().StringVar(&o.Repo, d.flag, "", d.flagHelp)
		cmd.Flags().StringVar(&o.Dir, "dir", "", "the release directory (default: dist/release)")
		cmd.Flags().StringVar(&o.Git, "git", "git", "the git CLI")
		cmds = append(cmds, cmd)
	}
	return cmds
}

package cli

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/helperbuild"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
)

func newHelpers(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "helpers",
		Short: "Fetch and build the native helpers declared in third_party/",
	}
	cmd.AddCommand(newHelpersFetch(g), newHelpersBuild(g))
	return cmd
}

func loadManifests(g *globalOptions) (string, []*thirdparty.Manifest, thirdparty.Cache, error) {
	root, err := g.repoRoot()
	if err != nil {
		return "", nil, thirdparty.Cache{}, err
	}
	ms, err := thirdparty.Load(root)
	if err != nil {
		return "", nil, thirdparty.Cache{}, err
	}
	cache, err := thirdparty.DefaultCache()
	return root, ms, cache, err
}

func newHelpersFetch(g *globalOptions) *cobra.Command {
	var from, name string
	var cachedOnly bool
	cmd := &cobra.Command{
		Use:   "fetch [--from FILE --name NAME]",
		Short: "Put each helper's pinned source in the content-addressed cache",
		Long: `Download each third_party source from its manifest's URLs, in order,
keeping only bytes with the pinned sha256. With --from, take the source
from a local file instead (for example Debian's orig tarball from
apt-get source), after checking the same digest.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, ms, cache, err := loadManifests(g)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if name != "" && m.Name != name {
					continue
				}
				if cachedOnly {
					if !cache.Has(m.Source.SHA256) {
						return fmt.Errorf("%s %s (sha256 %s) is not in %s", m.Name, m.Version, m.Source.SHA256, cache.Dir)
					}
				} else if from != "" {
					if err := cache.PrimeFrom(from, m.Source.SHA256); err != nil {
						return err
					}
				} else if err := cache.Fetch(cmd.Context(), http.DefaultClient, m.Source.URLs, m.Source.SHA256); err != nil {
					return fmt.Errorf("%s %s: %w\nwhere no URL is reachable, prime the cache: packager helpers fetch --name %s --from FILE (make helpers-source does this from Debian)", m.Name, m.Version, err, m.Name)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %s\n", m.Name, m.Version, cache.Path(m.Source.SHA256))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "a local copy of the source tarball")
	cmd.Flags().StringVar(&name, "name", "", "only this third_party entry (required with --from when there are several)")
	cmd.Flags().BoolVar(&cachedOnly, "cached-only", false, "download nothing; fail unless every source is cached")
	return cmd
}

func newHelpersBuild(g *globalOptions) *cobra.Command {
	var targets []string
	var updateLock bool
	cmd := &cobra.Command{
		Use:   "build [--target T]... [--update-lock]",
		Short: "Build every helper for every target that ships it, and check the lock",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, ms, cache, err := loadManifests(g)
			if err != nil {
				return err
			}
			b := helperbuild.Builder{Cache: cache, Out: layout.HelpersDir(root), Log: cmd.ErrOrStderr(), UpdateLock: updateLock}
			for _, m := range ms {
				for target := range m.Targets {
					if len(targets) > 0 && !slices.Contains(targets, target) {
						continue
					}
					sum, err := b.Build(cmd.Context(), m, target)
					if err != nil {
						return err
					}
					rel, _ := filepath.Rel(root, b.Output(m, target))
					fmt.Fprintf(cmd.OutOrStdout(), "%s  %s\n", sum, rel)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&targets, "target", nil, "build only for this target (repeatable)")
	cmd.Flags().BoolVar(&updateLock, "update-lock", false, "write the digests built into each lock.yaml instead of checking them")
	return cmd
}

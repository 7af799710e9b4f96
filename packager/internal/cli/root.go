// Package cli holds the packager's cobra commands. Commands stay thin: they
// parse flags, call the package for their step, and print what it made.
package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/config"
)

// Execute runs the packager with args and returns its exit code.
func Execute(args []string) int {
	root := &cobra.Command{
		Use:           "packager",
		Short:         "Build, verify and publish releases",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var g globalOptions
	root.PersistentFlags().StringVar(&g.root, "root", "", "the repository root (default: the git top level of the current directory)")
	root.PersistentFlags().StringVar(&g.config, "config", "", "the release config (default: <root>/release.yaml)")
	root.AddCommand(newRelease(&g)...)
	root.AddCommand(newBuild(&g), newMerge(&g))
	root.AddCommand(newVersion(&g), newVerify(&g), newSums(), newHelpers(&g), newPublish(&g), newImage(&g))
	root.AddCommand(newInit())
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "packager: %v\n", err)
		return 1
	}
	return 0
}

type globalOptions struct {
	root, config string
}

// load returns the repository root and its release config (--config, or
// <root>/release.yaml).
func (g *globalOptions) load() (string, *config.Config, error) {
	root, err := g.repoRoot()
	if err != nil {
		return "", nil, err
	}
	path := g.config
	if path == "" {
		path = filepath.Join(root, "release.yaml")
	}
	cfg, err := config.Load(path)
	return root, cfg, err
}

// repoRoot is --root, or the top of the git checkout we are in.
func (g *globalOptions) repoRoot() (string, error) {
	if g.root != "" {
		return g.root, nil
	}
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("not inside a git checkout: run from the repository or pass --root")
	}
	return strings.TrimSpace(string(out)), nil
}

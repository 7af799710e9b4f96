package cli

import (
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/initcmd"
)

func newInit() *cobra.Command {
	o := initcmd.Options{Dir: "."}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Set up a Go module repository for the packager: release.yaml, .goreleaser.yaml, workflows",
		Long: `Write release.yaml, a .goreleaser.yaml wired for the packager (or adapt
an existing one, when safe), and .github/workflows/ci.yml and release.yml.

Defaults come from go.mod (module path, main package) and from
git remote get-url origin. A second run with the same flags changes
nothing; an existing release.yaml is overwritten only with --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.PackagerPath, o.PackagerVersion = packagerModule()
			o.StampVarExplicit = cmd.Flags().Changed("stamp-var")
			res, err := initcmd.Run(o)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, f := range res.Files {
				line := fmt.Sprintf("%-9s %s", f.Action, f.Path)
				if f.Detail != "" {
					line += " (" + f.Detail + ")"
				}
				fmt.Fprintln(w, line)
			}
			for _, n := range res.Notes {
				fmt.Fprintln(w, "note: "+n)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Dir, "dir", ".", "the repository root, holding go.mod")
	fl.StringVar(&o.Main, "main", "", "the main package to release (default: the only package main, or cmd/<module name>)")
	fl.StringVar(&o.Binary, "binary", "", "the binary's name (default: the main package's directory, or the module's last element)")
	fl.StringVar(&o.Product, "product", "", "the product's name in archive names (default: the binary's)")
	fl.StringVar(&o.NPMScope, "npm-scope", "", "the npm scope, @name (default: @<GitHub owner>)")
	fl.StringVar(&o.NPMPackage, "npm-package", "", "the npm meta package's name in the scope (default: the binary's)")
	fl.StringVar(&o.Repository, "repository", "", "the repository URL (default: from git remote origin, or a github.com module path)")
	fl.StringSliceVar(&o.Targets, "targets", nil, "the targets, comma-separated (default: linux, darwin, windows × x64, arm64)")
	fl.StringVar(&o.StampVar, "stamp-var", initcmd.DefaultStampVar, "the string variable of package main the build stamp is set in; given, the stamp is used even where package main has a version variable")
	fl.StringVar(&o.VersionVar, "version-var", "", "a string variable the build sets to the version, IMPORTPATH.NAME or main.NAME, for a binary that prints it on --version instead of carrying the build stamp (default: package main's version or Version, when it has no stamp variable and --stamp-var is not given)")
	fl.BoolVar(&o.Force, "force", false, "overwrite an existing release.yaml")
	return cmd
}

// packagerModule is the packager's main package and the version this binary
// was built at, for the workflows to run the same packager. Its path comes
// from this package's own import path, not a written URL.
func packagerModule() (path, version string) {
	pkg := reflect.TypeOf(globalOptions{}).PkgPath() // <module>/internal/cli
	path = strings.TrimSuffix(pkg, "/internal/cli") + "/cmd/packager"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" && !strings.Contains(bi.Main.Version, "+dirty") {
		version = bi.Main.Version
	}
	return path, version
}

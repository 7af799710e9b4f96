// Package cli holds the packager's cobra commands. Commands stay thin: they
// parse flags, call the package for their step, and print what it made.
package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Execute runs the packager with args and returns its exit code.
func Execute(args []string) int {
	root := &cobra.Command{
		Use:           "packager",
		Short:         "Build, verify and publish tern releases",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "packager: %v\n", err)
		return 1
	}
	return 0
}

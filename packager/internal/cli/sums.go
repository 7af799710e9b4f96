package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/checksum"
)

func newSums() *cobra.Command {
	return &cobra.Command{
		Use:   "sums FILE...",
		Short: "Print sha256sum-style lines for files, hashed as the release hashes them",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			sums, _, err := checksum.HashFiles(paths)
			if err != nil {
				return err
			}
			for i, p := range paths {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s\n", sums[i], filepath.Base(p))
			}
			return nil
		},
	}
}

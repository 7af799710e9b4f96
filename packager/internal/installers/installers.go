// Package installers publishes install.sh and install.ps1 in the release,
// where SHA256SUMS covers them like every other file. The scripts consume
// only what the release already holds (archives, SHA256SUMS, its signature):
// there is no installer-only artifact to make.
package installers

import (
	"os"
	"path/filepath"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Dir holds the scripts, relative to the repository.
const Dir = "installers"

// Scripts are the published installers.
var Scripts = []string{"install.sh", "install.ps1"}

// Pipe copies the installers into the release.
type Pipe struct{}

func (Pipe) String() string { return "add the installers" }

func (Pipe) Run(ctx *pipeline.Context) error {
	for _, name := range Scripts {
		raw, err := os.ReadFile(filepath.Join(ctx.Root, Dir, name))
		if err != nil {
			return err
		}
		out := filepath.Join(ctx.Release, name)
		if err := os.WriteFile(out, raw, 0o644); err != nil {
			return err
		}
		ctx.Artifacts.Add(artifact.Artifact{Name: name, Path: out, Kind: artifact.Installer})
	}
	return nil
}

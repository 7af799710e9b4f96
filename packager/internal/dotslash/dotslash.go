// Package dotslash writes the release's DotSlash file: a small executable
// JSON file that, run through dotslash, downloads the right archive for the
// machine from the release, checks its size and sha256, and runs tern
// from it.
package dotslash

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/checksum"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Shebang starts every DotSlash file.
const Shebang = "#!/usr/bin/env dotslash\n\n"

// File is a DotSlash file's JSON.
type File struct {
	Name      string              `json:"name"`
	Platforms map[string]Platform `json:"platforms"`
}

// Platform is one platform's entry.
type Platform struct {
	Size      int64      `json:"size"`
	Hash      string     `json:"hash"`
	Digest    string     `json:"digest"`
	Format    string     `json:"format"`
	Path      string     `json:"path"`
	Providers []Provider `json:"providers"`
}

// Provider is where DotSlash downloads from.
type Provider struct {
	URL string `json:"url"`
}

// PlatformKey is DotSlash's name for a target: linux-x86_64, macos-aarch64.
func PlatformKey(t config.Target) string {
	os := map[string]string{"darwin": "macos"}[t.GOOS]
	if os == "" {
		os = t.GOOS
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[t.GOARCH]
	return os + "-" + arch
}

// Pipe writes the DotSlash file.
type Pipe struct{}

func (Pipe) String() string { return "write the DotSlash file" }

func (Pipe) Run(ctx *pipeline.Context) error {
	if err := checksum.Digest(ctx, artifact.ByKind(artifact.Archive)); err != nil {
		return err
	}
	c, version := ctx.Config, ctx.Version.String()
	f := File{Name: c.Binary, Platforms: map[string]Platform{}}
	for _, a := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Archive)) {
		t, ok := c.Target(a.Target)
		if !ok {
			return fmt.Errorf("%s is for target %q, which release.yaml does not have", a.Name, a.Target)
		}
		f.Platforms[PlatformKey(t)] = Platform{
			Size: a.Size, Hash: "sha256", Digest: a.SHA256, Format: string(layout.FormatFor(t)),
			Path:      path.Join(layout.Prefix(c, version, t), "bin", c.BinaryName(t)),
			Providers: []Provider{{URL: fmt.Sprintf("%s/releases/download/v%s/%s", c.Repository, version, a.Name)}},
		}
	}
	var b bytes.Buffer
	b.WriteString(Shebang)
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		return err
	}
	out := filepath.Join(ctx.Release, layout.DotSlashName(c))
	if err := os.WriteFile(out, b.Bytes(), 0o755); err != nil {
		return err
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: layout.DotSlashName(c), Path: out, Kind: artifact.DotSlash})
	return nil
}

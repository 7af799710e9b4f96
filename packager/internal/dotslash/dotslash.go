// Package dotslash writes the release's DotSlash file: a small executable
// JSON file that, run through dotslash, downloads the right archive for the
// machine from the release, checks its size and sha256, and runs the
// binary from it. It never names a platform DotSlash cannot run on.
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

// dotslashOS and dotslashArch are the only names DotSlash knows: it is
// built for Linux, macOS and Windows on x86_64 and aarch64, and looks up
// exactly one of those six keys on the machine it runs on (its
// platform.rs). A key for any other target could never be chosen.
var (
	dotslashOS   = map[string]string{"linux": "linux", "darwin": "macos", "windows": "windows"}
	dotslashArch = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}
)

// PlatformKey is DotSlash's name for a target (linux-x86_64,
// macos-aarch64), and false for a target DotSlash does not run on
// (freebsd, 386, arm, riscv64 …), which the DotSlash file leaves out.
func PlatformKey(t config.Target) (string, bool) {
	system, okOS := dotslashOS[t.GOOS]
	arch, okArch := dotslashArch[t.GOARCH]
	if !okOS || !okArch {
		return "", false
	}
	return system + "-" + arch, true
}

// Pipe writes the DotSlash file, unless doors.dotslash is false.
type Pipe struct{}

func (Pipe) String() string { return "write the DotSlash file" }

func (Pipe) Run(ctx *pipeline.Context) error {
	c, version := ctx.Config, ctx.Version.String()
	if !c.Doors.DotSlashOn() {
		ctx.Logf("skipped: doors.dotslash is false in release.yaml")
		return nil
	}
	if err := checksum.Digest(ctx, artifact.ByKind(artifact.Archive)); err != nil {
		return err
	}
	f := File{Name: c.Binary, Platforms: map[string]Platform{}}
	owner := map[string]string{} // platform key → the target that has it
	for _, a := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Archive)) {
		t, ok := c.Target(a.Target)
		if !ok {
			return fmt.Errorf("%s is for target %q, which release.yaml does not have", a.Name, a.Target)
		}
		key, ok := PlatformKey(t)
		if !ok {
			ctx.Logf("%s: left out, DotSlash runs only on linux, macOS and windows, x86_64 and aarch64", t.Name)
			continue
		}
		if other, dup := owner[key]; dup {
			return fmt.Errorf("targets %s and %s are both DotSlash's %s, and its file holds one archive per platform: "+
				"remove one of them from release.yaml, or set doors: {dotslash: false}", other, t.Name, key)
		}
		owner[key] = t.Name
		f.Platforms[key] = Platform{
			Size: a.Size, Hash: "sha256", Digest: a.SHA256, Format: string(layout.FormatFor(t)),
			Path:      path.Join(layout.Prefix(c, version, t), "bin", c.BinaryName(t)),
			Providers: []Provider{{URL: fmt.Sprintf("%s/releases/download/v%s/%s", c.Repository, version, a.Name)}},
		}
	}
	if len(f.Platforms) == 0 {
		// A file no machine can run would only mislead: write none. verify
		// expects none either, from the same PlatformKey.
		ctx.Logf("skipped: no target is one DotSlash runs on (linux, macOS or windows, x86_64 or aarch64)")
		return nil
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

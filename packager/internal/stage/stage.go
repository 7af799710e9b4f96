// Package stage builds one directory tree per target, the single layout that
// becomes the archive, the npm platform package and the container image:
//
//	bin/<binary>[.exe]
//	libexec/<product>/<helpers>   (only when the target has helpers)
//	LICENSE
//	THIRD_PARTY_NOTICES.md
//	<release.yaml's files:, each at its dst>
//
// Staging copies; it never changes a binary.
package stage

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/notices"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Pipe stages every target.
type Pipe struct {
	Notices *notices.Writer
}

func (Pipe) String() string { return "stage one tree per target" }

func (p Pipe) Run(ctx *pipeline.Context) error {
	if err := os.RemoveAll(ctx.StageDir()); err != nil {
		return err
	}
	for _, t := range ctx.Config.Targets {
		if err := p.stage(ctx, t); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	return nil
}

func (p Pipe) stage(ctx *pipeline.Context, t config.Target) error {
	bin, err := ctx.Artifacts.One(artifact.And(artifact.ByKind(artifact.Binary), artifact.ByTarget(t.Name)), "binary for "+t.Name)
	if err != nil {
		return err
	}
	dir := filepath.Join(ctx.StageDir(), t.Name)
	if err := fileutil.CopyFile(bin.Path, filepath.Join(dir, "bin", bin.Name), 0o755); err != nil {
		return err
	}

	helpers := ctx.Artifacts.Filter(artifact.And(artifact.ByKind(artifact.Helper), artifact.ByTarget(t.Name)))
	for _, want := range t.Helpers {
		if !hasName(helpers, want) {
			return fmt.Errorf("helper %s was not built: run `packager helpers build`", want)
		}
	}
	for _, h := range helpers {
		if err := fileutil.CopyFile(h.Path, filepath.Join(dir, filepath.FromSlash(ctx.Config.HelperDir()), h.Name), 0o755); err != nil {
			return err
		}
	}

	if err := fileutil.CopyFile(filepath.Join(ctx.Root, ctx.Config.LicenseFile), filepath.Join(dir, layout.License), 0o644); err != nil {
		return err
	}
	for i, f := range ctx.Config.Files {
		// Read inside release.yaml's directory, never through a link out of
		// it: the tree ships what the repository holds, nothing of the host.
		data, err := ctx.Config.ReadSource(f.Src)
		if err != nil {
			return fmt.Errorf("release.yaml's files[%d].src: %w", i, err)
		}
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(f.Dst)), data, 0o644); err != nil {
			return fmt.Errorf("release.yaml's files[%d].dst: %w", i, err)
		}
	}
	var helperNotices []notices.Helper
	for _, h := range helpers {
		text, err := os.ReadFile(h.LicenseFile)
		if err != nil {
			return fmt.Errorf("the licence of helper %s: %w", h.Name, err)
		}
		n := notices.Helper{Name: h.Name, Version: h.Version, LicenseText: string(text)}
		if h.Source != nil {
			n.License, n.Source = h.Source.License, fmt.Sprintf("%s (sha256 %s)", h.Source.URL, h.Source.SHA256)
		}
		helperNotices = append(helperNotices, n)
	}
	text, err := p.Notices.For(ctx.Config.Product, bin.Path, helperNotices)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, layout.Notices), text, 0o644); err != nil {
		return err
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: t.Name, Path: dir, Kind: artifact.Tree, Target: t.Name})
	return nil
}

// writeFile writes data to path with exactly mode (whatever the umask),
// making path's directory.
func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode)
}

func hasName(list []artifact.Artifact, name string) bool {
	for _, a := range list {
		if a.Name == name {
			return true
		}
	}
	return false
}

package publish

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/tern-agent/tern/packager/internal/brew"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/doors"
	"github.com/tern-agent/tern/packager/internal/gitpublish"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/scoop"
	"github.com/tern-agent/tern/packager/internal/winget"
)

// GitOptions configure a publish to a git repository: a tap, a bucket, a
// winget-pkgs fork.
type GitOptions struct {
	Repo string // what git clone takes
	Dir  string // the release directory
	Git  string // the git CLI
	Log  io.Writer
}

// released reads the release's manifest and its archives, which the file
// a door publishes must agree with.
func released(dir string) (*manifest.Manifest, []doors.Archive, error) {
	m, err := manifest.Read(filepath.Join(dir, layout.Manifest))
	if err != nil {
		return nil, nil, err
	}
	return m, doors.FromManifest(m), nil
}

// readDoorFile reads a door's file from the release.
func readDoorFile(dir, name, door string) ([]byte, error) {
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("the release in %s has no %s: make it with doors.%s on in release.yaml (packager release), or set the door off", dir, name, door)
	}
	return raw, err
}

// Homebrew commits the release's cask to the tap's Casks/, after checking
// it against the release's archives.
func Homebrew(ctx context.Context, cfg *config.Config, o GitOptions) (gitpublish.Result, error) {
	if !cfg.Doors.HomebrewOn() {
		fmt.Fprintf(o.Log, "homebrew skipped: doors.homebrew is false in release.yaml, so the release has no cask to publish\n")
		return gitpublish.Result{}, nil
	}
	m, archives, err := released(o.Dir)
	if err != nil {
		return gitpublish.Result{}, err
	}
	name := brew.FileName(cfg)
	raw, err := readDoorFile(o.Dir, name, "homebrew")
	if err != nil {
		return gitpublish.Result{}, err
	}
	if err := brew.Check(cfg, m.Version, raw, archives); err != nil {
		return gitpublish.Result{}, fmt.Errorf("%w\nthe cask does not match the release: run packager verify", err)
	}
	fmt.Fprintf(o.Log, "publishing the Homebrew cask %s %s to %s\n", brew.Token(cfg), m.Version, gitpublish.Redact(o.Repo))
	return gitpublish.Publish(ctx, gitpublish.Change{
		URL: o.Repo, Files: map[string][]byte{path.Join(brew.Dir, name): raw},
		Message: fmt.Sprintf("%s %s", brew.Token(cfg), m.Version), Git: o.Git, Log: o.Log,
	})
}

// Scoop commits the release's manifest to the bucket's bucket/, after
// checking it against the release's archives.
func Scoop(ctx context.Context, cfg *config.Config, o GitOptions) (gitpublish.Result, error) {
	if !cfg.Doors.ScoopOn() {
		fmt.Fprintf(o.Log, "scoop skipped: doors.scoop is false in release.yaml, so the release has no Scoop manifest to publish\n")
		return gitpublish.Result{}, nil
	}
	m, archives, err := released(o.Dir)
	if err != nil {
		return gitpublish.Result{}, err
	}
	name := scoop.FileName(cfg)
	raw, err := readDoorFile(o.Dir, name, "scoop")
	if err != nil {
		return gitpublish.Result{}, err
	}
	if err := scoop.Check(cfg, m.Version, raw, archives); err != nil {
		return gitpublish.Result{}, fmt.Errorf("%w\nthe Scoop manifest does not match the release: run packager verify", err)
	}
	fmt.Fprintf(o.Log, "publishing the Scoop manifest %s %s to %s\n", name, m.Version, gitpublish.Redact(o.Repo))
	return gitpublish.Publish(ctx, gitpublish.Change{
		URL: o.Repo, Files: map[string][]byte{path.Join(scoop.Dir, name): raw},
		Message: fmt.Sprintf("%s: Update to version %s", cfg.Binary, m.Version), Git: o.Git, Log: o.Log,
	})
}

// Winget commits the release's three manifests to a branch
// <PackageIdentifier>-<version> of a fork of winget-pkgs, in
// manifests/<letter>/<Publisher>/<Name>/<version>/, ready for a pull
// request to microsoft/winget-pkgs.
func Winget(ctx context.Context, cfg *config.Config, o GitOptions) (gitpublish.Result, error) {
	if !cfg.Doors.WingetOn() {
		fmt.Fprintf(o.Log, "winget skipped: doors.winget is false in release.yaml, so the release has no winget manifests to publish\n")
		return gitpublish.Result{}, nil
	}
	m, archives, err := released(o.Dir)
	if err != nil {
		return gitpublish.Result{}, err
	}
	_, id, err := winget.Identity(cfg)
	if err != nil {
		return gitpublish.Result{}, err
	}
	names := winget.FileNames(id)
	var ms winget.Manifests
	for i, into := range []*[]byte{&ms.Version, &ms.Installer, &ms.Locale} {
		if *into, err = readDoorFile(o.Dir, names[i], "winget"); err != nil {
			return gitpublish.Result{}, err
		}
	}
	if err := winget.Check(cfg, m.Version, ms, archives); err != nil {
		return gitpublish.Result{}, fmt.Errorf("%w\nthe winget manifests do not match the release: run packager verify", err)
	}
	dir := winget.Dir(id, m.Version)
	files := map[string][]byte{}
	for name, raw := range ms.Files(id) {
		files[path.Join(dir, name)] = raw
	}
	branch := id + "-" + m.Version
	fmt.Fprintf(o.Log, "publishing the winget manifests of %s %s to %s, branch %s\n", id, m.Version, gitpublish.Redact(o.Repo), branch)
	return gitpublish.Publish(ctx, gitpublish.Change{
		URL: o.Repo, Branch: branch, Files: files,
		Message: fmt.Sprintf("New version: %s version %s", id, m.Version), Git: o.Git, Log: o.Log,
	})
}

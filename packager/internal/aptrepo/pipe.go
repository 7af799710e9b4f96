package aptrepo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Pipe writes the flat apt repository of the release's .deb files into the
// release directory, so the release's assets are the repository.
type Pipe struct {
	// Key signs the repository: APT_SIGNING_KEY's. Nil for a snapshot
	// means a throw-away key, whose public half is written to
	// dist/snapshot-apt.asc; a release without one is refused by CheckKey.
	Key *Key
}

func (Pipe) String() string { return "write the signed apt repository" }

// CheckKey refuses, before anything is built, a release (not a snapshot)
// whose apt repository would have no key to be signed with.
func CheckKey(doorOn, snapshot bool, key *Key) error {
	if doorOn && !snapshot && key == nil {
		return fmt.Errorf("%s is not set, and a release's apt repository is signed with the project's own OpenPGP key (users pin it with signed-by): set it, or set doors: {apt: false} in release.yaml", EnvKey)
	}
	return nil
}

func (p Pipe) Run(ctx *pipeline.Context) error {
	c := ctx.Config
	if !c.Doors.AptOn() {
		ctx.Logf("skipped: doors.apt (or doors.linux_packages) is false in release.yaml")
		return nil
	}
	var debs []string
	for _, a := range ctx.Artifacts.Filter(artifact.ByKind(artifact.LinuxPackage)) {
		if strings.HasSuffix(a.Name, ".deb") {
			debs = append(debs, a.Path)
		}
	}
	if len(debs) == 0 {
		ctx.Logf("skipped: the release has no .deb")
		return nil
	}
	key := p.Key
	if key == nil {
		if err := CheckKey(true, ctx.Version.Snapshot, nil); err != nil {
			return err
		}
		var err error
		if key, err = DeriveSnapshotKey(c.Product, ctx.Version.Commit, ctx.Version.Time); err != nil {
			return err
		}
		pub, err := key.PublicArmored()
		if err != nil {
			return err
		}
		p := filepath.Join(ctx.Dist, SnapshotKey)
		if err := os.WriteFile(p, pub, 0o644); err != nil {
			return err
		}
		ctx.Logf("UNTRUSTED SNAPSHOT APT KEY: the repository is signed with a key derived from the commit, which anyone can derive; its public half is %s", p)
	}
	res, err := WriteFlat(ctx.Release, debs, Options{Product: c.Product, Version: ctx.Version.String(), Time: ctx.Version.Time, Key: key})
	if err != nil {
		return err
	}
	for _, name := range res.Files {
		ctx.Artifacts.Add(artifact.Artifact{Name: name, Path: filepath.Join(ctx.Release, name), Kind: artifact.AptRepo})
	}
	if len(res.Files) == 0 {
		return errors.New("the apt repository wrote no file")
	}
	return nil
}

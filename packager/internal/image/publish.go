package image

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/sign"
)

// Options say which release to make the image of, where to push it and
// how to sign it.
type Options struct {
	Config     *config.Config
	ReleaseDir string       // the verified release: its manifest names the binaries
	StageDir   string       // the staged trees the image is made of
	Repo       string       // e.g. ghcr.io/tern-agent/tern
	Cosign     string       // the cosign CLI
	Sign       sign.Options // from sign.OptionsFromEnv, as for the release
	Offline    bool         // sign without the transparency log (local registries)
}

// Publish builds the image of the release in o.ReleaseDir, pushes it tagged
// with the release version, signs it, and returns its digest reference. It
// checks that it can sign before it pushes anything: an image that cannot be
// signed never reaches the registry. With doors.image false it builds and
// pushes nothing, says so, and returns the zero digest: the release
// workflow runs it either way.
func Publish(ctx context.Context, o Options, log io.Writer) (name.Digest, error) {
	if !o.Config.Doors.ImageOn() {
		fmt.Fprintf(log, "skipped the image: doors.image is false in release.yaml, so nothing is built, pushed or signed\n")
		return name.Digest{}, nil
	}
	if err := o.Sign.Check(false); err != nil {
		return name.Digest{}, fmt.Errorf("refusing to push an image that would stay unsigned: %w", err)
	}
	m, err := manifest.Read(filepath.Join(o.ReleaseDir, layout.Manifest))
	if err != nil {
		return name.Digest{}, err
	}
	if err := stagedIsReleased(o.Config, m, o.StageDir); err != nil {
		return name.Digest{}, err
	}
	idx, err := Build(o.Config, o.StageDir, Release{Version: m.Version, Commit: m.Commit, Created: m.Time})
	if err != nil {
		return name.Digest{}, err
	}
	ref, err := Push(ctx, idx, o.Repo, m.Version)
	if err != nil {
		return name.Digest{}, err
	}
	fmt.Fprintf(log, "%s\n", ref)
	var out strings.Builder
	if err := Sign(ctx, ref, SignOptions{Cosign: o.Cosign, Sign: o.Sign, Offline: o.Offline}, &out); err != nil {
		return ref, fmt.Errorf("pushed %s, but signing it failed (run packager image again to sign it): %w", ref, err)
	}
	return ref, nil
}

// stagedIsReleased refuses to build an image from trees whose binaries are
// not the ones the release's archives hold.
func stagedIsReleased(cfg *config.Config, m *manifest.Manifest, stage string) error {
	for _, a := range m.Artifacts {
		if a.Kind != artifact.Archive || a.Binary == nil {
			continue
		}
		t, ok := cfg.Target(a.Target)
		if !ok || t.GOOS != "linux" {
			continue
		}
		p := filepath.Join(stage, t.Name, "bin", cfg.BinaryName(t))
		sum, _, err := fileutil.SHA256File(p)
		if err != nil {
			return fmt.Errorf("%s: %w (run packager release first: the image is made from its staged trees)", p, err)
		}
		if sum != a.Binary.SHA256 {
			return fmt.Errorf("%s has sha256 %s, but the release's %s holds %s: the staged trees are not this release's", p, sum, a.Name, a.Binary.SHA256)
		}
	}
	return nil
}

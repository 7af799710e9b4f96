// Package release runs the release pipeline: helpers → build → stage →
// pack → npm, installers, SBOMs, DotSlash → manifest → checksum → sign →
// verify. It writes into a fresh directory and
// moves it to dist/release only when every step has succeeded, so a failed
// run leaves the previous release as it was and never a half-made one.
package release

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/build"
	"github.com/tern-agent/tern/packager/internal/checksum"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/dotslash"
	"github.com/tern-agent/tern/packager/internal/helperbuild"
	"github.com/tern-agent/tern/packager/internal/installers"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/notices"
	"github.com/tern-agent/tern/packager/internal/npm"
	"github.com/tern-agent/tern/packager/internal/pack"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/sbom"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/stage"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
	"github.com/tern-agent/tern/packager/internal/verify"
	"github.com/tern-agent/tern/packager/internal/version"
)

// Step names the last step to run.
type Step int

const (
	Stage Step = iota
	Pack
	NPM
	Sign
	Verify
)

// Options configure a run.
type Options struct {
	Root       string // repository root
	ConfigPath string // release.yaml; default <Root>/release.yaml
	Snapshot   bool
	GoReleaser string
	ReuseBuild bool // read dist/build/artifacts.json instead of building
	// SourceCache is the content-addressed source cache; empty for the
	// user's default.
	SourceCache string
	Sign        sign.Options
	Until       Step
	Log         io.Writer
}

// Run runs the pipeline up to o.Until and returns the finished context.
func Run(ctx context.Context, o Options) (*pipeline.Context, error) {
	if o.ConfigPath == "" {
		o.ConfigPath = filepath.Join(o.Root, "release.yaml")
	}
	cfg, err := config.Load(o.ConfigPath)
	if err != nil {
		return nil, err
	}
	ver, err := version.FromGit(o.Root, o.Snapshot)
	if err != nil {
		return nil, err
	}
	dist := layout.Dist(o.Root)
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(dist, ".release-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(work, 0o755); err != nil { // MkdirTemp makes it private
		return nil, err
	}
	defer os.RemoveAll(work) // gone after the swap, or after a failure
	pc := &pipeline.Context{
		Context: ctx, Config: cfg, Version: ver, Root: o.Root, Dist: dist,
		Release: work, Artifacts: &artifact.List{}, Log: o.Log,
	}
	fmt.Fprintf(o.Log, "%s %s (commit %.12s, %s)\n", cfg.Product, ver, ver.Commit, ver.Time.Format("2006-01-02T15:04:05Z"))

	signer := &signPipe{Pipe: sign.Pipe{Options: o.Sign}}
	pinned, err := pinnedKey(o.Sign)
	if err != nil {
		return nil, err
	}
	cache := thirdparty.Cache{Dir: o.SourceCache}
	if cache.Dir == "" {
		if cache, err = thirdparty.DefaultCache(); err != nil {
			return nil, err
		}
	}
	pipes := []pipeline.Pipe{
		helperbuild.Pipe{Builder: helperbuild.Builder{Cache: cache, Out: layout.HelpersDir(o.Root), Log: o.Log}},
		build.Pipe{GoReleaser: o.GoReleaser, Reuse: o.ReuseBuild},
		stage.Pipe{Notices: &notices.Writer{}},
	}
	if o.Until >= Pack {
		pipes = append(pipes, pack.Pipe{})
	}
	if o.Until >= NPM {
		pipes = append(pipes, npm.Pipe{}, installers.Pipe{PublicKeyPEM: pinned}, sbom.Pipe{}, dotslash.Pipe{})
	}
	if o.Until >= Sign {
		pipes = append(pipes, manifest.Pipe{}, checksum.Pipe{}, signer)
	}
	if o.Until >= Verify {
		pipes = append(pipes, verifyPipe{signer: signer})
	}
	if err := pipeline.Run(pc, pipes...); err != nil {
		return nil, err
	}
	if o.Until >= Verify {
		// Hash what is not hashed yet (SHA256SUMS and its signature, written
		// last) while the paths still lead to the files, before the swap.
		if err := checksum.Digest(pc, artifact.ReleaseFiles); err != nil {
			return nil, fmt.Errorf("hashing the release files for the summary: %w", err)
		}
	}
	if o.Until >= Pack {
		if err := swap(work, layout.ReleaseDir(o.Root)); err != nil {
			return nil, err
		}
		pc.Release = layout.ReleaseDir(o.Root)
		fmt.Fprintf(o.Log, "release written to %s\n", pc.Release)
		if o.Until >= Verify {
			summary(o.Log, pc)
		}
	}
	return pc, nil
}

// pinnedKey is the public key the installers pin: COSIGN_KEY's, when the
// release is signed with it. Keyless releases and snapshots signed with a
// throw-away key pin none. The installers are written before the sign step,
// so the key is read here.
func pinnedKey(o sign.Options) ([]byte, error) {
	if o.Key == "" || o.Keyless {
		return nil, nil
	}
	priv, err := sign.LoadCosignKey(o.Key, o.Password)
	if err != nil {
		return nil, err
	}
	return sign.PublicKeyPEM(&priv.PublicKey)
}

// summary prints every release file with its size, digest and what the gate
// checked of it. Every digest is known by then: Run hashes them all.
func summary(w io.Writer, ctx *pipeline.Context) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nartifact\ttarget\tsize\tsha256\tverified")
	for _, a := range ctx.Artifacts.Filter(artifact.ReleaseFiles) {
		target := a.Target
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.12s\t%s\n", a.Name, target, humanSize(a.Size), a.SHA256, verify.Checks(a.Kind))
	}
	tw.Flush()
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// swap replaces dst with src, keeping the old dst until src is in place.
func swap(src, dst string) error {
	old := dst + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dst, old); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		os.Rename(old, dst) // put the previous release back
		return err
	}
	return os.RemoveAll(old)
}

// signPipe signs and remembers the public key, so that the gate can check
// the signature just made without decrypting the key a second time.
type signPipe struct {
	sign.Pipe
	publicKey crypto.PublicKey
}

func (s *signPipe) Run(ctx *pipeline.Context) error {
	pub, err := s.Pipe.Sign(ctx)
	s.publicKey = pub
	return err
}

// verifyPipe runs the release gate on what was just made.
type verifyPipe struct{ signer *signPipe }

func (verifyPipe) String() string { return "verify the release" }

func (v verifyPipe) Run(ctx *pipeline.Context) error {
	opts := verify.Options{Config: ctx.Config, PublicKey: v.signer.publicKey}
	if opts.PublicKey == nil { // keyless: check the identity the release must carry
		opts.CertificateIdentityRegexp = ctx.Config.Signing.CertificateIdentityRegexp
		opts.CertificateOIDCIssuer = ctx.Config.Signing.CertificateOIDCIssuer
	}
	return verify.Release(ctx.Release, opts)
}

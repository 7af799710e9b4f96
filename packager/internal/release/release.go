// Package release runs the release pipeline: helpers → build → stage →
// handoff, then (on the same machine or another) check the handoffs →
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
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/platformsign"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/verify"
)

// Step names the last step to run. The zero Step is no step: a caller
// that forgets Until gets an error, not a release cut short.
type Step int

const (
	Stage Step = iota + 1
	Pack
	// Doors writes what every other way in needs besides the archives:
	// the npm packages, the installers, the SBOMs and the DotSlash file.
	Doors
	Sign
	Verify
)

func (s Step) check() error {
	if s < Stage || s > Verify {
		return fmt.Errorf("no such last step %d: choose one of release.Stage … release.Verify (Verify for a whole release)", s)
	}
	return nil
}

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
	// Platform holds the platform-signing secrets (platformsign.SecretsFromEnv).
	Platform platformsign.Secrets
	// Packages sign the Linux packages and the apt repository.
	Packages PackageKeys
	Until    Step
	Log      io.Writer
}

// Run runs the pipeline up to o.Until and returns the finished context. It
// is Build of every target followed by Merge of that one handoff: the same
// path a release split across machines takes, so both give the same bytes.
func Run(ctx context.Context, o Options) (*pipeline.Context, error) {
	if err := o.Until.check(); err != nil {
		return nil, err
	}
	dist := layout.Dist(o.Root)
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(dist, ".handoff-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	handoff := filepath.Join(tmp, "all")
	_, err = Build(ctx, BuildOptions{
		Root: o.Root, ConfigPath: o.ConfigPath, Snapshot: o.Snapshot,
		GoReleaser: o.GoReleaser, ReuseBuild: o.ReuseBuild, SourceCache: o.SourceCache,
		Out: handoff, Log: o.Log, Platform: o.Platform, MergeKeys: &o.Packages,
	})
	if err != nil {
		return nil, err
	}
	return Merge(ctx, MergeOptions{
		Root: o.Root, ConfigPath: o.ConfigPath, Snapshot: o.Snapshot,
		Handoffs: []string{handoff}, Sign: o.Sign, Packages: o.Packages, Until: o.Until, Log: o.Log,
	})
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

package platformsign

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Pipe signs every darwin and windows binary in the registry.
type Pipe struct {
	Secrets Secrets
	// Signer does the work; nil for the real one, made from Secrets.
	Signer Signer
}

func (Pipe) String() string { return "sign the darwin and windows binaries" }

func (p Pipe) Run(ctx *pipeline.Context) error {
	signer := p.Signer
	if signer == nil {
		s, err := NewSigner(ctx, p.Secrets)
		if err != nil {
			return err
		}
		signer = s
	}
	out := filepath.Join(ctx.Dist, "signed")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	bins := ctx.Artifacts.Filter(artifact.ByKind(artifact.Binary))
	for _, b := range bins {
		t, ok := ctx.Config.Target(b.Target)
		if !ok || (t.GOOS != "darwin" && t.GOOS != "windows") {
			continue
		}
		dst := filepath.Join(out, t.Name, b.Name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		start := time.Now()
		how, err := signer.Sign(ctx, t, b.Path, dst)
		if err != nil {
			return fmt.Errorf("%s: signing %s: %w", t.Name, b.Path, err)
		}
		if how == "" { // left unsigned
			continue
		}
		if err := sameCode(t.GOOS, b.Path, dst); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		if err := os.Chmod(dst, 0o755); err != nil {
			return err
		}
		ctx.Artifacts.Move(b.Path, dst)
		sum, _, err := fileutil.SHA256File(dst)
		if err != nil {
			return err
		}
		ctx.Logf("%s: %s (%s, sha256 %.12s)", t.Name, how, time.Since(start).Round(time.Millisecond), sum)
	}
	return signer.Finish(ctx)
}

// sameCode proves the signed binary is the build plus a signature: both
// without their signatures are the same bytes. The manifest's
// unsigned_sha256, which verify holds every shipped binary to, is then the
// digest of what GoReleaser built.
func sameCode(goos, built, signed string) error {
	a, err := os.ReadFile(built)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(signed)
	if err != nil {
		return err
	}
	ua, _, err := Unsigned(goos, a)
	if err != nil {
		return fmt.Errorf("%s without its signature: %w", built, err)
	}
	ub, _, err := Unsigned(goos, b)
	if err != nil {
		return fmt.Errorf("%s without its signature: %w", signed, err)
	}
	if !bytes.Equal(ua, ub) {
		return fmt.Errorf("signing changed more than the signature of %s: refusing to ship it", built)
	}
	return nil
}

package platformsign

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tern-agent/tern/packager/internal/authenticode"
	"github.com/tern-agent/tern/packager/internal/codesign"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/notary"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Signer signs one binary at a time, and notarizes at the end.
type Signer interface {
	// Sign writes to dst the signed binary at src for target t and says
	// how it signed it; "" when it leaves the binary unsigned and writes
	// nothing.
	Sign(ctx *pipeline.Context, t config.Target, src, dst string) (string, error)
	// Finish runs once every binary is signed: notarization.
	Finish(ctx *pipeline.Context) error
}

// signer is the real Signer: codesign in-process for darwin, osslsigncode
// for windows, Apple's notary service for a release that asks for it.
type signer struct {
	mac    *codesign.Options     // nil: ad hoc
	win    *authenticode.Options // nil: unsigned
	notary *notary.Client        // nil: not notarized
	signed []string              // darwin binaries signed with mac, for the notary
}

// NewSigner reads the identities in s. A darwin identity whose certificate
// is not release.yaml's, or whose team is not, is refused before anything
// is signed.
func NewSigner(ctx *pipeline.Context, s Secrets) (Signer, error) {
	r := &signer{}
	cfg := ctx.Config
	if len(s.MacP12) > 0 {
		o, err := codesign.LoadP12(s.MacP12, s.MacPassword)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvMacP12, err)
		}
		o.Hardened, o.TSAURL = true, s.MacTSA
		if d := cfg.PlatformSigning.Darwin; d != nil {
			if cn := o.Cert.Subject.CommonName; cn != d.Identity {
				return nil, fmt.Errorf("%s holds the certificate of %q, but release.yaml's platform_signing.darwin.identity is %q: export the right identity, or correct release.yaml", EnvMacP12, cn, d.Identity)
			}
			o.TeamID = d.TeamID
		}
		r.mac = &o
		if d := cfg.PlatformSigning.Darwin; d.NotarizeOn() && !ctx.Version.Snapshot {
			key, err := notary.ParseKey(s.NotaryKey)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", EnvNotaryKey, err)
			}
			r.notary = &notary.Client{
				Credentials: notary.Credentials{KeyID: s.NotaryKeyID, IssuerID: s.NotaryIssuerID, Key: key},
				BaseURL:     s.NotaryURL, Log: ctx.Log,
			}
			if u := strings.TrimSuffix(s.NotaryS3URL, "/"); u != "" {
				r.notary.S3Endpoint = func(bucket string) string { return u + "/" + bucket }
			}
		}
	}
	if len(s.WinP12) > 0 {
		r.win = &authenticode.Options{
			P12: s.WinP12, Password: s.WinPassword, TSAURL: s.WinTSA,
			Description: cfg.Product, URL: cfg.Repository, SigningTime: ctx.Version.Time,
		}
	}
	return r, nil
}

func (r *signer) Sign(ctx *pipeline.Context, t config.Target, src, dst string) (string, error) {
	switch t.GOOS {
	case "darwin":
		data, err := os.ReadFile(src)
		if err != nil {
			return "", err
		}
		var out []byte
		how := "ad-hoc signed"
		if r.mac != nil {
			o := *r.mac
			o.Identifier = ctx.Config.Binary
			out, err = codesign.Sign(data, o)
			how = "signed by " + o.Cert.Subject.CommonName
			r.signed = append(r.signed, dst)
		} else {
			out, err = codesign.SignAdHoc(data, ctx.Config.Binary)
		}
		if err != nil {
			return "", err
		}
		return how, os.WriteFile(dst, out, 0o755)
	case "windows":
		if r.win == nil {
			return "", nil
		}
		if err := authenticode.Sign(ctx, src, dst, *r.win); err != nil {
			return "", err
		}
		return "Authenticode-signed", nil
	}
	return "", nil
}

// Finish notarizes every Developer ID-signed darwin binary, all at once,
// and fails the release unless Apple accepts each, naming every refusal.
func (r *signer) Finish(ctx *pipeline.Context) error {
	if r.notary == nil || len(r.signed) == 0 {
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, len(r.signed))
	for i, p := range r.signed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.notarize(ctx, p)
		}()
	}
	wg.Wait()
	// Every refusal, not the first: each names its binary and submission.
	return errors.Join(errs...)
}

func (r *signer) notarize(ctx *pipeline.Context, p string) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	name := filepath.Base(filepath.Dir(p)) + "-" + filepath.Base(p)
	// The zip's entry is dated at the commit, as every file of the release.
	res, err := r.notary.NotarizeBinary(ctx, name, data, ctx.Version.Time)
	if err != nil {
		return fmt.Errorf("notarizing %s: %w", p, err)
	}
	fmt.Fprintf(r.notary.Log, "%s: notarized (submission %s, %s)\n", name, res.ID, res.Status)
	return nil
}

package verify

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/tern-agent/tern/packager/internal/authenticode"
	"github.com/tern-agent/tern/packager/internal/codesign"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/platformsign"
	"github.com/tern-agent/tern/packager/internal/version"
)

// platformSignature checks a darwin or windows binary's own signature as
// release.yaml's platform_signing asks, and that the binary without it is
// the unsigned build the manifest records.
//
// darwin: every binary is signed, ad hoc at least; the page hashes and the
// CMS are checked. A release (not a snapshot) whose config names an
// identity must carry it: that certificate, that team, hardened runtime, a
// secure timestamp, and a chain to the configured roots.
// windows: unsigned unless the config asks (a snapshot may be either); a
// signature must verify, by the configured identity and roots.
func (c *checker) platformSignature(a manifest.Artifact, t config.Target, ver string, data []byte) {
	cfg := c.opts.Config
	snapshot := version.IsSnapshot(ver)
	switch t.GOOS {
	case "darwin":
		c.darwinSignature(a, cfg.PlatformSigning.Darwin, snapshot, data)
	case "windows":
		c.windowsSignature(a, cfg.PlatformSigning.Windows, snapshot, data)
	default:
		return
	}
	if a.Binary == nil || a.Binary.UnsignedSHA256 == "" {
		if a.Binary != nil && !snapshot {
			c.fail(a.Name, "%s records no unsigned_sha256 for the %s binary: a release proves each signed binary is its reproducible build plus a signature", "manifest.json", t.GOOS)
		}
		return
	}
	unsigned, _, err := platformsign.Unsigned(t.GOOS, data)
	if err != nil {
		c.fail(a.Name, "binary's signature cannot be stripped: %v", err)
		return
	}
	sum := sha256.Sum256(unsigned)
	if got := hex.EncodeToString(sum[:]); got != a.Binary.UnsignedSHA256 {
		c.fail(a.Name, "binary without its signature has sha256 %s, but manifest.json records the unsigned build as %s: the signed binary is not that build plus a signature", got, a.Binary.UnsignedSHA256)
	}
}

func (c *checker) darwinSignature(a manifest.Artifact, d *config.DarwinSigning, snapshot bool, data []byte) {
	info, err := codesign.Verify(data)
	if err != nil {
		c.fail(a.Name, "binary's code signature is refused (every darwin binary is signed, ad hoc at least): %v", err)
		return
	}
	if info.AdHoc {
		if d != nil && !snapshot {
			c.fail(a.Name, "binary is signed ad hoc, but release.yaml's platform_signing.darwin asks for %q: cut the release with %s and %s set", d.Identity, platformsign.EnvMacP12, platformsign.EnvMacPassword)
		}
		return
	}
	if d == nil {
		if !snapshot {
			c.fail(a.Name, "binary is signed by %q, but release.yaml has no platform_signing.darwin to check that identity against: declare it", info.Signer.Subject.CommonName)
		}
		return
	}
	if cn := info.Signer.Subject.CommonName; cn != d.Identity {
		c.fail(a.Name, "binary is signed by %q, not release.yaml's platform_signing.darwin.identity %q", cn, d.Identity)
	}
	if info.TeamID != d.TeamID {
		c.fail(a.Name, "binary's CodeDirectory names team %q, not release.yaml's team_id %q", info.TeamID, d.TeamID)
	}
	if !snapshot {
		if info.Flags&codesign.FlagRuntime == 0 {
			c.fail(a.Name, "binary is signed without the hardened runtime, which notarization requires")
		}
		if info.Timestamp == nil {
			c.fail(a.Name, "binary's signature has no secure timestamp, which notarization requires")
		}
	}
	roots, err := c.platformRoots(d.Roots)
	if err != nil {
		c.fail(a.Name, "%v", err)
		return
	}
	at := time.Now()
	if info.Timestamp != nil {
		at = *info.Timestamp
	}
	inter := x509.NewCertPool()
	for _, cert := range info.Chain {
		inter.AddCert(cert)
	}
	if _, err := info.Signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
		c.fail(a.Name, "binary's signing certificate %q does not chain to the platform roots: %v", info.Signer.Subject.CommonName, err)
	}
}

func (c *checker) windowsSignature(a manifest.Artifact, w *config.WindowsSigning, snapshot bool, data []byte) {
	if authenticode.Unsigned(data) {
		if w != nil && !snapshot {
			c.fail(a.Name, "binary is not Authenticode-signed, but release.yaml's platform_signing.windows asks for %q: cut the release with %s and %s set", w.Identity, platformsign.EnvWinP12, platformsign.EnvWinPassword)
		}
		return
	}
	if w == nil {
		if !snapshot {
			c.fail(a.Name, "binary is Authenticode-signed, but release.yaml has no platform_signing.windows to check that identity against: declare it")
		}
		return
	}
	roots, err := c.platformRoots(w.Roots)
	if err != nil {
		c.fail(a.Name, "%v", err)
		return
	}
	if _, err := authenticode.Verify(data, authenticode.VerifyOptions{Roots: roots, SignerSubject: w.Identity}); err != nil {
		c.fail(a.Name, "binary's Authenticode signature is refused: %v", err)
	}
}

// platformRoots are the roots a platform signature must chain to: the
// --platform-roots file given to verify (a test root), else release.yaml's.
func (c *checker) platformRoots(configured string) (*x509.CertPool, error) {
	if c.opts.PlatformRoots != nil {
		return c.opts.PlatformRoots, nil
	}
	raw, err := os.ReadFile(c.opts.Config.SourcePath(configured))
	if err != nil {
		return nil, fmt.Errorf("the platform roots: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(raw) {
		return nil, fmt.Errorf("the platform roots %s hold no PEM certificate", configured)
	}
	return pool, nil
}

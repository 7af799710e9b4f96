package verify

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/dotslash"
	"github.com/tern-agent/tern/packager/internal/installers"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
)

// sboms checks that every archive has its SBOM, and that the SBOM describes
// this release's binary.
func (c *checker) sboms(m *manifest.Manifest) {
	listed := map[string]bool{}
	for _, a := range m.Artifacts {
		if a.Kind == artifact.SBOM {
			listed[a.Name] = true
		}
	}
	for _, a := range m.Artifacts {
		if a.Kind != artifact.Archive || a.Binary == nil {
			continue
		}
		name := layout.SBOMName(a.Name)
		if !listed[name] {
			c.fail(layout.Manifest, "lists no SBOM %s for %s", name, a.Name)
			continue
		}
		raw, err := os.ReadFile(filepath.Join(c.dir, name))
		if err != nil {
			c.fail(name, "%v", err)
			continue
		}
		var doc struct {
			BOMFormat string `json:"bomFormat"`
			Metadata  struct {
				Component struct {
					Name    string `json:"name"`
					Version string `json:"version"`
					Hashes  []struct {
						Alg     string `json:"alg"`
						Content string `json:"content"`
					} `json:"hashes"`
				} `json:"component"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil || doc.BOMFormat != "CycloneDX" {
			c.fail(name, "is not a CycloneDX JSON document (%v)", err)
			continue
		}
		comp := doc.Metadata.Component
		if comp.Version != m.Version {
			c.fail(name, "describes version %q, the release is %s", comp.Version, m.Version)
		}
		if len(comp.Hashes) == 0 || comp.Hashes[0].Alg != "SHA-256" || comp.Hashes[0].Content != a.Binary.SHA256 {
			c.fail(name, "does not record the binary of %s (sha256 %s)", a.Name, a.Binary.SHA256)
		}
	}
}

// dotslashFile checks that the DotSlash file points at every archive with
// its exact size, digest, format and binary path.
func (c *checker) dotslashFile(m *manifest.Manifest) {
	cfg := c.opts.Config
	name := layout.DotSlashName(cfg)
	raw, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		c.fail(name, "the DotSlash file is missing (%v)", err)
		return
	}
	body, ok := strings.CutPrefix(string(raw), dotslash.Shebang)
	var f dotslash.File
	if !ok || json.Unmarshal([]byte(body), &f) != nil {
		c.fail(name, "is not a DotSlash file (%q then JSON)", dotslash.Shebang)
		return
	}
	for _, a := range m.Artifacts {
		if a.Kind != artifact.Archive {
			continue
		}
		t, ok := cfg.Target(a.Target)
		if !ok {
			continue
		}
		p, ok := f.Platforms[dotslash.PlatformKey(t)]
		want := path.Join(layout.Prefix(cfg, m.Version, t), "bin", cfg.BinaryName(t))
		switch {
		case !ok:
			c.fail(name, "has no platform %s for %s", dotslash.PlatformKey(t), a.Name)
		case p.Digest != a.SHA256 || p.Size != a.Size || p.Hash != "sha256":
			c.fail(name, "gives %s size %d sha256 %s, the archive is %d bytes, sha256 %s", dotslash.PlatformKey(t), p.Size, p.Digest, a.Size, a.SHA256)
		case p.Format != string(layout.FormatFor(t)) || p.Path != want:
			c.fail(name, "gives %s format %q path %q, want %q %q", dotslash.PlatformKey(t), p.Format, p.Path, layout.FormatFor(t), want)
		case len(p.Providers) == 0 || !strings.HasSuffix(p.Providers[0].URL, "/v"+m.Version+"/"+a.Name):
			c.fail(name, "does not download %s from this release", a.Name)
		}
	}
}

// installerKeys checks the key each installer pins: the key the release is
// verified with, or none. A script pinning another key would check a later
// download against a key this release's signer does not hold; a keyless
// release's script must not pin one, for it would refuse every keyless
// signature.
func (c *checker) installerKeys() {
	var want []byte
	if c.opts.PublicKey != nil {
		der, err := x509.MarshalPKIXPublicKey(c.opts.PublicKey)
		if err != nil {
			c.fail(layout.InstallerScripts[0], "cannot compare its pinned key with the verifying key: %v", err)
			return
		}
		want = der
	}
	for _, name := range layout.InstallerScripts {
		raw, err := os.ReadFile(filepath.Join(c.dir, name))
		if err != nil {
			c.fail(name, "%v", err)
			continue
		}
		pinned, err := installers.Pinned(name, raw)
		if err != nil {
			c.fail(name, "%v", err)
			continue
		}
		if pinned == "" {
			continue
		}
		if want == nil {
			c.fail(name, "pins a key, but this release is signed keyless: the installer would refuse its signature")
			continue
		}
		block, _ := pem.Decode([]byte(pinned))
		if block == nil || !bytes.Equal(block.Bytes, want) {
			c.fail(name, "pins another key than the one that signed this release")
		}
	}
}

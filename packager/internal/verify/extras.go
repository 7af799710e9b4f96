package verify

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/dotslash"
	"github.com/tern-agent/tern/packager/internal/installers"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
)

// sboms checks that every archive has its SBOM, and that the SBOM describes
// this release's binary. With doors.sbom false there is none to check, and
// one present is refused: the release is not the one release.yaml makes.
func (c *checker) sboms(m *manifest.Manifest) {
	listed := map[string]bool{}
	for _, a := range m.Artifacts {
		if a.Kind == artifact.SBOM {
			listed[a.Name] = true
		}
	}
	if !c.opts.Config.Doors.SBOMOn() {
		held := map[string]bool{}
		for name := range listed {
			held[name] = true
		}
		for _, a := range m.Artifacts {
			if name := layout.SBOMName(a.Name); a.Kind == artifact.Archive && c.exists(name) {
				held[name] = true
			}
		}
		for _, name := range slices.Sorted(maps.Keys(held)) {
			c.doorOff(name, "doors.sbom", "SBOM")
		}
		return
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

// exists reports whether the release directory holds a file of this name.
func (c *checker) exists(name string) bool {
	_, err := os.Lstat(filepath.Join(c.dir, name))
	return err == nil
}

// doorOff refuses a file that release.yaml's door says the release does
// not have.
func (c *checker) doorOff(name, door, what string) {
	c.fail(name, "%s is false, but the release holds this %s: verify with the release.yaml the release was made with, or cut the release again", door, what)
}

// dotslashFile checks that the DotSlash file points at every archive
// DotSlash can run, with its exact size, digest, format and binary path,
// and at nothing else. A release whose targets DotSlash runs on none of,
// or whose doors.dotslash is false, has no DotSlash file.
func (c *checker) dotslashFile(m *manifest.Manifest) {
	cfg := c.opts.Config
	name := layout.DotSlashName(cfg)
	held := c.exists(name)
	for _, a := range m.Artifacts {
		if a.Kind == artifact.DotSlash {
			held = true
			name = a.Name
		}
	}
	if !cfg.Doors.DotSlashOn() {
		if held {
			c.doorOff(name, "doors.dotslash", "DotSlash file")
		}
		return
	}
	type entry struct {
		a manifest.Artifact
		t config.Target
	}
	want := map[string]entry{} // DotSlash platform key → the archive it must name
	for _, a := range m.Artifacts {
		if a.Kind != artifact.Archive {
			continue
		}
		t, ok := cfg.Target(a.Target)
		if !ok {
			continue
		}
		// A target DotSlash does not run on is left out of the file (see
		// dotslash.PlatformKey), so it is not looked for.
		if key, ok := dotslash.PlatformKey(t); ok {
			want[key] = entry{a, t}
		}
	}
	if len(want) == 0 {
		if held {
			c.fail(name, "is a DotSlash file, but no archive of the release is for a platform DotSlash runs on (linux, macOS or windows, x86_64 or aarch64)")
		}
		return
	}
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
	for _, key := range slices.Sorted(maps.Keys(want)) {
		a, t := want[key].a, want[key].t
		p, ok := f.Platforms[key]
		wantPath := path.Join(layout.Prefix(cfg, m.Version, t), "bin", cfg.BinaryName(t))
		switch {
		case !ok:
			c.fail(name, "has no platform %s for %s", key, a.Name)
		case p.Digest != a.SHA256 || p.Size != a.Size || p.Hash != "sha256":
			c.fail(name, "gives %s size %d sha256 %s, the archive is %d bytes, sha256 %s", key, p.Size, p.Digest, a.Size, a.SHA256)
		case p.Format != string(layout.FormatFor(t)) || p.Path != wantPath:
			c.fail(name, "gives %s format %q path %q, want %q %q", key, p.Format, p.Path, layout.FormatFor(t), wantPath)
		case len(p.Providers) == 0 || !strings.HasSuffix(p.Providers[0].URL, "/v"+m.Version+"/"+a.Name):
			c.fail(name, "does not download %s from this release", a.Name)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(f.Platforms)) {
		if _, ok := want[key]; !ok {
			c.fail(name, "names platform %s, for which the release has no archive", key)
		}
	}
}

// installerKeys checks the key each installer pins: the key the release is
// verified with, or none. A script pinning another key would check a later
// download against a key this release's signer does not hold; a keyless
// release's script must not pin one, for it would refuse every keyless
// signature.
func (c *checker) installerKeys() {
	if c.opts.Config != nil && !c.opts.Config.Doors.InstallersOn() {
		return // installerFactsCheck refuses any script such a release holds
	}
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

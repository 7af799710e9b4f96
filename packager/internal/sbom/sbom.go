// Package sbom writes one CycloneDX SBOM per archive, with cyclonedx-go:
// the binary (its digest), every Go module linked into it (read from its
// own build info, with the go.sum hash), the Go standard library, and each
// shipped helper (version, licence, source and digests, and the purl and
// CPE by which scanners match its advisories, from its third_party
// manifest). It records the
// platform the binary was built for (GOOS, GOARCH, GOARM: armv6 and armv7
// differ only there), as the binary's own build info states it, and
// refuses a binary built for another platform than its target. The
// timestamp is the commit time and the serial number derives from the
// content, so the same release gives the same bytes. With doors.sbom false
// it writes nothing.
package sbom

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
)

// Pipe writes an SBOM for every archive.
type Pipe struct{}

func (Pipe) String() string { return "write SBOMs" }

func (Pipe) Run(ctx *pipeline.Context) error {
	if !ctx.Config.Doors.SBOMOn() {
		ctx.Logf("skipped: doors.sbom is false in release.yaml")
		return nil
	}
	for _, a := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Archive)) {
		tree, err := ctx.Artifacts.One(artifact.And(artifact.ByKind(artifact.Tree), artifact.ByTarget(a.Target)), "staged tree for "+a.Target)
		if err != nil {
			return err
		}
		t, ok := ctx.Config.Target(a.Target)
		if !ok {
			return fmt.Errorf("%s is for target %q, which release.yaml does not have", a.Name, a.Target)
		}
		bin := filepath.Join(tree.Path, "bin", ctx.Config.BinaryName(t))
		helpers := ctx.Artifacts.Filter(artifact.And(artifact.ByKind(artifact.Helper), artifact.ByTarget(a.Target)))
		ids, err := helperIdentities(ctx.Root, helpers)
		if err != nil {
			return err
		}
		raw, err := Document(ctx.Config.Product, ctx.Version.String(), ctx.Version.Time.UTC().Format("2006-01-02T15:04:05Z"), t, a, bin, helpers, ids)
		if err != nil {
			return fmt.Errorf("%s: %w", a.Name, err)
		}
		out := filepath.Join(ctx.Release, layout.SBOMName(a.Name))
		if err := os.WriteFile(out, raw, 0o644); err != nil {
			return err
		}
		ctx.Artifacts.Add(artifact.Artifact{Name: layout.SBOMName(a.Name), Path: out, Kind: artifact.SBOM, Target: a.Target})
	}
	return nil
}

// Document is the SBOM of archive a of target t, whose binary is at bin;
// ids names each helper (by binary name) for scanners (HelperIdentity).
func Document(product, version, timestamp string, t config.Target, a artifact.Artifact, bin string, helpers []artifact.Artifact, ids map[string]Identity) ([]byte, error) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("reading the build info of %s: %w", bin, err)
	}
	platform, err := builtFor(info, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	main := cdx.Component{
		BOMRef:  "pkg:generic/" + product + "@" + version + "?target=" + a.Target,
		Type:    cdx.ComponentTypeApplication,
		Name:    product,
		Version: version,
		Hashes:  &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: a.Binary.SHA256}},
		Properties: &[]cdx.Property{
			{Name: "archive", Value: a.Name},
			{Name: "target", Value: a.Target},
			{Name: "go.main", Value: info.Main.Path},
		},
	}
	*main.Properties = append(*main.Properties, platform...)
	components := []cdx.Component{{
		BOMRef:     "pkg:golang/stdlib@" + info.GoVersion,
		Type:       cdx.ComponentTypeLibrary,
		Name:       "stdlib",
		Version:    info.GoVersion,
		PackageURL: "pkg:golang/stdlib@" + info.GoVersion,
		Licenses:   &cdx.Licenses{{License: &cdx.License{ID: "BSD-3-Clause"}}},
	}}
	for _, d := range info.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		c := cdx.Component{
			BOMRef:     "pkg:golang/" + d.Path + "@" + d.Version,
			Type:       cdx.ComponentTypeLibrary,
			Name:       d.Path,
			Version:    d.Version,
			PackageURL: "pkg:golang/" + d.Path + "@" + d.Version,
		}
		if d.Sum != "" {
			c.Properties = &[]cdx.Property{{Name: "go.sum", Value: d.Sum}}
		}
		components = append(components, c)
	}
	for _, h := range helpers {
		c := cdx.Component{
			BOMRef:     "helper:" + h.Name,
			Type:       cdx.ComponentTypeApplication,
			Name:       h.Name,
			Version:    h.Version,
			Properties: &[]cdx.Property{{Name: "path", Value: path.Join("libexec", product, h.Name)}},
			PackageURL: ids[h.Name].PURL,
			CPE:        ids[h.Name].CPE,
		}
		for _, f := range a.Helpers {
			if f.Name == h.Name {
				c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: f.SHA256}}
			}
		}
		if h.Source != nil {
			c.Licenses = &cdx.Licenses{{Expression: h.Source.License}}
			c.ExternalReferences = &[]cdx.ExternalReference{{
				URL: h.Source.URL, Type: cdx.ERTypeDistribution, Comment: "the source it was built from",
				Hashes: &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: h.Source.SHA256}},
			}}
		}
		components = append(components, c)
	}

	bom := cdx.NewBOM()
	// A serial number from the content: the same release, the same SBOM.
	seed := sha256.Sum256([]byte(a.Name + "\x00" + a.Binary.SHA256))
	seed[6] = 0x50 | seed[6]&0x0f // version 5: name-based
	seed[8] = 0x80 | seed[8]&0x3f // the RFC 4122 variant
	bom.SerialNumber = fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", seed[0:4], seed[4:6], seed[6:8], seed[8:10], seed[10:16])
	bom.Metadata = &cdx.Metadata{Timestamp: timestamp, Component: &main}
	bom.Components = &components
	var b bytes.Buffer
	enc := cdx.NewBOMEncoder(&b, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	if err := enc.Encode(bom); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// builtFor is the platform the binary's build info states, as properties
// (go.GOOS, go.GOARCH and, for arm, go.GOARM), and an error when it is not
// t's. A binary without those settings (not built by cmd/go) is described
// by t alone.
func builtFor(info *buildinfo.BuildInfo, t config.Target) ([]cdx.Property, error) {
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	goos, goarch := settings["GOOS"], settings["GOARCH"]
	// GOARM may carry a float mode after a comma (7,softfloat); the target
	// names the version alone.
	goarm, _, _ := strings.Cut(settings["GOARM"], ",")
	if goos == "" || goarch == "" {
		goos, goarch, goarm = t.GOOS, t.GOARCH, t.GOARM
	}
	if t.GOARCH != "arm" {
		goarm = ""
	}
	if !t.Matches(goos, goarch, goarm) {
		return nil, fmt.Errorf("the binary was built for %s, but target %s is %s: the build does not match release.yaml (rebuild it)",
			platformName(goos, goarch, goarm), t.Name, platformName(t.GOOS, t.GOARCH, t.GOARM))
	}
	props := []cdx.Property{{Name: "go.GOOS", Value: goos}, {Name: "go.GOARCH", Value: goarch}}
	if goarm != "" {
		props = append(props, cdx.Property{Name: "go.GOARM", Value: goarm})
	}
	return props, nil
}

func platformName(goos, goarch, goarm string) string {
	if goarch == "arm" {
		return goos + "/arm GOARM=" + goarm
	}
	return goos + "/" + goarch
}

// Identity is how vulnerability scanners recognise a helper.
type Identity struct {
	PURL string
	CPE  string
}

// HelperIdentity is the purl and CPE of the helper m describes, from its
// name, version, source URL and digest, so a new version in the manifest
// gives a new identity.
//
// The purl is pkg:generic with download_url and checksum qualifiers: the
// helper is built from upstream's release tarball, not taken from a
// distribution, so pkg:deb/debian/bubblewrap@0.8.0-2 would claim Debian's
// patched build and make OSV and Trivy report Debian's fixes (or miss them)
// for bytes we did not ship. The generic purl says exactly which tarball
// it is. Scanners that match upstream software (Grype, Dependency-Track)
// do so through the CPE, against NVD; a CPE is only given where NVD's
// vendor is known (the manifest's cpe_vendor), since a guessed vendor
// matches nothing and looks as if it did.
func HelperIdentity(m *thirdparty.Manifest) Identity {
	id := Identity{PURL: "pkg:generic/" + purlEscape(m.Name) + "@" + purlEscape(m.Version)}
	var q []string
	if len(m.Source.URLs) > 0 {
		q = append(q, "checksum=sha256:"+m.Source.SHA256, "download_url="+purlEscape(m.Source.URLs[0]))
	}
	if len(q) > 0 {
		id.PURL += "?" + strings.Join(q, "&") // qualifiers sorted by key, as the purl spec asks
	}
	if m.CPEVendor != "" {
		id.CPE = "cpe:2.3:a:" + cpeEscape(m.CPEVendor) + ":" + cpeEscape(m.Name) + ":" + cpeEscape(m.Version) + ":*:*:*:*:*:*:*"
	}
	return id
}

// helperIdentities reads root's third_party manifests and names each
// helper by its binary; a helper without a manifest of its version has no
// identity to give.
func helperIdentities(root string, helpers []artifact.Artifact) (map[string]Identity, error) {
	ids := map[string]Identity{}
	if len(helpers) == 0 {
		return ids, nil
	}
	ms, err := thirdparty.Load(root)
	if err != nil {
		return nil, err
	}
	for _, h := range helpers {
		for _, m := range ms {
			if m.Binary == h.Name && m.Version == h.Version {
				ids[h.Name] = HelperIdentity(m)
			}
		}
	}
	return ids, nil
}

// purlEscape percent-encodes what a purl's name, version or qualifier value
// may not hold as is: everything but letters, digits and . - _ ~, and : /
// which a URL keeps.
func purlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte(".-_~:/", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// cpeEscape quotes what a CPE 2.3 formatted string's component may not
// hold as is: everything but letters, digits and . - _ takes a backslash.
func cpeEscape(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.ContainsRune(".-_", c)) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Package scoop writes the release's Scoop manifest: the JSON a bucket
// serves, which downloads the windows archive for the machine, checks its
// sha256, and puts a shim for the binary on the PATH. For a GitHub
// repository it also says how Scoop finds and hashes the next version
// (checkver, autoupdate), from the release's SHA256SUMS. It never names an
// architecture Scoop cannot install, nor a digest but the archive's.
package scoop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/doors"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Dir is the bucket's directory of manifests.
const Dir = "bucket"

// FileName is the manifest's name, in the release and in the bucket: the
// app's name Scoop installs it by.
func FileName(c *config.Config) string { return c.Binary + ".json" }

// Manifest is a Scoop app manifest, in the order Scoop's own manifests
// give the fields.
type Manifest struct {
	Version      string                  `json:"version"`
	Description  string                  `json:"description"`
	Homepage     string                  `json:"homepage"`
	License      any                     `json:"license"` // an SPDX string, or License
	Architecture map[string]Architecture `json:"architecture"`
	Bin          string                  `json:"bin"`
	Checkver     *Checkver               `json:"checkver,omitempty"`
	Autoupdate   *Autoupdate             `json:"autoupdate,omitempty"`
}

// License is a license Scoop has no SPDX identifier for.
type License struct {
	Identifier string `json:"identifier"`
	URL        string `json:"url"`
}

// Architecture is one architecture's download.
type Architecture struct {
	URL        string `json:"url"`
	Hash       string `json:"hash,omitempty"`
	ExtractDir string `json:"extract_dir"`
}

// Checkver finds the latest version: the GitHub repository's latest release.
type Checkver struct {
	GitHub string `json:"github"`
}

// Autoupdate is how Scoop writes the next version's manifest: $version in
// each URL and directory, each hash read from the release's SHA256SUMS.
type Autoupdate struct {
	Architecture map[string]Architecture `json:"architecture"`
	Hash         HashSource              `json:"hash"`
}

// HashSource is a file of digests and the expression that finds one in it.
type HashSource struct {
	URL   string `json:"url"`
	Regex string `json:"regex"`
}

// Scoop's architecture keys; Scoop knows no other.
var scoopArch = map[string]string{"amd64": "64bit", "arm64": "arm64", "386": "32bit"}

// PlatformKey is Scoop's architecture for a target, and false for a
// target Scoop does not install (not windows, or 32-bit arm).
func PlatformKey(t config.Target) (string, bool) {
	arch, ok := scoopArch[t.GOARCH]
	return arch, ok && t.GOOS == "windows"
}

// Generate renders the manifest for version from the release's archives.
func Generate(c *config.Config, version string, archives []doors.Archive) ([]byte, error) {
	ps, _, err := doors.Select(c, version, archives, "scoop", PlatformKey)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("no archive is for windows on amd64, arm64 or 386, the architectures Scoop installs: set doors: {scoop: false} in release.yaml")
	}
	m := Manifest{
		Version:      version,
		Description:  doors.Description(c),
		Homepage:     c.Repository,
		License:      license(c),
		Architecture: map[string]Architecture{},
		Bin:          `bin\` + c.BinaryName(ps[0].Target),
	}
	for _, p := range ps {
		m.Architecture[p.Key] = Architecture{URL: p.URL, Hash: p.SHA256, ExtractDir: p.Prefix}
	}
	if owner, repo, ok := doors.GitHubRepo(c); ok {
		m.Checkver = &Checkver{GitHub: "https://github.com/" + owner + "/" + repo}
		au := &Autoupdate{
			Architecture: map[string]Architecture{},
			// SHA256SUMS is sha256sum's format: the digest, two spaces,
			// the file name. Scoop puts the digest pattern for $sha256
			// and the escaped download's name for $basename.
			Hash: HashSource{URL: "$baseurl/" + layout.Sums, Regex: "(?m)^$sha256  $basename$"},
		}
		for _, p := range ps {
			au.Architecture[p.Key] = Architecture{
				URL:        doors.URL(c, "$version", layout.ArchiveName(c, "$version", p.Target)),
				ExtractDir: layout.Prefix(c, "$version", p.Target),
			}
		}
		m.Autoupdate = au
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// license is npm.license where it is an SPDX expression, else Scoop's
// "Unknown" with the repository to read it in.
func license(c *config.Config) any {
	l := c.NPM.License
	if l == "" || strings.HasPrefix(l, "SEE LICENSE IN") || strings.HasPrefix(l, "UNLICENSED") {
		return License{Identifier: "Unknown", URL: c.Repository}
	}
	return l
}

// Pipe writes the manifest into the release, unless doors.scoop is false
// or no target is one Scoop installs.
type Pipe struct{}

func (Pipe) String() string { return "write the Scoop manifest" }

func (Pipe) Run(ctx *pipeline.Context) error {
	c, version := ctx.Config, ctx.Version.String()
	if !c.Doors.ScoopOn() {
		ctx.Logf("skipped: doors.scoop is false in release.yaml")
		return nil
	}
	archives, err := doors.FromPipeline(ctx)
	if err != nil {
		return err
	}
	ps, _, err := doors.Select(c, version, archives, "scoop", PlatformKey)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		ctx.Logf("skipped: no target is one Scoop installs (windows on amd64, arm64 or 386)")
		return nil
	}
	raw, err := Generate(c, version, archives)
	if err != nil {
		return err
	}
	return doors.Write(ctx, FileName(c), raw, artifact.Scoop)
}

// Check reads a manifest back and reports every way it differs from the
// release: its version, the fields Scoop requires, and for each
// architecture its url, hash and extract_dir, which must be the archive's.
func Check(c *config.Config, version string, raw []byte, archives []doors.Archive) error {
	want, _, err := doors.Select(c, version, archives, "scoop", PlatformKey)
	if err != nil {
		return err
	}
	name := FileName(c)
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("%s is not a Scoop manifest as packager writes it: %w", name, err)
	}
	var errs []error
	if m.Version != version {
		errs = append(errs, fmt.Errorf("%s: version %q, want %q", name, m.Version, version))
	}
	if m.Description == "" || m.Homepage == "" || m.License == nil || m.Bin == "" {
		errs = append(errs, fmt.Errorf("%s: description, homepage, license and bin are each required", name))
	}
	got := map[string]doors.Entry{}
	for k, a := range m.Architecture {
		got[k] = doors.Entry{URL: a.URL, SHA256: a.Hash, Path: a.ExtractDir}
	}
	if err := doors.Compare(name, want, got, "extract_dir", func(p doors.Platform) string { return p.Prefix }); err != nil {
		errs = append(errs, err)
	}
	if len(want) > 0 && m.Bin != `bin\`+c.BinaryName(want[0].Target) {
		errs = append(errs, fmt.Errorf("%s: bin %q, want %q", name, m.Bin, `bin\`+c.BinaryName(want[0].Target)))
	}
	if m.Autoupdate != nil {
		for k, a := range m.Autoupdate.Architecture {
			if strings.ReplaceAll(a.URL, "$version", version) != got[k].URL {
				errs = append(errs, fmt.Errorf("%s: autoupdate %s: url %s is not this release's %s with $version for %s", name, k, a.URL, got[k].URL, version))
			}
		}
	}
	return errors.Join(errs...)
}

// Package winget writes the release's winget manifests: the version,
// installer and default-locale files a pull request to
// microsoft/winget-pkgs adds, which install the windows zip as a portable
// command (winget extracts it and puts an alias for the binary on the
// PATH). The package's identifier is the repository's owner and the
// product, Owner.Product. It never names an architecture winget cannot
// install, nor a digest but the archive's.
package winget

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/doors"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// ManifestVersion is the manifest schema the files follow.
const ManifestVersion = "1.10.0"

// Locale is the default locale's tag.
const Locale = "en-US"

// Version is the version manifest.
type Version struct {
	PackageIdentifier string `yaml:"PackageIdentifier"`
	PackageVersion    string `yaml:"PackageVersion"`
	DefaultLocale     string `yaml:"DefaultLocale"`
	ManifestType      string `yaml:"ManifestType"`
	ManifestVersion   string `yaml:"ManifestVersion"`
}

// Installer is the installer manifest.
type Installer struct {
	PackageIdentifier   string           `yaml:"PackageIdentifier"`
	PackageVersion      string           `yaml:"PackageVersion"`
	InstallerType       string           `yaml:"InstallerType"`
	NestedInstallerType string           `yaml:"NestedInstallerType"`
	ReleaseDate         string           `yaml:"ReleaseDate"`
	Installers          []InstallerEntry `yaml:"Installers"`
	ManifestType        string           `yaml:"ManifestType"`
	ManifestVersion     string           `yaml:"ManifestVersion"`
}

// InstallerEntry is one architecture's installer.
type InstallerEntry struct {
	Architecture         string       `yaml:"Architecture"`
	InstallerURL         string       `yaml:"InstallerUrl"`
	InstallerSha256      string       `yaml:"InstallerSha256"`
	NestedInstallerFiles []NestedFile `yaml:"NestedInstallerFiles"`
}

// NestedFile is the binary in the zip, and the command it is run as.
type NestedFile struct {
	RelativeFilePath     string `yaml:"RelativeFilePath"`
	PortableCommandAlias string `yaml:"PortableCommandAlias"`
}

// DefaultLocale is the default-locale manifest.
type DefaultLocale struct {
	PackageIdentifier string `yaml:"PackageIdentifier"`
	PackageVersion    string `yaml:"PackageVersion"`
	PackageLocale     string `yaml:"PackageLocale"`
	Publisher         string `yaml:"Publisher"`
	PackageName       string `yaml:"PackageName"`
	PackageURL        string `yaml:"PackageUrl"`
	License           string `yaml:"License"`
	ShortDescription  string `yaml:"ShortDescription"`
	ManifestType      string `yaml:"ManifestType"`
	ManifestVersion   string `yaml:"ManifestVersion"`
}

// Manifests are the three files' bytes.
type Manifests struct {
	Version, Installer, Locale []byte
}

// Files names each file as winget-pkgs does: <id>.yaml,
// <id>.installer.yaml, <id>.locale.en-US.yaml.
func (m Manifests) Files(id string) map[string][]byte {
	return map[string][]byte{
		id + ".yaml":                       m.Version,
		id + ".installer.yaml":             m.Installer,
		id + ".locale." + Locale + ".yaml": m.Locale,
	}
}

// FileNames are the three files' names, version manifest first.
func FileNames(id string) []string {
	return []string{id + ".yaml", id + ".installer.yaml", id + ".locale." + Locale + ".yaml"}
}

// winget's identifier: two to eight parts of one to 32 characters, none a
// dot, space or any of \/:*?"<>| (its schema's pattern).
var identifierRE = regexp.MustCompile(`^[^.\s\\/:*?"<>|\x01-\x1f]{1,32}(\.[^.\s\\/:*?"<>|\x01-\x1f]{1,32}){1,7}$`)

// Identity is the package's publisher and identifier: the repository's
// owner, and Owner.Product.
func Identity(c *config.Config) (publisher, id string, err error) {
	u, err := url.Parse(c.Repository)
	parts := []string{}
	if err == nil {
		parts = strings.Split(strings.Trim(u.Path, "/"), "/")
	}
	if err != nil || len(parts) < 2 || parts[0] == "" {
		return "", "", fmt.Errorf("repository %q in release.yaml names no owner (https://host/<owner>/<name>), from which winget's PackageIdentifier <owner>.%s is made: fix repository, or set doors: {winget: false}", c.Repository, c.Product)
	}
	id = parts[0] + "." + c.Product
	if !identifierRE.MatchString(id) {
		return "", "", fmt.Errorf("winget's PackageIdentifier %q, made of repository's owner and product in release.yaml, is not one winget accepts (two to eight parts of up to 32 characters, no spaces nor \\/:*?\"<>|): set doors: {winget: false}", id)
	}
	return parts[0], id, nil
}

// Dir is where the manifests go in winget-pkgs:
// manifests/<first letter>/<Publisher>/<Name>/<version>.
func Dir(id, version string) string {
	return path.Join("manifests", strings.ToLower(id[:1]), strings.ReplaceAll(id, ".", "/"), version)
}

// winget's architectures.
var wingetArch = map[string]string{"amd64": "x64", "arm64": "arm64", "386": "x86"}

// PlatformKey is winget's architecture for a target, and false for a
// target winget does not install (not windows, or 32-bit arm).
func PlatformKey(t config.Target) (string, bool) {
	arch, ok := wingetArch[t.GOARCH]
	return arch, ok && t.GOOS == "windows"
}

// relativePath is the binary's path in the zip as winget writes it.
func relativePath(p doors.Platform) string { return strings.ReplaceAll(p.Binary, "/", `\`) }

// Generate renders the three manifests for version, released on
// released (the commit's time; its UTC date is the ReleaseDate), from the
// release's archives.
func Generate(c *config.Config, version string, released time.Time, archives []doors.Archive) (Manifests, error) {
	publisher, id, err := Identity(c)
	if err != nil {
		return Manifests{}, err
	}
	ps, _, err := doors.Select(c, version, archives, "winget", PlatformKey)
	if err != nil {
		return Manifests{}, err
	}
	if len(ps) == 0 {
		return Manifests{}, fmt.Errorf("no archive is for windows on amd64, arm64 or 386, the architectures winget installs: set doors: {winget: false} in release.yaml")
	}
	in := Installer{
		PackageIdentifier: id, PackageVersion: version,
		InstallerType: "zip", NestedInstallerType: "portable",
		ReleaseDate:  released.UTC().Format(time.DateOnly),
		ManifestType: "installer", ManifestVersion: ManifestVersion,
	}
	for _, p := range ps {
		in.Installers = append(in.Installers, InstallerEntry{
			Architecture: p.Key, InstallerURL: p.URL, InstallerSha256: strings.ToUpper(p.SHA256),
			NestedInstallerFiles: []NestedFile{{RelativeFilePath: relativePath(p), PortableCommandAlias: c.Binary}},
		})
	}
	var m Manifests
	for _, f := range []struct {
		out  *[]byte
		kind string
		v    any
	}{
		{&m.Version, "version", Version{id, version, Locale, "version", ManifestVersion}},
		{&m.Installer, "installer", in},
		{&m.Locale, "defaultLocale", DefaultLocale{
			PackageIdentifier: id, PackageVersion: version, PackageLocale: Locale,
			Publisher: publisher, PackageName: c.Product, PackageURL: c.Repository,
			License: c.NPM.License, ShortDescription: doors.Description(c),
			ManifestType: "defaultLocale", ManifestVersion: ManifestVersion,
		}},
	} {
		var b bytes.Buffer
		fmt.Fprintf(&b, "# Written by packager from release.yaml and the release's archives.\n")
		fmt.Fprintf(&b, "# yaml-language-server: $schema=https://aka.ms/winget-manifest.%s.%s.schema.json\n\n", f.kind, ManifestVersion)
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(f.v); err != nil {
			return Manifests{}, err
		}
		if err := enc.Close(); err != nil {
			return Manifests{}, err
		}
		*f.out = b.Bytes()
	}
	return m, nil
}

// Pipe writes the three manifests into the release, unless doors.winget
// is false or no target is one winget installs.
type Pipe struct{}

func (Pipe) String() string { return "write the winget manifests" }

func (Pipe) Run(ctx *pipeline.Context) error {
	c, version := ctx.Config, ctx.Version.String()
	if !c.Doors.WingetOn() {
		ctx.Logf("skipped: doors.winget is false in release.yaml")
		return nil
	}
	archives, err := doors.FromPipeline(ctx)
	if err != nil {
		return err
	}
	ps, _, err := doors.Select(c, version, archives, "winget", PlatformKey)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		ctx.Logf("skipped: no target is one winget installs (windows on amd64, arm64 or 386)")
		return nil
	}
	_, id, err := Identity(c)
	if err != nil {
		return err
	}
	m, err := Generate(c, version, ctx.Version.Time, archives)
	if err != nil {
		return err
	}
	files := m.Files(id)
	for _, name := range FileNames(id) {
		if err := doors.Write(ctx, name, files[name], artifact.Winget); err != nil {
			return err
		}
	}
	return nil
}

// Check reads the three manifests back and reports every way they differ
// from the release: identifier, version, types and schema version in
// each, and for each architecture the installer's url, sha256 and the
// binary's path in the zip, which must be the archive's.
func Check(c *config.Config, version string, m Manifests, archives []doors.Archive) error {
	_, id, err := Identity(c)
	if err != nil {
		return err
	}
	want, _, err := doors.Select(c, version, archives, "winget", PlatformKey)
	if err != nil {
		return err
	}
	names := FileNames(id)
	var errs []error
	var v Version
	var in Installer
	var loc DefaultLocale
	for i, f := range []struct {
		raw  []byte
		into any
	}{{m.Version, &v}, {m.Installer, &in}, {m.Locale, &loc}} {
		dec := yaml.NewDecoder(bytes.NewReader(f.raw))
		dec.KnownFields(true)
		if err := dec.Decode(f.into); err != nil {
			errs = append(errs, fmt.Errorf("%s is not a winget manifest as packager writes it: %w", names[i], err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, h := range []struct {
		name, id, version, typ, schema, wantType string
	}{
		{names[0], v.PackageIdentifier, v.PackageVersion, v.ManifestType, v.ManifestVersion, "version"},
		{names[1], in.PackageIdentifier, in.PackageVersion, in.ManifestType, in.ManifestVersion, "installer"},
		{names[2], loc.PackageIdentifier, loc.PackageVersion, loc.ManifestType, loc.ManifestVersion, "defaultLocale"},
	} {
		if h.id != id || h.version != version || h.typ != h.wantType || h.schema != ManifestVersion {
			errs = append(errs, fmt.Errorf("%s: PackageIdentifier %q, PackageVersion %q, ManifestType %q, ManifestVersion %q; want %q, %q, %q, %q",
				h.name, h.id, h.version, h.typ, h.schema, id, version, h.wantType, ManifestVersion))
		}
	}
	if v.DefaultLocale != loc.PackageLocale {
		errs = append(errs, fmt.Errorf("%s: DefaultLocale %q, but %s is for %q", names[0], v.DefaultLocale, names[2], loc.PackageLocale))
	}
	if loc.Publisher == "" || loc.PackageName == "" || loc.License == "" || loc.ShortDescription == "" {
		errs = append(errs, fmt.Errorf("%s: Publisher, PackageName, License and ShortDescription are each required", names[2]))
	}
	if in.InstallerType != "zip" || in.NestedInstallerType != "portable" {
		errs = append(errs, fmt.Errorf("%s: InstallerType %q, NestedInstallerType %q; want zip, portable", names[1], in.InstallerType, in.NestedInstallerType))
	}
	if _, err := time.Parse(time.DateOnly, in.ReleaseDate); err != nil {
		errs = append(errs, fmt.Errorf("%s: ReleaseDate %q is not a date (YYYY-MM-DD)", names[1], in.ReleaseDate))
	}
	got := map[string]doors.Entry{}
	for _, i := range in.Installers {
		if _, dup := got[i.Architecture]; dup {
			errs = append(errs, fmt.Errorf("%s: two installers for %s", names[1], i.Architecture))
		}
		e := doors.Entry{URL: i.InstallerURL, SHA256: strings.ToLower(i.InstallerSha256)}
		if i.InstallerSha256 != strings.ToUpper(i.InstallerSha256) {
			errs = append(errs, fmt.Errorf("%s: %s: InstallerSha256 is not upper-case hex", names[1], i.Architecture))
		}
		if len(i.NestedInstallerFiles) == 1 && i.NestedInstallerFiles[0].PortableCommandAlias == c.Binary {
			e.Path = i.NestedInstallerFiles[0].RelativeFilePath
		}
		got[i.Architecture] = e
	}
	if err := doors.Compare(names[1], want, got, "RelativeFilePath", relativePath); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

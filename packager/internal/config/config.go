// Package config reads release.yaml, the one declarative description of a
// release: product name, targets with their Go and npm names, the npm scope,
// the helpers per target and the signing identity. Every other packager
// package takes names from here; none hard-codes them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is release.yaml.
type Config struct {
	Product     string `yaml:"product"`
	Binary      string `yaml:"binary"`
	Repository  string `yaml:"repository"`
	LicenseFile string `yaml:"license_file"`
	// EnvPrefix starts every environment variable the installers and the
	// launcher read (TERN_VERSION). Default: the binary's name upper-cased,
	// other characters than letters and digits as _, then _.
	EnvPrefix string    `yaml:"env_prefix"`
	Templates Templates `yaml:"templates"`
	Targets   []Target  `yaml:"targets"`
	NPM       NPM       `yaml:"npm"`
	Signing   Signing   `yaml:"signing"`
	// Doors switch the release's optional outputs off; each is on by default.
	Doors Doors `yaml:"doors"`
	// Files are extra files (README, completions, man pages) placed in every
	// target's tree, so every door ships them alike.
	Files []File `yaml:"files"`
	// VersionCheck is how the binary reports its version, for a project
	// that does not use the packager's build stamp. nil: the binaries carry
	// the stamp (see the packager's README), and print their version on
	// --version.
	VersionCheck *VersionCheck `yaml:"version_check"`
	// PlatformSigning asks for the operating systems' own signatures on the
	// darwin and windows binaries, beyond the signed SHA256SUMS.
	PlatformSigning PlatformSigning `yaml:"platform_signing"`

	// dir is release.yaml's directory, against which its paths are read.
	dir string
}

// SourcePath is a path release.yaml gives (an extra file's src), made
// usable: relative paths are read against release.yaml's directory.
func (c *Config) SourcePath(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(c.dir, filepath.FromSlash(rel))
}

// PlatformSigning says which operating systems' signatures a release
// (not a snapshot) must carry, and by whom. Without darwin:, darwin
// binaries are ad-hoc signed; without windows:, windows binaries are
// unsigned unless the signing variables are set.
type PlatformSigning struct {
	Darwin  *DarwinSigning  `yaml:"darwin"`
	Windows *WindowsSigning `yaml:"windows"`
}

// DarwinSigning is a Developer ID identity, from MACOS_SIGN_P12 and
// MACOS_SIGN_PASSWORD, and notarization with MACOS_NOTARY_KEY,
// MACOS_NOTARY_KEY_ID and MACOS_NOTARY_ISSUER_ID.
type DarwinSigning struct {
	// Identity is the signing certificate's common name:
	// "Developer ID Application: Acme Inc (ABCDE12345)".
	Identity string `yaml:"identity"`
	// TeamID is the Apple team identifier every CodeDirectory must carry.
	TeamID string `yaml:"team_id"`
	// Roots is a PEM file of the roots the chain must end at: Apple's Root
	// CA, committed beside release.yaml.
	Roots string `yaml:"roots"`
	// Notarize submits the signed binaries to Apple's notary service and
	// fails the release unless it accepts them. Default true.
	Notarize *bool `yaml:"notarize"`
}

// NotarizeOn reports whether a release's darwin binaries are notarized.
func (d *DarwinSigning) NotarizeOn() bool { return d != nil && on(d.Notarize) }

// WindowsSigning is an Authenticode identity, from WINDOWS_SIGN_P12 and
// WINDOWS_SIGN_PASSWORD (and WINDOWS_SIGN_TSA_URL for a timestamp).
type WindowsSigning struct {
	// Identity is the signing certificate's common name.
	Identity string `yaml:"identity"`
	// Roots is a PEM file of the roots the chain must end at.
	Roots string `yaml:"roots"`
}

// Doors are the optional outputs of a release. A nil switch is on.
type Doors struct {
	NPM        *bool `yaml:"npm"`        // the npm meta and platform packages
	Installers *bool `yaml:"installers"` // install.sh and install.ps1
	Image      *bool `yaml:"image"`      // the container image publish pushes
	SBOM       *bool `yaml:"sbom"`       // a CycloneDX SBOM per archive
	DotSlash   *bool `yaml:"dotslash"`   // the DotSlash file
}

func on(b *bool) bool { return b == nil || *b }

func (d Doors) NPMOn() bool        { return on(d.NPM) }
func (d Doors) InstallersOn() bool { return on(d.Installers) }
func (d Doors) ImageOn() bool      { return on(d.Image) }
func (d Doors) SBOMOn() bool       { return on(d.SBOM) }
func (d Doors) DotSlashOn() bool   { return on(d.DotSlash) }

// File is one extra file of every tree.
type File struct {
	Src string `yaml:"src"` // in the repository, relative to release.yaml's directory
	Dst string `yaml:"dst"` // in the tree: share/man/man1/acme.1
}

// VersionCheck says how to ask a binary its version: run it with Args, and
// its output must hold Contains, in which {{.Version}} stands for the
// release's version (1.2.3, no v). verify runs the check, and so do the
// installers before they install.
type VersionCheck struct {
	Args     []string `yaml:"args"`
	Contains string   `yaml:"contains"`
}

// VersionPlaceholder stands for the release's version in VersionCheck.Contains.
const VersionPlaceholder = "{{.Version}}"

// DefaultVersionCheck is the rule of a binary with the packager's stamp:
// `<binary> --version` prints its version.
var DefaultVersionCheck = VersionCheck{Args: []string{"--version"}, Contains: VersionPlaceholder}

// UsesStamp reports whether the binaries carry the packager's build stamp.
func (c *Config) UsesStamp() bool { return c.VersionCheck == nil }

// VersionRule is the version check verify and the installers apply: the
// declared one, else DefaultVersionCheck.
func (c *Config) VersionRule() VersionCheck {
	if c.VersionCheck == nil {
		return DefaultVersionCheck
	}
	return *c.VersionCheck
}

// Expect is the text a binary of version must print.
func (v VersionCheck) Expect(version string) string {
	return strings.ReplaceAll(v.Contains, VersionPlaceholder, version)
}

// Reports reports whether a binary's output states version: it holds the
// expected text, and what follows it first is not part of a longer version
// (1.2.3 is not 1.2.30 nor 1.2.3-rc.1). The installers apply the same rule.
func (v VersionCheck) Reports(output, version string) bool {
	want := v.Expect(version)
	i := strings.Index(output, want)
	if i < 0 {
		return false
	}
	rest := output[i+len(want):]
	return rest == "" || !isVersionByte(rest[0])
}

func isVersionByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '.' || b == '-' || b == '+'
}

// Templates are a project's own templates, in place of the packager's:
// paths relative to the directory of release.yaml.
type Templates struct {
	InstallSH  string `yaml:"install_sh"`
	InstallPS1 string `yaml:"install_ps1"`
	// NPMReadme is the npm meta package's README.md, the package's page on
	// the registry: a product describes itself there.
	NPMReadme string `yaml:"npm_readme"`
	// The npm meta package's launcher (bin/<binary>.js), postinstall
	// (install.js) and package.json, and the platform packages' package.json.
	NPMLauncher            string `yaml:"npm_launcher"`
	NPMPostinstall         string `yaml:"npm_postinstall"`
	NPMPackageJSON         string `yaml:"npm_package_json"`
	NPMPlatformPackageJSON string `yaml:"npm_platform_package_json"`
}

// overrides are the template overrides: release.yaml's key, the template
// it replaces, and the path it gives.
func (t Templates) overrides() []struct{ key, name, path string } {
	return []struct{ key, name, path string }{
		{"templates.install_sh", "install.sh", t.InstallSH},
		{"templates.install_ps1", "install.ps1", t.InstallPS1},
		{"templates.npm_readme", "npm/meta/README.md", t.NPMReadme},
		{"templates.npm_launcher", "npm/meta/bin/launcher.js", t.NPMLauncher},
		{"templates.npm_postinstall", "npm/meta/install.js", t.NPMPostinstall},
		{"templates.npm_package_json", "npm/meta/package.json", t.NPMPackageJSON},
		{"templates.npm_platform_package_json", "npm/platform/package.json", t.NPMPlatformPackageJSON},
	}
}

// Path is the override for the file a template renders, "" for none.
func (t Templates) Path(name string) string {
	for _, o := range t.overrides() {
		if o.name == name {
			return o.path
		}
	}
	return ""
}

// InstallerTargets are the targets install.sh serves (Linux, macOS and the
// BSDs) and those install.ps1 serves (Windows), in release.yaml's order.
// The templates write them and verify checks them, from this one split. A
// target of another system has no installer.
func (c *Config) InstallerTargets() (unix, windows []string) {
	for _, t := range c.Targets {
		switch t.GOOS {
		case "windows":
			windows = append(windows, t.Name)
		case "linux", "darwin", "freebsd", "openbsd", "netbsd":
			unix = append(unix, t.Name)
		}
	}
	return unix, windows
}

// DownloadURL is the releases root the installers download from.
func (c *Config) DownloadURL() string { return strings.TrimSuffix(c.Repository, "/") + "/releases" }

// DefaultEnvPrefix is the env_prefix of a binary that declares none: acme-cli → ACME_CLI_.
func DefaultEnvPrefix(binary string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(binary) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + "_"
}

// Target is one release target.
type Target struct {
	Name    string   `yaml:"name"` // archive name: linux-x64
	GOOS    string   `yaml:"goos"`
	GOARCH  string   `yaml:"goarch"`
	GOARM   string   `yaml:"goarm,omitempty"` // with goarch arm: 5, 6 or 7
	NPMOS   string   `yaml:"npm_os"`          // process.platform: win32
	NPMCPU  string   `yaml:"npm_cpu"`         // process.arch: x64
	Helpers []string `yaml:"helpers"`
}

// NPM names the npm packages.
type NPM struct {
	Scope   string `yaml:"scope"`
	Package string `yaml:"package"`
	// Description is the packages' package.json description. Default:
	// "<product>, a native binary for your platform".
	Description string `yaml:"description"`
	// License is their package.json license, an SPDX expression. Default:
	// "SEE LICENSE IN LICENSE", the license_file every package ships.
	License string `yaml:"license"`
}

// Signing says who may sign a release.
type Signing struct {
	CertificateIdentityRegexp string `yaml:"certificate_identity_regexp"`
	CertificateOIDCIssuer     string `yaml:"certificate_oidc_issuer"`
	FulcioURL                 string `yaml:"fulcio_url"`
	RekorURL                  string `yaml:"rekor_url"`
}

// Load reads and checks a release config.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the release config: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true) // a misspelt key is an error, not a silent default
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	if c.EnvPrefix == "" && c.Binary != "" {
		c.EnvPrefix = DefaultEnvPrefix(c.Binary)
	}
	if c.NPM.Description == "" && c.Product != "" {
		c.NPM.Description = c.Product + ", a native binary for your platform"
	}
	if c.NPM.License == "" {
		c.NPM.License = "SEE LICENSE IN LICENSE"
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	isFile := func(field, rel string) {
		p := rel
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			errs = append(errs, fmt.Errorf("%s: %s is not a file (a path relative to release.yaml's directory)", field, rel))
		}
	}
	for _, o := range c.Templates.overrides() {
		if o.path != "" {
			isFile(o.key, o.path)
		}
	}
	for i, f := range c.Files {
		if f.Src != "" {
			isFile(fmt.Sprintf("files[%d].src", i), f.Src)
		}
	}
	if d := c.PlatformSigning.Darwin; d != nil && d.Roots != "" {
		isFile("platform_signing.darwin.roots", d.Roots)
	}
	if w := c.PlatformSigning.Windows; w != nil && w.Roots != "" {
		isFile("platform_signing.windows.roots", w.Roots)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

var envPrefixRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*_$`)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func (c *Config) validate() error {
	var errs []error
	need := func(field, value string) {
		if value == "" {
			errs = append(errs, fmt.Errorf("%s is required", field))
		}
	}
	need("product", c.Product)
	need("binary", c.Binary)
	need("license_file", c.LicenseFile)
	if c.Doors.NPMOn() {
		need("npm.scope", c.NPM.Scope)
		need("npm.package", c.NPM.Package)
	}
	if c.EnvPrefix != "" && !envPrefixRE.MatchString(c.EnvPrefix) {
		errs = append(errs, fmt.Errorf("env_prefix %q must be upper-case letters, digits and _, starting with a letter and ending in _ (as TERN_)", c.EnvPrefix))
	}
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("targets: at least one is required"))
	}
	seen := map[string]bool{}
	npmPairs := map[string]string{}
	for i, t := range c.Targets {
		where := fmt.Sprintf("targets[%d]", i)
		if !nameRE.MatchString(t.Name) {
			errs = append(errs, fmt.Errorf("%s: name %q must be lower-case letters, digits and dashes", where, t.Name))
		}
		if seen[t.Name] {
			errs = append(errs, fmt.Errorf("%s: target %s is listed twice", where, t.Name))
		}
		seen[t.Name] = true
		for _, f := range []struct{ field, value string }{{"goos", t.GOOS}, {"goarch", t.GOARCH}} {
			if f.value == "" {
				errs = append(errs, fmt.Errorf("%s (%s): %s is required", where, t.Name, f.field))
			}
		}
		if (t.NPMOS == "") != (t.NPMCPU == "") {
			errs = append(errs, fmt.Errorf("%s (%s): give npm_os and npm_cpu together, or neither to leave the target out of npm", where, t.Name))
		}
		if t.InNPM() {
			pair := t.NPMOS + "-" + t.NPMCPU
			if other, dup := npmPairs[pair]; dup {
				errs = append(errs, fmt.Errorf("%s (%s): npm_os %s and npm_cpu %s are %s's too, and npm installs by those alone (its cpu field cannot tell armv6 from armv7): leave npm_os and npm_cpu empty on one of them", where, t.Name, t.NPMOS, t.NPMCPU, other))
			}
			npmPairs[pair] = t.Name
		}
		if len(t.Helpers) > 0 && c.VersionCheck != nil {
			errs = append(errs, fmt.Errorf("%s (%s): helpers need the packager's build stamp, which carries each helper's sha256 for the binary to check, so version_check cannot replace it: remove version_check, or the helpers", where, t.Name))
		}
		switch {
		case t.GOARCH == "arm" && !slices.Contains([]string{"5", "6", "7"}, t.GOARM):
			errs = append(errs, fmt.Errorf("%s (%s): goarch arm needs goarm 5, 6 or 7 (armv6 for a Raspberry Pi Zero, 7 for most boards)", where, t.Name))
		case t.GOARCH != "arm" && t.GOARM != "":
			errs = append(errs, fmt.Errorf("%s (%s): goarm applies only to goarch arm", where, t.Name))
		}
	}
	if c.Doors.NPMOn() && !slices.ContainsFunc(c.Targets, Target.InNPM) && len(c.Targets) > 0 {
		errs = append(errs, errors.New("no target has npm_os and npm_cpu, so npm would have no platform package: give them, or set doors: {npm: false}"))
	}
	errs = append(errs, c.validateFiles()...)
	if d := c.PlatformSigning.Darwin; d != nil {
		if d.Identity == "" || d.TeamID == "" || d.Roots == "" {
			errs = append(errs, errors.New(`platform_signing.darwin: give identity (the certificate's common name, "Developer ID Application: Acme (ABCDE12345)"), team_id (ABCDE12345) and roots (a PEM file of Apple's Root CA beside release.yaml)`))
		}
	}
	if w := c.PlatformSigning.Windows; w != nil && (w.Identity == "" || w.Roots == "") {
		errs = append(errs, errors.New("platform_signing.windows: give identity (the certificate's common name) and roots (a PEM file of the root CA its chain ends at, beside release.yaml)"))
	}
	if v := c.VersionCheck; v != nil {
		if len(v.Args) == 0 {
			errs = append(errs, errors.New("version_check.args: give the arguments that make the binary print its version, such as [--version]"))
		}
		if !strings.Contains(v.Contains, VersionPlaceholder) {
			errs = append(errs, fmt.Errorf("version_check.contains %q must hold %s, where the binary's output states the version (such as \"version v%s\")", v.Contains, VersionPlaceholder, VersionPlaceholder))
		}
		for _, a := range append(slices.Clone(v.Args), v.Contains) {
			if i := strings.IndexAny(a, "'\"`$\\\n\r"); i >= 0 {
				errs = append(errs, fmt.Errorf("version_check: %q holds %q, which the installers cannot quote: remove it", a, a[i]))
			}
		}
	}
	return errors.Join(errs...)
}

// reservedTreePaths are the tree's own files and directories, which an
// extra file may not replace.
var reservedTreePaths = []string{"bin", "libexec", "LICENSE", "THIRD_PARTY_NOTICES.md"}

func (c *Config) validateFiles() []error {
	var errs []error
	seen := map[string]bool{}
	for i, f := range c.Files {
		where := fmt.Sprintf("files[%d]", i)
		if f.Src == "" || f.Dst == "" {
			errs = append(errs, fmt.Errorf("%s: give src (the file in the repository) and dst (its path in the tree, such as share/man/man1/%s.1)", where, c.Binary))
			continue
		}
		clean := path.Clean(f.Dst)
		first, _, _ := strings.Cut(clean, "/")
		switch {
		case clean != f.Dst || path.IsAbs(f.Dst) || first == ".." || strings.Contains(f.Dst, "\\"):
			errs = append(errs, fmt.Errorf("%s: dst %q must be a clean relative path with / separators, inside the tree", where, f.Dst))
		case slices.Contains(reservedTreePaths, first):
			errs = append(errs, fmt.Errorf("%s: dst %q is inside %s, which the packager writes: choose another path (such as doc/ or share/)", where, f.Dst, first))
		case seen[clean]:
			errs = append(errs, fmt.Errorf("%s: dst %q is given twice", where, f.Dst))
		}
		for d := range seen {
			if strings.HasPrefix(d, clean+"/") || strings.HasPrefix(clean, d+"/") {
				errs = append(errs, fmt.Errorf("%s: dst %q and %q cannot both be files", where, f.Dst, d))
			}
		}
		seen[clean] = true
	}
	return errs
}

// InNPM reports whether t has an npm platform package.
func (t Target) InNPM() bool { return t.NPMOS != "" && t.NPMCPU != "" }

// Target returns the target with this name.
func (c *Config) Target(name string) (Target, bool) {
	for _, t := range c.Targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

// TargetFor returns the target built for a GOOS/GOARCH (and, for arm,
// GOARM) triple.
func (c *Config) TargetFor(goos, goarch, goarm string) (Target, bool) {
	for _, t := range c.Targets {
		if t.Matches(goos, goarch, goarm) {
			return t, true
		}
	}
	return Target{}, false
}

// Matches reports whether t is the target a build for goos/goarch/goarm
// makes.
func (t Target) Matches(goos, goarch, goarm string) bool {
	return t.GOOS == goos && t.GOARCH == goarch && (t.GOARCH != "arm" || t.GOARM == goarm)
}

// GoReleaserTarget is t in GoReleaser's targets syntax: linux_amd64,
// linux_arm_7.
func (t Target) GoReleaserTarget() string {
	if t.GOARCH == "arm" {
		return t.GOOS + "_arm_" + t.GOARM
	}
	return t.GOOS + "_" + t.GOARCH
}

// BinaryName is the binary's file name on t: tern, or tern.exe on Windows.
func (c *Config) BinaryName(t Target) string {
	if t.GOOS == "windows" {
		return c.Binary + ".exe"
	}
	return c.Binary
}

// HelperDir is where a staged tree keeps its helpers: libexec/<product>.
func (c *Config) HelperDir() string { return "libexec/" + c.Product }

// NPMMetaPackage is the meta package's name: @tern-agent/cli.
func (c *Config) NPMMetaPackage() string { return c.NPM.Scope + "/" + c.NPM.Package }

// NPMPlatformPackage is t's platform package: @tern-agent/cli-win32-x64.
func (c *Config) NPMPlatformPackage(t Target) string {
	return c.NPMMetaPackage() + "-" + t.NPMOS + "-" + t.NPMCPU
}

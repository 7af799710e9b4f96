// Package config reads release.yaml, the one declarative description of a
// release: product name, targets with their Go and npm names, the npm scope,
// the helpers per target and the signing identity. Every other packager
// package takes names from here; none hard-codes them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
	Maintainer  string `yaml:"maintainer"` // "Name <email>" of the Linux packages; default: a no-reply placeholder
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

// SourcePath is a path release.yaml gives, made usable: relative paths are
// read against release.yaml's directory. An extra file's src and a template
// override are read with ReadSource instead, which cannot leave that
// directory.
func (c *Config) SourcePath(rel string) string {
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(c.dir, filepath.FromSlash(rel))
}

// Dir is release.yaml's directory, which holds every file it names.
func (c *Config) Dir() string {
	if c.dir == "" {
		return "."
	}
	return c.dir
}

// ReadSource reads a file release.yaml names inside its own directory (an
// extra file's src, a template override). The directory is opened as a
// root, so neither .. nor a symbolic link reaches a file outside it: a
// release never ships, nor renders, /etc/passwd or /proc/self/environ
// because release.yaml, or a link in the repository, names it.
func (c *Config) ReadSource(rel string) ([]byte, error) {
	f, err := c.openSource(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// openSource opens rel, a path release.yaml gives, inside release.yaml's
// directory; it refuses a path that is absolute or leaves the directory,
// and a file that is not a regular file.
func (c *Config) openSource(rel string) (*os.File, error) {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return nil, fmt.Errorf("%q must be a path inside %s", rel, c.Dir())
	}
	root, err := os.OpenRoot(c.Dir())
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(rel))
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s in %s is not a file", rel, c.Dir())
	}
	return f, nil
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
	NPM        *bool `yaml:"npm"`            // the npm meta and platform packages
	Installers *bool `yaml:"installers"`     // install.sh and install.ps1
	Image      *bool `yaml:"image"`          // the container image publish pushes
	SBOM       *bool `yaml:"sbom"`           // a CycloneDX SBOM per archive
	DotSlash   *bool `yaml:"dotslash"`       // the DotSlash file
	Homebrew   *bool `yaml:"homebrew"`       // the Homebrew cask publish brew commits to a tap
	Scoop      *bool `yaml:"scoop"`          // the Scoop manifest publish scoop commits to a bucket
	Winget     *bool `yaml:"winget"`         // the winget manifests publish winget commits to a winget-pkgs fork
	Linux      *bool `yaml:"linux_packages"` // a .deb, an .rpm and an .apk per linux target
	Apt        *bool `yaml:"apt"`            // a signed flat apt repository of the .debs
}

func on(b *bool) bool { return b == nil || *b }

func (d Doors) NPMOn() bool           { return on(d.NPM) }
func (d Doors) InstallersOn() bool    { return on(d.Installers) }
func (d Doors) ImageOn() bool         { return on(d.Image) }
func (d Doors) SBOMOn() bool          { return on(d.SBOM) }
func (d Doors) DotSlashOn() bool      { return on(d.DotSlash) }
func (d Doors) LinuxPackagesOn() bool { return on(d.Linux) }
func (d Doors) HomebrewOn() bool      { return on(d.Homebrew) }
func (d Doors) ScoopOn() bool         { return on(d.Scoop) }
func (d Doors) WingetOn() bool        { return on(d.Winget) }

// AptOn reports whether the release holds an apt repository: it indexes
// the .debs, so it needs the Linux packages too.
func (d Doors) AptOn() bool { return on(d.Apt) && d.LinuxPackagesOn() }

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
// expected text somewhere that what follows is not part of a longer
// version (1.2.3 is not 1.2.30 nor 1.2.3-rc.1). Every occurrence counts,
// not only the first, so "update available: 1.2.30" before "acme 1.2.3"
// does not hide it. The installers apply the same rule.
func (v VersionCheck) Reports(output, version string) bool {
	want := v.Expect(version)
	for from := 0; from <= len(output); from++ {
		i := strings.Index(output[from:], want)
		if i < 0 {
			return false
		}
		end := from + i + len(want)
		if end == len(output) || !isVersionByte(output[end]) {
			return true
		}
		from += i
	}
	return false
}

// isVersionByte reports whether b may go on a version: a letter, digit,
// '.', '-' or '+' (1.2.3 → 1.2.30, 1.2.3-rc.1, 1.2.3+meta). ASCII only, as
// the installers list them, whatever the locale.
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
	// (install.js, shipped with a postinstall script only when set: the
	// packager's own package has no install script) and package.json, and
	// the platform packages' package.json.
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
	// A file the release ships or renders is read through ReadSource: a
	// path inside release.yaml's directory, never one a link leads out of.
	isSource := func(field, rel string) {
		switch f, err := c.openSource(rel); {
		case !filepath.IsLocal(filepath.FromSlash(rel)):
			errs = append(errs, fmt.Errorf("%s %q must be a path inside %s, release.yaml's directory: copy the file there", field, rel, c.Dir()))
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %s is not a file in release.yaml's directory (%v)", field, rel, err))
		default:
			f.Close()
		}
	}
	for _, o := range c.Templates.overrides() {
		if o.path != "" {
			isSource(o.key, o.path)
		}
	}
	for i, f := range c.Files {
		if f.Src != "" {
			isSource(fmt.Sprintf("files[%d].src", i), f.Src)
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
	}
	for _, f := range c.QuotedFacts() {
		if r, bad := Unquotable(f.Value, f.Regexp); bad {
			errs = append(errs, fmt.Errorf("%s %q holds %q, which the installers cannot quote, nor the npm launcher: remove it", f.Key, f.Value, r))
		}
	}
	return errors.Join(errs...)
}

// QuotedFact is a value of release.yaml that the templates write inside
// quotes of sh, PowerShell or JavaScript, with its key.
type QuotedFact struct {
	Key, Value string
	// Regexp: the value is a regular expression, written only inside
	// single quotes of sh and PowerShell, where a backslash is itself.
	Regexp bool
}

// QuotedFacts are the values the installers and the npm files quote. Load
// refuses one Unquotable finds a character in; the templates check again
// before they render.
func (c *Config) QuotedFacts() []QuotedFact {
	facts := []QuotedFact{
		{"product", c.Product, false}, {"binary", c.Binary, false}, {"env_prefix", c.EnvPrefix, false},
		{"repository", c.Repository, false}, {"npm.scope", c.NPM.Scope, false}, {"npm.package", c.NPM.Package, false},
		{"signing.certificate_identity_regexp", c.Signing.CertificateIdentityRegexp, true},
		{"signing.certificate_oidc_issuer", c.Signing.CertificateOIDCIssuer, false},
	}
	if v := c.VersionCheck; v != nil {
		for i, a := range v.Args {
			facts = append(facts, QuotedFact{fmt.Sprintf("version_check.args[%d]", i), a, false})
		}
		facts = append(facts, QuotedFact{"version_check.contains", v.Contains, false})
	}
	return facts
}

// Unquotable finds the first character of s that would end or escape a
// quote the templates write it in: ' " ` $ \ (a JavaScript '…' string's
// escape), a newline or carriage return, or a typographic single quote
// (U+2018 to U+201B), at which PowerShell ends a '…' string too. A regexp
// may hold a backslash: it is written only inside single quotes of sh and
// PowerShell, where a backslash is itself.
func Unquotable(s string, isRegexp bool) (rune, bool) {
	for _, r := range s {
		switch r {
		case '\\':
			if isRegexp {
				continue
			}
			return r, true
		case '\'', '"', '`', '$', '\n', '\r', '\u2018', '\u2019', '\u201a', '\u201b':
			return r, true
		}
	}
	return 0, false
}

// reservedTreePaths are the tree's own files and directories, which an
// extra file may not replace. They are compared case-insensitively: on
// macOS's and Windows's file systems, license would overwrite LICENSE.
var reservedTreePaths = []string{"bin", "libexec", "LICENSE", "THIRD_PARTY_NOTICES.md"}

// npmTreePaths are the npm platform package's own files at the tree's top,
// reserved when npm is on. A README.md of the tree is allowed: it replaces
// the package's.
var npmTreePaths = []string{"package.json"}

func (c *Config) validateFiles() []error {
	var errs []error
	reserved := slices.Clone(reservedTreePaths)
	if c.Doors.NPMOn() {
		reserved = append(reserved, npmTreePaths...)
	}
	seen := map[string]string{} // the lower-cased dst: the dst as given
	for i, f := range c.Files {
		where := fmt.Sprintf("files[%d]", i)
		if f.Src == "" || f.Dst == "" {
			errs = append(errs, fmt.Errorf("%s: give src (the file in the repository) and dst (its path in the tree, such as share/man/man1/%s.1)", where, c.Binary))
			continue
		}
		clean := path.Clean(f.Dst)
		first, _, _ := strings.Cut(clean, "/")
		isReserved := func(name string) bool { return strings.EqualFold(name, first) }
		key := strings.ToLower(clean)
		switch {
		case clean != f.Dst || clean == "." || path.IsAbs(f.Dst) || first == ".." || strings.Contains(f.Dst, "\\"):
			errs = append(errs, fmt.Errorf("%s: dst %q must be a clean relative path with / separators, inside the tree", where, f.Dst))
			continue
		case slices.ContainsFunc(reserved, isReserved):
			name := reserved[slices.IndexFunc(reserved, isReserved)]
			if slices.Contains(npmTreePaths, name) {
				errs = append(errs, fmt.Errorf("%s: dst %q is the npm platform package's %s, which the packager writes: choose another path (such as doc/ or share/)", where, f.Dst, name))
			} else {
				errs = append(errs, fmt.Errorf("%s: dst %q is inside %s, which the packager writes: choose another path (such as doc/ or share/)", where, f.Dst, name))
			}
		case seen[key] != "":
			errs = append(errs, fmt.Errorf("%s: dst %q is given twice (as %q: letter case does not tell files apart on macOS and Windows)", where, f.Dst, seen[key]))
		}
		for d, given := range seen {
			if strings.HasPrefix(d, key+"/") || strings.HasPrefix(key, d+"/") {
				errs = append(errs, fmt.Errorf("%s: dst %q and %q cannot both be files", where, f.Dst, given))
			}
		}
		seen[key] = f.Dst
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

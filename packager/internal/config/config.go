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
}

// Templates are a project's own templates, in place of the packager's:
// paths relative to the directory of release.yaml.
type Templates struct {
	InstallSH  string `yaml:"install_sh"`
	InstallPS1 string `yaml:"install_ps1"`
	// NPMReadme is the npm meta package's README.md, the package's page on
	// the registry: a product describes itself there.
	NPMReadme string `yaml:"npm_readme"`
}

// Path is the override for the file a template renders, "" for none.
func (t Templates) Path(name string) string {
	switch name {
	case "install.sh":
		return t.InstallSH
	case "install.ps1":
		return t.InstallPS1
	case "npm/meta/README.md":
		return t.NPMReadme
	}
	return ""
}

// InstallerTargets are the targets install.sh serves (Linux and macOS) and
// those install.ps1 serves (Windows), in release.yaml's order. The
// templates write them and verify checks them, from this one split.
func (c *Config) InstallerTargets() (unix, windows []string) {
	for _, t := range c.Targets {
		switch t.GOOS {
		case "windows":
			windows = append(windows, t.Name)
		case "linux", "darwin":
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
	for _, t := range []struct{ field, path string }{{"templates.install_sh", c.Templates.InstallSH}, {"templates.install_ps1", c.Templates.InstallPS1}, {"templates.npm_readme", c.Templates.NPMReadme}} {
		if t.path == "" {
			continue
		}
		p := t.path
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			errs = append(errs, fmt.Errorf("%s: %s is not a file (a path relative to release.yaml's directory)", t.field, t.path))
		}
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
	need("npm.scope", c.NPM.Scope)
	need("npm.package", c.NPM.Package)
	if c.EnvPrefix != "" && !envPrefixRE.MatchString(c.EnvPrefix) {
		errs = append(errs, fmt.Errorf("env_prefix %q must be upper-case letters, digits and _, starting with a letter and ending in _ (as TERN_)", c.EnvPrefix))
	}
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("targets: at least one is required"))
	}
	seen := map[string]bool{}
	for i, t := range c.Targets {
		where := fmt.Sprintf("targets[%d]", i)
		if !nameRE.MatchString(t.Name) {
			errs = append(errs, fmt.Errorf("%s: name %q must be lower-case letters, digits and dashes", where, t.Name))
		}
		if seen[t.Name] {
			errs = append(errs, fmt.Errorf("%s: target %s is listed twice", where, t.Name))
		}
		seen[t.Name] = true
		for _, f := range []struct{ field, value string }{{"goos", t.GOOS}, {"goarch", t.GOARCH}, {"npm_os", t.NPMOS}, {"npm_cpu", t.NPMCPU}} {
			if f.value == "" {
				errs = append(errs, fmt.Errorf("%s (%s): %s is required", where, t.Name, f.field))
			}
		}
		switch {
		case t.GOARCH == "arm" && !slices.Contains([]string{"5", "6", "7"}, t.GOARM):
			errs = append(errs, fmt.Errorf("%s (%s): goarch arm needs goarm 5, 6 or 7 (armv6 for a Raspberry Pi Zero, 7 for most boards)", where, t.Name))
		case t.GOARCH != "arm" && t.GOARM != "":
			errs = append(errs, fmt.Errorf("%s (%s): goarm applies only to goarch arm", where, t.Name))
		}
	}
	return errors.Join(errs...)
}

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

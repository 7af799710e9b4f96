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
	"regexp"

	"go.yaml.in/yaml/v3"
)

// Config is release.yaml.
type Config struct {
	Product     string   `yaml:"product"`
	Binary      string   `yaml:"binary"`
	Repository  string   `yaml:"repository"`
	LicenseFile string   `yaml:"license_file"`
	Targets     []Target `yaml:"targets"`
	NPM         NPM      `yaml:"npm"`
	Signing     Signing  `yaml:"signing"`
}

// Target is one release target.
type Target struct {
	Name    string   `yaml:"name"` // archive name: linux-x64
	GOOS    string   `yaml:"goos"`
	GOARCH  string   `yaml:"goarch"`
	NPMOS   string   `yaml:"npm_os"`  // process.platform: win32
	NPMCPU  string   `yaml:"npm_cpu"` // process.arch: x64
	Helpers []string `yaml:"helpers"`
}

// NPM names the npm packages.
type NPM struct {
	Scope   string `yaml:"scope"`
	Package string `yaml:"package"`
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
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

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

// TargetFor returns the target built for a GOOS/GOARCH pair.
func (c *Config) TargetFor(goos, goarch string) (Target, bool) {
	for _, t := range c.Targets {
		if t.GOOS == goos && t.GOARCH == goarch {
			return t, true
		}
	}
	return Target{}, false
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

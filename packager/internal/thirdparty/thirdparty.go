// Package thirdparty reads third_party/<name>/: a native dependency's
// manifest (pinned source, digests, patches, recipe, targets) and its lock
// (the digest of each built output). It is the packager's only view of
// native code; the build itself is the recipe's business.
package thirdparty

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Manifest is third_party/<name>/manifest.yaml.
type Manifest struct {
	Name         string   `yaml:"name"`
	Binary       string   `yaml:"binary"`
	Version      string   `yaml:"version"`
	License      string   `yaml:"license"`
	LicenseFiles []string `yaml:"license_files"`
	Homepage     string   `yaml:"homepage"`
	// CPEVendor is the vendor NVD files the helper's advisories under, for
	// the SBOM's CPE; empty gives no CPE, since a guessed vendor matches
	// nothing and looks as if it did.
	CPEVendor string            `yaml:"cpe_vendor"`
	Source    Source            `yaml:"source"`
	Patches   []Patch           `yaml:"patches"`
	Recipe    string            `yaml:"recipe"`
	Targets   map[string]Target `yaml:"targets"`

	Dir string `yaml:"-"` // where the manifest lives
}

// Source is the pinned upstream tarball.
type Source struct {
	SHA256       string   `yaml:"sha256"`
	Root         string   `yaml:"root"`
	URLs         []string `yaml:"urls"`
	DebianSource string   `yaml:"debian_source"`
}

// Patch is one patch, applied in order.
type Patch struct {
	File   string `yaml:"file"`
	SHA256 string `yaml:"sha256"`
	Reason string `yaml:"reason"`
}

// Target is how to build for one release target.
type Target struct {
	Host string   `yaml:"host"`
	Debs []string `yaml:"debs"`
}

var hexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Load reads every third_party/*/manifest.yaml under root.
func Load(root string) ([]*Manifest, error) {
	paths, err := filepath.Glob(filepath.Join(root, "third_party", "*", "manifest.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []*Manifest
	for _, p := range paths {
		m, err := LoadManifest(p)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// LoadManifest reads and checks one manifest.
func LoadManifest(path string) (*Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.Dir = filepath.Dir(path)
	var errs []error
	for field, v := range map[string]string{"name": m.Name, "binary": m.Binary, "version": m.Version, "license": m.License, "recipe": m.Recipe, "source.root": m.Source.Root} {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required", field))
		}
	}
	if !hexRE.MatchString(m.Source.SHA256) {
		errs = append(errs, fmt.Errorf("source.sha256 %q is not a lower-case sha256", m.Source.SHA256))
	}
	for i, p := range m.Patches {
		if !hexRE.MatchString(p.SHA256) || p.File == "" || strings.TrimSpace(p.Reason) == "" {
			errs = append(errs, fmt.Errorf("patches[%d]: each patch needs a file, a sha256 and a one-line reason", i))
		}
	}
	if len(m.LicenseFiles) == 0 {
		errs = append(errs, errors.New("license_files: name the files that hold the licence text"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}

// LockPath is the lock file beside the manifest.
func (m *Manifest) LockPath() string { return filepath.Join(m.Dir, "lock.yaml") }

// Lock reads the expected output digests, target → sha256.
func (m *Manifest) Lock() (map[string]string, error) {
	raw, err := os.ReadFile(m.LockPath())
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	lock := map[string]string{}
	if err := yaml.Unmarshal(raw, &lock); err != nil {
		return nil, fmt.Errorf("%s: %w", m.LockPath(), err)
	}
	return lock, nil
}

// WriteLock rewrites the lock with the given digests.
func (m *Manifest) WriteLock(lock map[string]string) error {
	var b strings.Builder
	b.WriteString("# The sha256 of " + m.Binary + " as " + m.Recipe + " builds it for each target. A build that\n")
	b.WriteString("# gives other bytes fails; `packager helpers build --update-lock` rewrites\n")
	b.WriteString("# this file after a deliberate change.\n")
	var targets []string
	for t := range lock {
		targets = append(targets, t)
	}
	sort.Strings(targets)
	for _, t := range targets {
		fmt.Fprintf(&b, "%s: %q\n", t, lock[t])
	}
	return os.WriteFile(m.LockPath(), []byte(b.String()), 0o644)
}

// ForBinary finds the manifest of the helper binary named name.
func ForBinary(ms []*Manifest, name string) (*Manifest, error) {
	for _, m := range ms {
		if m.Binary == name {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no third_party/*/manifest.yaml builds a helper named %q", name)
}

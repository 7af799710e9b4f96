package verify

import (
	"bytes"
	"encoding/json"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/npm"
	"github.com/tern-agent/tern/packager/internal/safeextract"
)

// packageJSON is what verify reads of a package.json.
type packageJSON struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	OS                   []string          `json:"os"`
	CPU                  []string          `json:"cpu"`
	PreferUnplugged      bool              `json:"preferUnplugged"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	Bin                  map[string]string `json:"bin"`
}

// npmPackages checks that every target with npm names has its platform
// package, that each holds its archive's tree byte for byte (binary, helpers,
// extra files) with the right os and cpu, that no other target has one, and
// that the meta package pins them all at the release version with their
// binaries' digests. With the npm door off, the release holds no npm package.
func (c *checker) npmPackages(m *manifest.Manifest) {
	cfg := c.opts.Config
	if !cfg.Doors.NPMOn() {
		for _, a := range m.Artifacts {
			if a.Kind == "npm" {
				c.fail(a.Name, "is an npm package, but release.yaml's doors.npm is false: a release without the npm door holds none (remake the release with packager release)")
			}
		}
		return
	}
	binaries := map[string]string{} // target → the archive's binary sha256
	for _, a := range m.Artifacts {
		if a.Kind == "archive" && a.Binary != nil {
			binaries[a.Target] = a.Binary.SHA256
		}
	}
	var meta *manifest.Artifact
	seen := map[string]bool{}
	platformFiles := map[string]map[string]member{} // target → its platform package's files
	for i, a := range m.Artifacts {
		if a.Kind != "npm" {
			continue
		}
		if a.Target == "" {
			meta = &m.Artifacts[i]
			continue
		}
		t, ok := cfg.Target(a.Target)
		if !ok {
			c.fail(a.Name, "is for target %q, which release.yaml does not have", a.Target)
			continue
		}
		if !t.InNPM() {
			c.fail(a.Name, "is an npm platform package for target %s, which has no npm_os and npm_cpu in release.yaml, so no package (remake the release with packager release)", t.Name)
			continue
		}
		seen[t.Name] = true
		platformFiles[t.Name] = c.platformPackage(a, t, m, binaries[t.Name])
	}
	for _, t := range npm.NPMTargets(cfg) {
		if !seen[t.Name] {
			c.fail(layout.Manifest, "lists no npm platform package for target %s", t.Name)
		}
	}
	if meta == nil {
		c.fail(layout.Manifest, "lists no npm meta package %s", cfg.NPMMetaPackage())
		return
	}
	c.metaPackage(*meta, m.Version, binaries, platformFiles)
}

// npmFiles reads an npm tarball's members, refusing unsafe ones, and returns
// regular files by their path below package/.
func (c *checker) npmFiles(a manifest.Artifact) map[string]member {
	members, err := readArchive(filepath.Join(c.dir, a.Name), layout.TarGz)
	if err != nil {
		c.fail(a.Name, "%v", err)
		return nil
	}
	files := map[string]member{}
	for _, mb := range members {
		if v := safeextract.CheckName(mb.name); v != nil {
			c.fail(a.Name, "member %q %s", mb.name, v.Verb)
			continue
		}
		rel, ok := cutPackage(mb.name)
		switch {
		case !ok:
			c.fail(a.Name, "member %s is not under package/, as npm lays packages out", mb.name)
		case mb.isLink || mb.other:
			c.fail(a.Name, "member %s is not a regular file", mb.name)
		case !mb.dir:
			files[rel] = mb
		}
	}
	return files
}

func cutPackage(name string) (string, bool) {
	const prefix = "package/"
	if len(name) <= len(prefix) || name[:len(prefix)] != prefix {
		return "", false
	}
	return name[len(prefix):], true
}

// npmPackage reads an npm tarball's files and its package.json.
func (c *checker) npmPackage(a manifest.Artifact) (map[string]member, packageJSON, bool) {
	var p packageJSON
	files := c.npmFiles(a)
	if files == nil {
		return nil, p, false
	}
	raw, ok := files["package.json"]
	if !ok {
		c.fail(a.Name, "has no package/package.json")
		return nil, p, false
	}
	if err := json.Unmarshal(raw.data, &p); err != nil {
		c.fail(a.Name, "package.json: %v", err)
		return nil, p, false
	}
	return files, p, true
}

// platformPackage checks a platform package and returns its files.
func (c *checker) platformPackage(a manifest.Artifact, t config.Target, m *manifest.Manifest, archiveBinary string) map[string]member {
	cfg, version := c.opts.Config, m.Version
	files, p, ok := c.npmPackage(a)
	if !ok {
		return nil
	}
	c.sameTree(a.Name, t, m, files)
	if want := cfg.NPMPlatformPackage(t); p.Name != want {
		c.fail(a.Name, "package.json names %q, want %q", p.Name, want)
	}
	if p.Version != version {
		c.fail(a.Name, "package.json version %s, the release is %s", p.Version, version)
	}
	if !slices.Equal(p.OS, []string{t.NPMOS}) || !slices.Equal(p.CPU, []string{t.NPMCPU}) {
		c.fail(a.Name, "package.json says os %v cpu %v, %s needs [%s] [%s]", p.OS, p.CPU, t.Name, t.NPMOS, t.NPMCPU)
	}
	if !p.PreferUnplugged {
		c.fail(a.Name, "package.json lacks preferUnplugged: true (Yarn would run the binary from a zip)")
	}
	bin, ok := files[path.Join("bin", cfg.BinaryName(t))]
	switch {
	case !ok:
		c.fail(a.Name, "has no package/bin/%s", cfg.BinaryName(t))
	case digest(bin.data) != archiveBinary:
		c.fail(a.Name, "its binary (sha256 %s) is not byte-identical to the %s archive's (%s)", digest(bin.data), t.Name, archiveBinary)
	}
	return files
}

// sameTree checks that a platform package holds its target's tree as the
// archive does, file for file and byte for byte, with the same modes, and
// nothing else but its package.json and (when the tree has none) a
// README.md.
func (c *checker) sameTree(pkg string, t config.Target, m *manifest.Manifest, files map[string]member) {
	cfg := c.opts.Config
	name := layout.ArchiveName(cfg, m.Version, t)
	members, err := readArchive(filepath.Join(c.dir, name), layout.FormatFor(t))
	if err != nil {
		return // archives reports the archive
	}
	prefix := layout.Prefix(cfg, m.Version, t) + "/"
	tree := map[string]member{}
	for _, mb := range members {
		if rel, ok := strings.CutPrefix(mb.name, prefix); ok && !mb.dir && !mb.isLink && !mb.other {
			tree[rel] = mb
		}
	}
	for _, rel := range slices.Sorted(maps.Keys(tree)) {
		f, ok := files[rel]
		switch {
		case !ok:
			c.fail(pkg, "lacks %s, which the %s archive holds: the package must ship the tree the archive does", rel, t.Name)
		case !bytes.Equal(f.data, tree[rel].data):
			c.fail(pkg, "its %s (sha256 %s) is not byte-identical to the %s archive's (%s)", rel, digest(f.data), t.Name, digest(tree[rel].data))
		case f.mode != tree[rel].mode:
			c.fail(pkg, "its %s has mode %o, the %s archive's %o", rel, f.mode, t.Name, tree[rel].mode)
		}
	}
	// The package's own files: its package.json, and its README.md unless
	// the tree brings one.
	own := map[string]bool{"package.json": true, "README.md": true}
	for _, rel := range slices.Sorted(maps.Keys(files)) {
		if _, inTree := tree[rel]; !inTree && !own[rel] {
			c.fail(pkg, "holds %s, which the %s archive does not: the package must ship the tree the archive does, nothing more", rel, t.Name)
		}
	}
}

func (c *checker) metaPackage(a manifest.Artifact, version string, binaries map[string]string, platformFiles map[string]map[string]member) {
	cfg := c.opts.Config
	files, p, ok := c.npmPackage(a)
	if !ok {
		return
	}
	if p.Name != cfg.NPMMetaPackage() || p.Version != version {
		c.fail(a.Name, "package.json is %s@%s, want %s@%s", p.Name, p.Version, cfg.NPMMetaPackage(), version)
	}
	c.launcherFacts(a.Name, p, files)
	var table map[string]npm.PlatformEntry
	if raw, ok := files["lib/platforms.json"]; !ok {
		c.fail(a.Name, "has no lib/platforms.json, the launcher's platform table")
	} else if err := json.Unmarshal(raw.data, &table); err != nil {
		c.fail(a.Name, "lib/platforms.json: %v", err)
	}
	targets := npm.NPMTargets(cfg)
	keys := map[string]bool{}
	for _, t := range targets {
		keys[npm.PlatformKey(t)] = true
	}
	for _, k := range slices.Sorted(maps.Keys(table)) {
		if !keys[k] {
			c.fail(a.Name, "lib/platforms.json has an entry for %s, which no target of release.yaml has as npm_os-npm_cpu", k)
		}
	}
	for _, t := range targets {
		name := cfg.NPMPlatformPackage(t)
		if pin := p.OptionalDependencies[name]; pin != version {
			c.fail(a.Name, "pins %s at %q, want exactly %s", name, pin, version)
		}
		entry, ok := table[npm.PlatformKey(t)]
		switch {
		case !ok:
			c.fail(a.Name, "lib/platforms.json has no entry for %s", npm.PlatformKey(t))
		case entry.Package != name:
			c.fail(a.Name, "lib/platforms.json maps %s to %s, want %s", npm.PlatformKey(t), entry.Package, name)
		case entry.SHA256 != binaries[t.Name]:
			c.fail(a.Name, "lib/platforms.json records sha256 %s for %s, the archive's binary is %s", entry.SHA256, t.Name, binaries[t.Name])
		case entry.GOARM != t.GOARM:
			c.fail(a.Name, "lib/platforms.json records goarm %q for %s, which is built with GOARM %q: the launcher's ARM check would be wrong", entry.GOARM, t.Name, t.GOARM)
		}
		if files := platformFiles[t.Name]; ok && files != nil {
			c.platformFileList(a.Name, name, entry.Files, files)
		}
	}
	if len(p.OptionalDependencies) != len(targets) {
		c.fail(a.Name, "has %d optionalDependencies, want one per target with npm_os and npm_cpu (%d)", len(p.OptionalDependencies), len(targets))
	}
}

// platformFileList checks lib/platforms.json's file list for one platform
// package against the package: the launcher's first-run fetch unpacks exactly the
// listed files with the listed digests, so any difference fails every
// install that needs the fetch.
func (c *checker) platformFileList(meta, pkg string, listed map[string]string, files map[string]member) {
	for _, name := range slices.Sorted(maps.Keys(files)) {
		switch sum, ok := listed[name]; {
		case !ok:
			c.fail(meta, "lib/platforms.json does not list %s's %s: the launcher's first-run fetch would refuse the package", pkg, name)
		case sum != digest(files[name].data):
			c.fail(meta, "lib/platforms.json records sha256 %s for %s's %s, the package's is %s", sum, pkg, name, digest(files[name].data))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(listed)) {
		if _, ok := files[name]; !ok {
			c.fail(meta, "lib/platforms.json lists %s for %s, which the package does not hold", name, pkg)
		}
	}
}

// launcherFacts refuses a meta package whose launcher is another product's:
// it must install exactly one command, the binary's name, and that launcher
// must read the release's env prefix (<PREFIX>BINARY_PATH).
func (c *checker) launcherFacts(meta string, p packageJSON, files map[string]member) {
	cfg := c.opts.Config
	launcher, ok := p.Bin[cfg.Binary]
	if !ok || len(p.Bin) != 1 {
		c.fail(meta, "package.json installs the command(s) %s, want %s alone (a launcher of another product?)", strings.Join(slices.Sorted(maps.Keys(p.Bin)), ", "), cfg.Binary)
		return
	}
	f, ok := files[path.Clean(launcher)]
	switch {
	case !ok:
		c.fail(meta, "package.json's command %s runs %s, which the package does not hold", cfg.Binary, launcher)
	case !bytes.Contains(f.data, []byte(cfg.EnvPrefix+"BINARY_PATH")):
		c.fail(meta, "its launcher %s does not read %sBINARY_PATH: a launcher of another product?", launcher, cfg.EnvPrefix)
	}
}

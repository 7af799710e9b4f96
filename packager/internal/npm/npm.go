// Package npm makes the npm packages of a release from the same staged trees
// as the archives: one platform package per target that has npm names (the
// tree, extra files included, plus a package.json with os, cpu and
// preferUnplugged) and the meta package (the launcher, exact-version
// optionalDependencies on every platform package, and each platform
// binary's sha256). Every file it does not compute is rendered for the
// release from the packager's templates (package templates), or a
// project's override of one, never read from the repository otherwise. The
// tarballs are deterministic and laid out as npm itself packs them.
//
// With doors.npm false it writes nothing at all.
package npm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pack"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/templates"
)

// npmMtime is the time npm writes on every entry of the tarballs it packs.
var npmMtime = time.Date(1985, time.October, 26, 8, 15, 0, 0, time.UTC)

// PlatformEntry is one line of the meta package's lib/platforms.json: how the
// launcher finds and checks a target's binary. Files is every file of the
// platform package (path below package/ → sha256): the launcher's first
// run, when it must fetch the package itself, unpacks exactly these and
// nothing else, so a hostile tarball can swap neither the binary nor a
// helper it runs.
//
// GOARM is the ARM version an arm target was built for: the launcher refuses
// to run it on an older ARM, where it would die of SIGILL.
type PlatformEntry struct {
	Package string            `json:"package"`
	Binary  string            `json:"binary"`
	SHA256  string            `json:"sha256"`
	Target  string            `json:"target"`
	GOARM   string            `json:"goarm,omitempty"`
	Files   map[string]string `json:"files"`
}

// PlatformKey is Node's name for a target: process.platform-process.arch.
func PlatformKey(t config.Target) string { return t.NPMOS + "-" + t.NPMCPU }

// NPMTargets are the targets with an npm platform package: those with npm
// names, and none when the npm door is off.
func NPMTargets(c *config.Config) []config.Target {
	if !c.Doors.NPMOn() {
		return nil
	}
	var ts []config.Target
	for _, t := range c.Targets {
		if t.InNPM() {
			ts = append(ts, t)
		}
	}
	return ts
}

// Pipe writes every npm tarball into the release.
type Pipe struct{}

func (Pipe) String() string { return "pack npm packages" }

func (Pipe) Run(ctx *pipeline.Context) error {
	c := ctx.Config
	if !c.Doors.NPMOn() {
		ctx.Logf("skipped: doors.npm is false in release.yaml")
		return nil
	}
	if err := checkNodeNames(c); err != nil {
		return err
	}
	for _, name := range templates.NPMNames {
		if p := c.Templates.Path(name); p != "" {
			ctx.Logf("%s: the project's %s", name, p)
		}
	}
	version := ctx.Version.String()
	platforms := map[string]PlatformEntry{}
	optional := map[string]string{}
	for _, t := range NPMTargets(c) {
		tree, err := ctx.Artifacts.One(artifact.And(artifact.ByKind(artifact.Tree), artifact.ByTarget(t.Name)), "staged tree for "+t.Name)
		if err != nil {
			return err
		}
		archive, err := ctx.Artifacts.One(artifact.And(artifact.ByKind(artifact.Archive), artifact.ByTarget(t.Name)), "archive for "+t.Name)
		if err != nil {
			return err
		}
		name := c.NPMPlatformPackage(t)
		files, err := platformPackage(ctx, t, tree.Path, name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		binary := path.Join("bin", c.BinaryName(t))
		if files[binary] != archive.Binary.SHA256 {
			return fmt.Errorf("%s: its %s has sha256 %s, the %s archive's binary %s", name, binary, files[binary], t.Name, archive.Binary.SHA256)
		}
		platforms[PlatformKey(t)] = PlatformEntry{Package: name, Binary: binary, SHA256: archive.Binary.SHA256, Target: t.Name, GOARM: t.GOARM, Files: files}
		optional[name] = version
	}
	if skipped := len(c.Targets) - len(optional); skipped > 0 {
		ctx.Logf("%d target(s) without npm_os and npm_cpu have no platform package", skipped)
	}
	return metaPackage(ctx, platforms, optional)
}

// The platform table: Node's process.platform for each GOOS and
// process.arch for each GOARCH, where Node runs. A target's npm_os and
// npm_cpu must be these, or npm installs its package on no machine.
var (
	nodePlatform = map[string]string{
		"linux": "linux", "darwin": "darwin", "windows": "win32", "freebsd": "freebsd", "openbsd": "openbsd",
		"netbsd": "netbsd", "aix": "aix", "android": "android", "illumos": "sunos", "solaris": "sunos",
	}
	nodeArch = map[string]string{
		"amd64": "x64", "386": "ia32", "arm": "arm", "arm64": "arm64", "riscv64": "riscv64",
		"ppc64le": "ppc64", "ppc64": "ppc64", "s390x": "s390x", "loong64": "loong64",
		"mips": "mips", "mipsle": "mipsel", "mips64": "mips64", "mips64le": "mips64el",
	}
)

// checkNodeNames refuses a target whose npm names are not Node's names for
// its GOOS and GOARCH: its package would install where the binary cannot run,
// or nowhere.
func checkNodeNames(c *config.Config) error {
	var errs []error
	for _, t := range NPMTargets(c) {
		platform, osKnown := nodePlatform[t.GOOS]
		cpu, cpuKnown := nodeArch[t.GOARCH]
		switch {
		case !osKnown || !cpuKnown:
			errs = append(errs, fmt.Errorf("release.yaml's target %s: Node does not run on %s/%s, so npm cannot install it: leave npm_os and npm_cpu empty, and its archive alone serves it", t.Name, t.GOOS, t.GOARCH))
		case t.NPMOS != platform || t.NPMCPU != cpu:
			errs = append(errs, fmt.Errorf("release.yaml's target %s: npm_os %s and npm_cpu %s are not Node's names for %s/%s: set npm_os: %s and npm_cpu: %s", t.Name, t.NPMOS, t.NPMCPU, t.GOOS, t.GOARCH, platform, cpu))
		}
	}
	return errors.Join(errs...)
}

// platformPackage writes a target's platform package and returns its files'
// digests.
func platformPackage(ctx *pipeline.Context, t config.Target, treeDir, name string) (map[string]string, error) {
	c, version := ctx.Config, ctx.Version.String()
	tmpl, err := renderJSON(ctx, "npm/platform/package.json")
	if err != nil {
		return nil, err
	}
	tree, err := pack.Tree(treeDir)
	if err != nil {
		return nil, err
	}
	tmpl["name"], tmpl["version"] = name, version
	tmpl["description"] = strings.ReplaceAll(fmt.Sprint(tmpl["description"]), "PLATFORM", t.Name)
	tmpl["os"], tmpl["cpu"] = []string{t.NPMOS}, []string{t.NPMCPU}
	tmpl["preferUnplugged"] = true
	if c.Repository != "" {
		tmpl["repository"] = map[string]string{"type": "git", "url": "git+" + c.Repository + ".git"}
	}
	readme, err := templates.Render(c, ctx.Root, "npm/platform/README.md")
	if err != nil {
		return nil, err
	}
	readme = []byte(strings.NewReplacer("{{package}}", name, "{{target}}", t.Name, "{{meta}}", c.NPMMetaPackage()).Replace(string(readme)))

	pkgJSON, err := marshal(tmpl)
	if err != nil {
		return nil, err
	}
	// The staged tree, byte for byte: the same bytes as the archive's, extra
	// files included. npm tarballs hold files only, no directory entries. A
	// README.md of the tree (an extra file) is the package's page too.
	files := []pack.File{{Name: "package.json", Data: pkgJSON, Mode: 0o644}}
	hasReadme := false
	for _, f := range tree {
		switch {
		case strings.HasSuffix(f.Name, "/"):
			continue
		case f.Name == "package.json":
			return nil, fmt.Errorf("the %s tree holds a package.json (release.yaml's files:), which would replace the platform package's own: give it another dst", t.Name)
		case f.Name == "README.md":
			hasReadme = true
		}
		files = append(files, f)
	}
	if !hasReadme {
		files = append(files, pack.File{Name: "README.md", Data: readme, Mode: 0o644})
	}
	return write(ctx, layout.NPMTarball(name, version), t.Name, files)
}

func metaPackage(ctx *pipeline.Context, platforms map[string]PlatformEntry, optional map[string]string) error {
	c, version := ctx.Config, ctx.Version.String()
	const tmplPath = "npm/meta/package.json"
	tmpl, err := renderJSON(ctx, tmplPath)
	if err != nil {
		return err
	}
	listed, err := templateFiles(tmplPath, tmpl)
	if err != nil {
		return err
	}
	tmpl["name"], tmpl["version"] = c.NPMMetaPackage(), version
	tmpl["optionalDependencies"] = optional
	if c.Templates.NPMPostinstall != "" {
		listed = withPostinstall(tmpl, listed)
	}
	if c.Repository != "" {
		tmpl["repository"] = map[string]string{"type": "git", "url": "git+" + c.Repository + ".git"}
	}
	pkgJSON, err := marshal(tmpl)
	if err != nil {
		return err
	}
	table, err := marshal(platforms)
	if err != nil {
		return err
	}
	files := []pack.File{
		{Name: "package.json", Data: pkgJSON, Mode: 0o644},
		{Name: "lib/platforms.json", Data: table, Mode: 0o644},
		{Name: "LICENSE", Src: filepath.Join(ctx.Root, c.LicenseFile), Mode: 0o644},
	}
	for _, name := range listed {
		if name == "lib/platforms.json" || name == "LICENSE" {
			continue
		}
		mode := int64(0o644)
		if strings.HasPrefix(name, "bin/") {
			mode = 0o755
		}
		data, err := templates.Render(c, ctx.Root, templates.NPMMetaTemplate(c, name))
		if err != nil {
			return fmt.Errorf("the meta package's %s: %w", name, err)
		}
		files = append(files, pack.File{Name: name, Data: data, Mode: mode})
	}
	_, err = write(ctx, layout.NPMTarball(c.NPMMetaPackage(), version), "", files)
	return err
}

// cacheFormat changes whenever the tarballs' bytes change for the same input.
const cacheFormat = "npm-v1"

// write packs files under package/, sorted, as npm does, through the pack
// cache keyed by every file's name, mode and digest. It returns the digests,
// by path below package/.
func write(ctx *pipeline.Context, name, target string, files []pack.File) (map[string]string, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	key := sha256.New()
	fmt.Fprintf(key, "%s\x00%s\x00", cacheFormat, name)
	digests := map[string]string{}
	for i := range files {
		sum := sha256.Sum256(files[i].Data)
		digest := hex.EncodeToString(sum[:])
		if files[i].Src != "" {
			var err error
			if digest, _, err = fileutil.SHA256File(files[i].Src); err != nil {
				return nil, err
			}
		}
		digests[files[i].Name] = digest
		files[i].Name = "package/" + files[i].Name
		fmt.Fprintf(key, "%s\x00%o\x00%s\x00", files[i].Name, files[i].Mode, digest)
	}
	out := filepath.Join(ctx.Release, name)
	err := pack.Cached(ctx.Dist, hex.EncodeToString(key.Sum(nil)), out, func(w io.Writer) error {
		return pack.WriteTarGz(w, files, npmMtime)
	})
	if err != nil {
		return nil, err
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: name, Path: out, Kind: artifact.NPM, Target: target})
	return digests, nil
}

// withPostinstall ships a project's own postinstall (templates.npm_postinstall)
// with the meta package: install.js in "files" and, unless the project's
// package.json already has one, the postinstall script that runs it. The
// packager's own package has no install script: its launcher does that work
// on its first run, since pnpm, Yarn, bun and deno skip install scripts.
func withPostinstall(tmpl map[string]any, listed []string) []string {
	if !slices.Contains(listed, "install.js") {
		listed = append(listed, "install.js")
		tmpl["files"] = append(tmpl["files"].([]any), "install.js")
	}
	scripts, _ := tmpl["scripts"].(map[string]any)
	if scripts == nil {
		scripts = map[string]any{}
	}
	if _, ok := scripts["postinstall"]; !ok {
		scripts["postinstall"] = "node install.js"
	}
	tmpl["scripts"] = scripts
	return listed
}

// templateFiles is the template's "files" list: what the meta package
// ships besides what the packager writes.
func templateFiles(p string, tmpl map[string]any) ([]string, error) {
	list, ok := tmpl["files"].([]any)
	if !ok {
		return nil, fmt.Errorf("%s has no \"files\" list: list the launcher's files there, as the packager's template does", p)
	}
	names := make([]string, 0, len(list))
	for _, f := range list {
		name, ok := f.(string)
		if !ok {
			return nil, fmt.Errorf("%s: \"files\" holds %v, not a file name", p, f)
		}
		names = append(names, name)
	}
	return names, nil
}

// renderJSON is the named package.json template, rendered for the release.
func renderJSON(ctx *pipeline.Context, name string) (map[string]any, error) {
	raw, err := templates.Render(ctx.Config, ctx.Root, name)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s, rendered, is not a JSON object: %w", templates.Origin(ctx.Config, ctx.Root, name), err)
	}
	return m, nil
}

// marshal is JSON as npm writes it: two-space indent, no HTML escaping
// (">=18" stays readable), keys sorted (Go's maps), a final newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(v)
	return b.Bytes(), err
}

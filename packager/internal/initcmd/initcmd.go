// Package initcmd is `packager init`: it reads a Go module repository
// (go.mod, its main packages, its git remote) and writes what the packager
// needs to release it: release.yaml, a .goreleaser.yaml wired for the
// packager, and CI and release workflows.
//
// It decides on data (Inspect, then Decide) and writes separately (Run).
// It never overwrites a release.yaml without Force, never rewrites a
// .goreleaser.yaml it cannot adapt safely, and a second run with the same
// flags writes nothing.
package initcmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/tern-agent/tern/packager/internal/build"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
)

// Options are init's flags. Empty fields take their defaults from the
// repository.
type Options struct {
	Dir        string   // the repository root, holding go.mod
	Main       string   // the main package: ./cmd/x
	Binary     string   // the binary's name
	Product    string   // the product's name (archives, install directory)
	NPMScope   string   // @scope
	NPMPackage string   // the npm meta package's name within the scope
	Repository string   // https://github.com/owner/name
	Targets    []string // target names, from KnownTargets
	StampVar   string   // the package main variable the build stamp is set in
	// StampVarExplicit: StampVar was given (--stamp-var), so the build
	// stamp is wanted there even where package main lacks the variable
	// yet, and no version variable is looked for in its place.
	StampVarExplicit bool
	// VersionVar is a string variable the build sets to the version,
	// IMPORTPATH.NAME or main.NAME, for a binary that prints it on
	// --version instead of carrying the packager's build stamp. Empty:
	// package main's version or Version, when it has one and no StampVar.
	VersionVar string
	Force      bool // overwrite an existing, different release.yaml

	// Packager is how the workflows run the packager: its main package
	// path and the version to run (`go run <Path>@<Version>`).
	PackagerPath, PackagerVersion string
}

// DefaultStampVar is the variable of package main the generated
// .goreleaser.yaml sets to the build stamp.
const DefaultStampVar = "buildStamp"

// DefaultTargets are the targets init declares without --targets.
var DefaultTargets = []string{"linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "windows-x64", "windows-arm64"}

// KnownTargets are the targets init can declare: Go's names and Node's
// (process.platform, process.arch) for each.
var KnownTargets = []config.Target{
	{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64", NPMOS: "linux", NPMCPU: "x64"},
	{Name: "linux-arm64", GOOS: "linux", GOARCH: "arm64", NPMOS: "linux", NPMCPU: "arm64"},
	{Name: "darwin-x64", GOOS: "darwin", GOARCH: "amd64", NPMOS: "darwin", NPMCPU: "x64"},
	{Name: "darwin-arm64", GOOS: "darwin", GOARCH: "arm64", NPMOS: "darwin", NPMCPU: "arm64"},
	{Name: "windows-x64", GOOS: "windows", GOARCH: "amd64", NPMOS: "win32", NPMCPU: "x64"},
	{Name: "windows-arm64", GOOS: "windows", GOARCH: "arm64", NPMOS: "win32", NPMCPU: "arm64"},
	{Name: "linux-x86", GOOS: "linux", GOARCH: "386", NPMOS: "linux", NPMCPU: "ia32"},
	{Name: "linux-armv7", GOOS: "linux", GOARCH: "arm", GOARM: "7", NPMOS: "linux", NPMCPU: "arm"},
	{Name: "linux-riscv64", GOOS: "linux", GOARCH: "riscv64", NPMOS: "linux", NPMCPU: "riscv64"},
	{Name: "linux-ppc64le", GOOS: "linux", GOARCH: "ppc64le", NPMOS: "linux", NPMCPU: "ppc64"},
	{Name: "linux-s390x", GOOS: "linux", GOARCH: "s390x", NPMOS: "linux", NPMCPU: "s390x"},
	{Name: "linux-loong64", GOOS: "linux", GOARCH: "loong64", NPMOS: "linux", NPMCPU: "loong64"},
	{Name: "freebsd-x64", GOOS: "freebsd", GOARCH: "amd64", NPMOS: "freebsd", NPMCPU: "x64"},
	{Name: "freebsd-arm64", GOOS: "freebsd", GOARCH: "arm64", NPMOS: "freebsd", NPMCPU: "arm64"},
	{Name: "openbsd-x64", GOOS: "openbsd", GOARCH: "amd64", NPMOS: "openbsd", NPMCPU: "x64"},
}

// Facts are the decided release facts every generated file is rendered from.
type Facts struct {
	Module, Main, Binary, Product string
	NPMScope, NPMPackage          string
	Repository                    string
	GitHubOwner, GitHubName       string // "" when the repository is not on GitHub
	License                       string
	Targets                       []config.Target
	StampVar                      string
	HasStampVar                   bool
	// VersionVar, when set, is the -X symbol (main.version) the build sets
	// to the release version; the binaries then carry no build stamp and
	// release.yaml declares a version_check instead.
	VersionVar                    string
	PackagerPath, PackagerVersion string
}

var (
	npmScopeRE = regexp.MustCompile(`^@[a-z0-9][a-z0-9._-]*$`)
	npmNameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	binaryRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	identRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Decide turns what Inspect read and the flags into the release facts, or
// says, for every problem at once, which flag or file fixes it.
func Decide(r *Repo, o Options) (*Facts, error) {
	var errs []error
	f := &Facts{Module: r.Module, License: r.License, PackagerPath: o.PackagerPath, PackagerVersion: o.PackagerVersion}

	main, err := chooseMain(r, o)
	if err != nil {
		return nil, err // everything else depends on it
	}
	f.Main = main

	f.Binary = o.Binary
	if f.Binary == "" {
		if main == "." {
			f.Binary = lastElement(r.Module)
		} else {
			f.Binary = path.Base(main)
		}
	}
	if !binaryRE.MatchString(f.Binary) {
		errs = append(errs, fmt.Errorf("binary name %q must be letters, digits, dots, dashes and underscores: pass --binary", f.Binary))
	}
	f.Product = o.Product
	if f.Product == "" {
		f.Product = f.Binary
	}
	if !binaryRE.MatchString(f.Product) {
		errs = append(errs, fmt.Errorf("product name %q must be letters, digits, dots, dashes and underscores: pass --product", f.Product))
	}

	f.Repository = strings.TrimSuffix(o.Repository, "/")
	if f.Repository == "" && r.Remote != "" {
		if owner, name, ok := githubRepo(r.Remote); ok {
			f.Repository = "https://github.com/" + owner + "/" + name
		}
	}
	if f.Repository == "" {
		f.Repository = moduleRepository(r.Module)
	}
	if f.Repository == "" {
		errs = append(errs, errors.New("no repository URL: there is no git remote origin and the module is not github.com/…, and the installers download from it: pass --repository https://…"))
	} else {
		if owner, name, ok := githubRepo(f.Repository); ok {
			f.GitHubOwner, f.GitHubName = owner, name
		} else if !strings.HasPrefix(f.Repository, "https://") {
			errs = append(errs, fmt.Errorf("repository %q is not an https:// URL: pass --repository https://…", f.Repository))
		}
	}

	f.NPMScope = o.NPMScope
	if f.NPMScope == "" && f.GitHubOwner != "" {
		f.NPMScope = "@" + strings.ToLower(f.GitHubOwner)
	}
	switch {
	case f.NPMScope == "":
		errs = append(errs, errors.New("no npm scope: the repository is not on GitHub, so there is no owner to default to: pass --npm-scope @yourscope"))
	case !npmScopeRE.MatchString(f.NPMScope):
		errs = append(errs, fmt.Errorf("npm scope %q must be @ then lower-case letters, digits, dots, dashes or underscores: pass --npm-scope @yourscope", f.NPMScope))
	}
	f.NPMPackage = o.NPMPackage
	if f.NPMPackage == "" {
		f.NPMPackage = strings.ToLower(f.Binary)
	}
	if !npmNameRE.MatchString(f.NPMPackage) {
		errs = append(errs, fmt.Errorf("npm package %q must be lower-case letters, digits, dots, dashes or underscores: pass --npm-package", f.NPMPackage))
	}

	if f.License == "" {
		errs = append(errs, fmt.Errorf("%s has no LICENSE file, and every release ships one: add LICENSE (or LICENSE.md, LICENSE.txt, COPYING) at the root", r.Dir))
	}

	names := o.Targets
	if len(names) == 0 {
		names = DefaultTargets
	}
	for _, n := range names {
		i := slices.IndexFunc(KnownTargets, func(t config.Target) bool { return t.Name == n })
		switch {
		case i < 0:
			errs = append(errs, fmt.Errorf("unknown target %q: pass --targets with some of %s", n, knownTargetNames()))
		case slices.ContainsFunc(f.Targets, func(t config.Target) bool { return t.Name == n }):
			errs = append(errs, fmt.Errorf("target %s is listed twice in --targets", n))
		default:
			f.Targets = append(f.Targets, KnownTargets[i])
		}
	}

	f.StampVar = o.StampVar
	if f.StampVar == "" {
		f.StampVar = DefaultStampVar
	}
	if !identRE.MatchString(f.StampVar) {
		errs = append(errs, fmt.Errorf("stamp variable %q is not a Go identifier: pass --stamp-var with a variable of package main", f.StampVar))
	}
	f.HasStampVar = slices.Contains(r.MainVars[main], f.StampVar)
	switch {
	case o.VersionVar != "":
		v, err := checkVersionVar(r, main, o.VersionVar)
		if err != nil {
			errs = append(errs, err)
		}
		f.VersionVar = v
	case !f.HasStampVar && !o.StampVarExplicit:
		// A CLI that already prints a version variable keeps doing so: the
		// build sets it, and verify and the installers ask the binary. An
		// explicit --stamp-var asks for the stamp instead: the notes say
		// to add the variable.
		for _, name := range []string{"version", "Version"} {
			if slices.Contains(r.MainVars[main], name) {
				f.VersionVar = "main." + name
				break
			}
		}
	}
	if f.PackagerVersion == "" {
		f.PackagerVersion = "latest"
	}
	return f, errors.Join(errs...)
}

var versionVarRE = regexp.MustCompile(`^(main|[A-Za-z0-9_.~/-]+)\.([A-Za-z_][A-Za-z0-9_]*)$`)

// checkVersionVar checks that --version-var names a package-level variable
// of the main package or of a package of this module, and returns it as
// -X spells it.
func checkVersionVar(r *Repo, main, v string) (string, error) {
	m := versionVarRE.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("--version-var %q is not IMPORTPATH.NAME or main.NAME (such as %s/cmd.Version)", v, r.Module)
	}
	pkg, name := m[1], m[2]
	var vars []string
	switch {
	case pkg == "main":
		vars = r.MainVars[main]
	case pkg == r.Module || strings.HasPrefix(pkg, r.Module+"/"):
		dir := filepath.Join(r.Dir, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(pkg, r.Module), "/")))
		var err error
		if vars, err = packageVars(dir); err != nil {
			return "", fmt.Errorf("--version-var %s: package %s: %w", v, pkg, err)
		}
	default:
		return "", fmt.Errorf("--version-var %s: %s is not a package of module %s, and -X can only set this module's variables here", v, pkg, r.Module)
	}
	if !slices.Contains(vars, name) {
		return "", fmt.Errorf("--version-var %s: package %s has no package-level variable %s (-X sets only a string variable declared there)", v, pkg, name)
	}
	return v, nil
}

func knownTargetNames() string {
	var names []string
	for _, t := range KnownTargets {
		names = append(names, t.Name)
	}
	return strings.Join(names, ",")
}

// chooseMain is --main, else the only main package, else cmd/<name> for
// --binary or the module's last element.
func chooseMain(r *Repo, o Options) (string, error) {
	if o.Main != "" {
		m := filepath.ToSlash(filepath.Clean(o.Main))
		if m != "." && !strings.HasPrefix(m, "./") {
			m = "./" + m
		}
		if !slices.Contains(r.Mains, m) {
			return "", fmt.Errorf("--main %s is not a main package of %s: pass one of %s", o.Main, r.Module, candidates(r.Mains))
		}
		return m, nil
	}
	switch len(r.Mains) {
	case 0:
		return "", fmt.Errorf("%s has no package main: add one (such as cmd/%s/main.go), or pass --main", r.Module, lastElement(r.Module))
	case 1:
		return r.Mains[0], nil
	}
	for _, name := range []string{o.Binary, lastElement(r.Module)} {
		if name != "" && slices.Contains(r.Mains, "./cmd/"+name) {
			return "./cmd/" + name, nil
		}
	}
	return "", fmt.Errorf("%s has %d main packages, and none is cmd/%s: pass --main with one of %s", r.Module, len(r.Mains), lastElement(r.Module), candidates(r.Mains))
}

func candidates(mains []string) string {
	if len(mains) == 0 {
		return "(none found)"
	}
	return strings.Join(mains, ", ")
}

// Action says what Run did to a file.
type Action string

const (
	Created   Action = "created"
	Updated   Action = "updated" // release.yaml with --force
	Adapted   Action = "adapted" // an existing .goreleaser.yaml, keys named
	Unchanged Action = "unchanged"
)

// FileResult is one file Run considered.
type FileResult struct {
	Path   string // relative to the repository root
	Action Action
	Detail string // for Adapted: the keys changed
}

// Result is what Run did, and what the maintainer should still do.
type Result struct {
	Facts *Facts
	Files []FileResult
	Notes []string
}

// Run inspects the repository, decides, renders and writes.
func Run(o Options) (*Result, error) {
	if o.Dir == "" {
		o.Dir = "."
	}
	r, err := Inspect(o.Dir)
	if err != nil {
		return nil, err
	}
	f, err := Decide(r, o)
	if err != nil {
		return nil, err
	}
	files, err := Render(f)
	if err != nil {
		return nil, err
	}
	if err := checkReleaseYAML(files[ReleaseConfig]); err != nil {
		return nil, err
	}
	res := &Result{Facts: f}

	// Decide every file before writing any, so a refusal writes nothing.
	type write struct {
		rel    string
		data   []byte
		action Action
		detail string
	}
	var writes []write
	var advice []string
	// A GoReleaser config of another name GoReleaser accepts
	// (.goreleaser.yml, say) is theirs to adapt, not a reason to write a
	// second one beside it.
	grConfig, _ := build.FindGoReleaserConfig(o.Dir)
	for _, name := range []string{ReleaseConfig, GoReleaserConfig, CIWorkflow, ReleaseWorkflow} {
		rel := name
		if name == GoReleaserConfig {
			rel = grConfig
		}
		want := files[name]
		full := filepath.Join(o.Dir, filepath.FromSlash(rel))
		have, err := os.ReadFile(full)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			writes = append(writes, write{rel, want, Created, ""})
			continue
		case err != nil:
			return nil, fmt.Errorf("reading %s: %w", full, err)
		case bytes.Equal(have, want):
			writes = append(writes, write{rel: rel, action: Unchanged})
			continue
		}
		switch name {
		case ReleaseConfig:
			if !o.Force {
				return nil, fmt.Errorf("%s exists and differs from what init would write: edit it by hand, or pass --force to overwrite it", full)
			}
			writes = append(writes, write{rel, want, Updated, ""})
		case GoReleaserConfig:
			adapted, keys, err := Adapt(full, have, f)
			if err != nil {
				return nil, err
			}
			for _, a := range Advise(have) {
				advice = append(advice, rel+": "+a)
			}
			if len(keys) == 0 {
				writes = append(writes, write{rel: rel, action: Unchanged, detail: "already wired for the packager"})
			} else {
				writes = append(writes, write{rel, adapted, Adapted, strings.Join(keys, ", ")})
			}
		default:
			// A workflow the project already has is its own: leave it.
			writes = append(writes, write{rel: rel, action: Unchanged, detail: "exists, left as it is"})
		}
	}
	for _, w := range writes {
		if w.data != nil {
			full := filepath.Join(o.Dir, filepath.FromSlash(w.rel))
			err := fileutil.WriteAtomic(full, func(out io.Writer) error {
				if f, ok := out.(*os.File); ok {
					if err := f.Chmod(0o644); err != nil {
						return err
					}
				}
				_, err := out.Write(w.data)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("writing %s: %w", full, err)
			}
		}
		res.Files = append(res.Files, FileResult{Path: w.rel, Action: w.action, Detail: w.detail})
	}
	res.Notes = append(notes(f), advice...)
	return res, nil
}

// checkReleaseYAML loads the release.yaml init is about to write through
// the config package, so init never writes one the packager refuses.
func checkReleaseYAML(data []byte) error {
	dir, err := os.MkdirTemp("", "packager-init-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, ReleaseConfig)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	if _, err := config.Load(p); err != nil {
		return fmt.Errorf("init rendered a release.yaml the packager refuses (a bug in packager init; please report it): %w", err)
	}
	return nil
}

func notes(f *Facts) []string {
	var n []string
	switch {
	case f.VersionVar != "":
		n = append(n, fmt.Sprintf("the build sets %s to the release version, and release.yaml's version_check says how verify and the installers ask the binary for it (`%s --version` must print it); the binaries carry no packager build stamp", f.VersionVar, f.Binary))
	case !f.HasStampVar:
		n = append(n, fmt.Sprintf("package main (%s) has no variable %s: add `var %s string` and use it (print it in --version, say), or the linker drops it, the binaries carry no build stamp, and packager verify refuses them; or run init again with --version-var naming the variable your --version prints", f.Main, f.StampVar, f.StampVar))
	}
	if f.GitHubOwner == "" {
		n = append(n, "the repository is not on GitHub: release.yaml has no signing identity for keyless signing, so sign with COSIGN_KEY, or add signing: to release.yaml")
	}
	if f.PackagerVersion == "latest" {
		n = append(n, "the workflows run the packager @latest: pin a version in their PACKAGER env (…@vX.Y.Z)")
	}
	return n
}

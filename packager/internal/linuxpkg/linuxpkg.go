// Package linuxpkg builds a .deb, an .rpm and an .apk for every linux
// target, with nfpm as a library, from the target's staged tree: the same
// binary, helpers, licences and extra files every other door ships, placed
// where each distribution expects them (layout.LinuxInstallPath). The
// binary finds its helpers at <its dir>/../libexec/<product>, so
// /usr/bin/<binary> finds /usr/libexec/<product>/.
//
// A package is a function of the tree, the version and the commit time:
// every mtime and the build time are the commit's, files are in path order,
// modes are fixed and the build host is not recorded, so the same commit
// gives the same bytes. The rpm and the apk are signed when a key is given
// (RPM_SIGN_KEY, APK_SIGN_KEY; see Keys), with signatures that depend on
// nothing else; without one they are unsigned, as a snapshot's are. The
// .deb is never signed: apt checks a repository's signed index, not the
// file.
//
// It never changes the staged tree, and never installs anything.
package linuxpkg

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/apk"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/goreleaser/nfpm/v2/rpm"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Pipe builds the Linux packages of every linux target into the release
// directory, unless doors.linux_packages is false.
type Pipe struct {
	// Keys sign the rpm and the apk; the zero value leaves them unsigned.
	Keys Keys
}

func (Pipe) String() string { return "build the Linux packages (.deb, .rpm, .apk)" }

func (p Pipe) Run(ctx *pipeline.Context) error {
	c := ctx.Config
	if !c.Doors.LinuxPackagesOn() {
		ctx.Logf("skipped: doors.linux_packages is false in release.yaml")
		return nil
	}
	v, err := layout.LinuxVersionFor(ctx.Version.String(), ctx.Version.Time)
	if err != nil {
		return err
	}
	if p.Keys.RPM == nil {
		ctx.Logf("the rpms are unsigned: %s is not set", EnvRPMKey)
	}
	if p.Keys.APK == nil {
		ctx.Logf("the apks are unsigned: %s is not set", EnvAPKKey)
	}
	for _, tree := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Tree)) {
		t, ok := c.Target(tree.Target)
		if !ok {
			return fmt.Errorf("staged tree %s is for target %q, which release.yaml does not have", tree.Path, tree.Target)
		}
		arch, ok := layout.LinuxArchFor(t)
		if !ok {
			if t.GOOS == "linux" {
				ctx.Logf("%s: no Linux package: no package manager in the table names %s", t.Name, t.GoReleaserTarget())
			}
			continue
		}
		for _, f := range layout.LinuxFormats {
			if arch.For(f) == "" {
				ctx.Logf("%s: no .%s: %s has no architecture for %s", t.Name, f, f, t.GoReleaserTarget())
				continue
			}
			pkg := Package{Config: c, Target: t, Tree: tree.Path, Format: f, Version: v, Arch: arch,
				Time: ctx.Version.Time, Commit: ctx.Version.Commit, Keys: p.Keys}
			name := layout.LinuxPackageName(c, f, v, arch)
			out := filepath.Join(ctx.Release, name)
			start := time.Now()
			if err := fileutil.WriteAtomic(out, func(w io.Writer) error { return Build(w, pkg) }); err != nil {
				return fmt.Errorf("%s: %s: %w", t.Name, name, err)
			}
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			ctx.Artifacts.Add(artifact.Artifact{Name: name, Path: out, Kind: artifact.LinuxPackage, Target: t.Name})
			ctx.Logf("%s (%.1f MB, %s%s)", name, float64(st.Size())/1e6, time.Since(start).Round(time.Millisecond), signedNote(f, p.Keys))
		}
	}
	return nil
}

func signedNote(f layout.LinuxFormat, k Keys) string {
	if (f == layout.RPM && k.RPM != nil) || (f == layout.APK && k.APK != nil) {
		return ", signed"
	}
	return ""
}

// Package is one package to build: a target's tree in one format.
type Package struct {
	Config  *config.Config
	Target  config.Target
	Tree    string // the staged tree's directory
	Format  layout.LinuxFormat
	Version layout.LinuxVersion
	Arch    layout.LinuxArch
	Time    time.Time // the commit's: every mtime, the build time, the signatures' time
	Commit  string    // the full sha, stated in the description
	Keys    Keys
}

// packagers are nfpm's, by format.
var packagers = map[layout.LinuxFormat]nfpm.Packager{layout.Deb: deb.Default, layout.RPM: rpm.DefaultRPM, layout.APK: apk.Default}

// Build writes the package p describes to w.
func Build(w io.Writer, p Package) error {
	packager, ok := packagers[p.Format]
	if !ok {
		return fmt.Errorf("no packager for format %q: give one of %v", p.Format, layout.LinuxFormats)
	}
	scratch, err := os.MkdirTemp("", "linuxpkg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	contents, err := Contents(p.Config, p.Target, p.Format, p.Tree, scratch, p.Time)
	if err != nil {
		return err
	}
	if p.Format == layout.Deb {
		debian, err := p.debianFiles(scratch)
		if err != nil {
			return err
		}
		contents = append(contents, debian...)
		sort.Sort(contents)
	}
	info, err := p.info(contents)
	if err != nil {
		return err
	}
	return packager.Package(info, w)
}

// info is nfpm's description of p. Every version field is given as the
// package manager spells it (VersionSchema none): nfpm's own parsing would
// write a snapshot's apk version as 0.0.0_snapshot.<sha>, which apk refuses.
func (p Package) info(contents files.Contents) (*nfpm.Info, error) {
	c := p.Config
	synopsis := Synopsis(c)
	info := &nfpm.Info{
		Name:          c.Product,
		Arch:          p.Arch.For(p.Format),
		Platform:      "linux",
		VersionSchema: "none",
		// A developer's command-line tool; optional, as every package
		// outside Debian's base (policy 2.5).
		Section:     "devel",
		Priority:    "optional",
		Maintainer:  Maintainer(c),
		Description: synopsis + "\n" + fmt.Sprintf("Built from %s\nat commit %s.", c.Repository, p.Commit),
		Homepage:    c.Repository,
		License:     License(c, p.Format),
		MTime:       p.Time,
		// A file name with * or [ is a file, not a pattern.
		DisableGlobbing: true,
	}
	info.Contents = contents
	switch p.Format {
	case layout.Deb:
		info.Version = p.Version.Deb
		info.Deb.Arch = info.Arch
		// xz: an eighth smaller than gzip -9 on a Go binary, and read
		// by every dpkg (1.15.6, 2010) and rpm (4.7, 2009) still in use.
		info.Deb.Compression = "xz"
	case layout.RPM:
		info.Version, info.Release = p.Version.RPM, p.Version.RPMRelease
		info.RPM.Arch = info.Arch
		info.RPM.Compression = "xz"
		info.RPM.Summary = synopsis
		// Not os.Hostname(): the same commit gives the same bytes anywhere.
		info.RPM.BuildHost = "reproducible"
		if p.Keys.RPM != nil {
			info.RPM.Signature.SignFn = p.Keys.rpmSigner(p.Time)
		}
	case layout.APK:
		version, release, ok := strings.Cut(p.Version.APK, "-r")
		if !ok {
			return nil, fmt.Errorf("apk version %q has no -r<release>", p.Version.APK)
		}
		info.Version, info.Release = version, release
		info.Description = synopsis // pkgdesc is one line
		info.APK.Arch = info.Arch
		if p.Keys.APK != nil {
			info.APK.Signature.SignFn = p.Keys.apkSigner()
			info.APK.Signature.KeyName = p.Keys.APKName
		}
	}
	return info, nil
}

// Maintainer is the packages' Maintainer (deb, apk) and Packager (rpm):
// release.yaml's maintainer, else the product at GitHub's no-reply host, a
// placeholder dpkg and lintian accept that reaches no one: set maintainer
// in release.yaml for a real address.
func Maintainer(c *config.Config) string {
	if c.Maintainer != "" {
		return c.Maintainer
	}
	return fmt.Sprintf("%s maintainers <%s@users.noreply.github.com>", c.Product, c.Product)
}

// Synopsis is the packages' one-line summary: npm.description without the
// product's name and an article at its start ("tern, a coding agent …" →
// "coding agent …"), as Debian's policy (3.4.1) and lintian want it.
func Synopsis(c *config.Config) string {
	s := c.NPM.Description
	for _, sep := range []string{", ", " - ", ": ", " is ", " "} {
		if rest, ok := strings.CutPrefix(s, c.Product+sep); ok {
			s = rest
			break
		}
	}
	for _, article := range []string{"a ", "an ", "the ", "A ", "An ", "The "} {
		s = strings.TrimPrefix(s, article)
	}
	return s
}

// License is the License field of rpm and apk (deb has none: its
// copyright file is the licence): npm.license, an SPDX expression, unless
// it is the default "SEE LICENSE IN …", which rpm and apk would show as a
// licence's name; then the installed licence file's path.
func License(c *config.Config, f layout.LinuxFormat) string {
	if !strings.HasPrefix(c.NPM.License, "SEE LICENSE IN") {
		return c.NPM.License
	}
	return "see " + layout.LinuxInstallPath(c, f, layout.License)
}

// Contents are the files of t's package in format f, from the staged tree
// at tree: every file layout.Tree lists, at layout.LinuxInstallPath, with
// fixed owners, modes and mtimes. Man pages are gzipped into scratch, with
// no name nor time in the gzip header. The directories named after the
// product and those below them (/usr/libexec/<product>,
// /usr/share/<product>/doc) are the package's own, so removing it removes
// them; rpm would otherwise leave them behind.
func Contents(c *config.Config, t config.Target, f layout.LinuxFormat, tree, scratch string, mtime time.Time) (files.Contents, error) {
	var out files.Contents
	owned := map[string]bool{}
	for _, rel := range layout.Tree(c, t, t.Helpers) {
		src := filepath.Join(tree, filepath.FromSlash(rel))
		st, err := os.Stat(src)
		if err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("the staged tree %s has no file %s: stage the target again (packager stage)", tree, rel)
		}
		mode := os.FileMode(0o644)
		if st.Mode()&0o111 != 0 || rel == layout.BinaryPath(c, t) || strings.HasPrefix(rel, c.HelperDir()+"/") {
			mode = 0o755
		}
		if layout.IsManPage(rel) {
			if src, err = gzipInto(scratch, src); err != nil {
				return nil, fmt.Errorf("gzipping the man page %s: %w", rel, err)
			}
		}
		dst := layout.LinuxInstallPath(c, f, rel)
		typ := files.TypeFile
		if f == layout.RPM && rel == layout.License {
			typ = files.TypeRPMLicense // rpm -qL lists it; --nodocs keeps it
		}
		out = append(out, &files.Content{Source: src, Destination: dst, Type: typ,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode, MTime: mtime}})
		for dir := path.Dir(dst); dir != "/"; dir = path.Dir(dir) {
			if slices.Contains(strings.Split(dir, "/"), c.Product) {
				owned[dir] = true
			}
		}
	}
	for dir := range owned {
		out = append(out, &files.Content{Destination: dir, Type: files.TypeDir,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o755, MTime: mtime}})
	}
	// nfpm sorts by destination too; sorting here keeps Contents' own
	// answer stable for callers and tests, whatever the map's order.
	sort.Sort(out)
	return out, nil
}

// gzipInto writes src gzipped at best compression into dir, as gzip -9n
// does (no file name, no time), and returns the new file's path.
func gzipInto(dir, src string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, "*.gz")
	if err != nil {
		return "", err
	}
	defer out.Close()
	zw, err := gzip.NewWriterLevel(out, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(zw, in); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return out.Name(), out.Close()
}

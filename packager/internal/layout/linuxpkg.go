package layout

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/tern-agent/tern/packager/internal/config"
)

// LinuxFormat is a Linux package format, and its file extension.
type LinuxFormat string

const (
	Deb LinuxFormat = "deb" // Debian, Ubuntu: dpkg, apt
	RPM LinuxFormat = "rpm" // Fedora, RHEL, openSUSE: rpm, dnf, zypper
	APK LinuxFormat = "apk" // Alpine: apk
)

// LinuxFormats are the formats every linux target is packaged in, in the
// order the release lists them.
var LinuxFormats = []LinuxFormat{Deb, RPM, APK}

// LinuxArch is a target's architecture as each package manager names it;
// "" where that package manager has no name for it (Alpine has no ARMv5).
type LinuxArch struct{ Deb, RPM, APK string }

// For is the name f gives the architecture.
func (a LinuxArch) For(f LinuxFormat) string {
	switch f {
	case Deb:
		return a.Deb
	case RPM:
		return a.RPM
	case APK:
		return a.APK
	}
	return ""
}

// linuxArches is the one table from Go's names (GOARCH, and GOARM for arm)
// to the package managers'. A Go binary is static and calls no C, so only
// the instruction set matters, not the float ABI: GOARM 5 and 6 go to
// Debian's armel (ARMv5T and up; its armhf needs ARMv7) and GOARM 7 to
// armhf. Raspberry Pi OS's armhf is ARMv6, so a Pi Zero there needs the
// armel package (dpkg --add-architecture armel). Alpine's armhf is ARMv6
// hard-float and its armv7 ARMv7; it has no ARMv5. RPM's i686 is what Go's
// 386 (SSE2 by default) needs.
var linuxArches = map[string]LinuxArch{
	"amd64":   {"amd64", "x86_64", "x86_64"},
	"arm64":   {"arm64", "aarch64", "aarch64"},
	"arm/7":   {"armhf", "armv7hl", "armv7"},
	"arm/6":   {"armel", "armv6hl", "armhf"},
	"arm/5":   {"armel", "armv5tel", ""},
	"386":     {"i386", "i686", "x86"},
	"riscv64": {"riscv64", "riscv64", "riscv64"},
	"ppc64le": {"ppc64el", "ppc64le", "ppc64le"},
	"s390x":   {"s390x", "s390x", "s390x"},
	"loong64": {"loong64", "loongarch64", "loongarch64"},
}

// LinuxArchFor is t's architecture in each package manager, and false for
// a target that is not linux or whose architecture none of them names
// (mips, ppc64 big-endian): it gets no Linux package.
func LinuxArchFor(t config.Target) (LinuxArch, bool) {
	if t.GOOS != "linux" {
		return LinuxArch{}, false
	}
	key := t.GOARCH
	if t.GOARCH == "arm" {
		key += "/" + t.GOARM
	}
	a, ok := linuxArches[key]
	return a, ok
}

// LinuxVersion is a release's version as each package manager spells it.
// Each must sort a prerelease before its release, and accept the
// characters: dpkg takes 1.3.0~beta.2 (~ sorts first), rpm forbids '-' in
// Version and takes the same ~ (rpm 4.10 and later) with Release 1, and apk
// takes only digits, a letter, _alpha/_beta/_pre/_rc/_git/_p suffixes with
// digits, and -r<n> (1.3.0_beta2-r0).
type LinuxVersion struct {
	Deb        string // 1.3.0~beta.2, 0.0.0~snapshot.0123abcd4567
	RPM        string // Version: the same as Deb, '-' as '_'
	RPMRelease string // Release: 1
	APK        string // pkgver with its release: 1.3.0_beta2-r0, 0.0.0_git20261123_p145754-r0
}

// apkPrerelease is a prerelease apk can spell: alpha, beta, pre or rc, with
// an optional number, as rc.1 or rc1.
var apkPrerelease = regexp.MustCompile(`^(alpha|beta|pre|rc)\.?([0-9]*)$`)

// LinuxVersionFor spells version (1.2.3, 1.3.0-beta.2, a snapshot's
// 0.0.0-snapshot.<sha>; no leading v) for each package manager. commit is
// the commit's time: a snapshot's apk version is its date and time
// (0.0.0_git20261123_p145754), as apk has no spelling for the sha. Build
// metadata (+build.5) stays in deb and rpm and is dropped from apk, which
// has none; semver does not order by it either. A prerelease apk cannot
// spell (1.3.0-dev.3) is an error that says which it can.
func LinuxVersionFor(version string, commit time.Time) (LinuxVersion, error) {
	v, err := semver.StrictNewVersion(version)
	if err != nil {
		return LinuxVersion{}, fmt.Errorf("version %q is not a semantic version: %w", version, err)
	}
	core := fmt.Sprintf("%d.%d.%d", v.Major(), v.Minor(), v.Patch())
	deb, pre, meta := core, v.Prerelease(), v.Metadata()
	if pre != "" {
		// A '-' of a semver prerelease would read as dpkg's revision.
		deb += "~" + strings.ReplaceAll(pre, "-", ".")
	}
	if meta != "" {
		deb += "+" + strings.ReplaceAll(meta, "-", ".")
	}
	apk := core
	switch m := apkPrerelease.FindStringSubmatch(pre); {
	case pre == "":
	case strings.HasPrefix(version, "0.0.0-snapshot."):
		// Two suffixes, as one number of 14 digits overflows older apk's int.
		t := commit.UTC()
		apk += fmt.Sprintf("_git%s_p%d", t.Format("20060102"), t.Hour()*10000+t.Minute()*100+t.Second())
	case m != nil:
		apk += "_" + m[1] + m[2]
	default:
		return LinuxVersion{}, fmt.Errorf("version %s: apk cannot spell the prerelease %q: tag alpha, beta, pre or rc with an optional number (v1.3.0-rc.1), or set doors: {linux_packages: false} in release.yaml", version, pre)
	}
	return LinuxVersion{Deb: deb, RPM: strings.ReplaceAll(deb, "-", "_"), RPMRelease: "1", APK: apk + "-r0"}, nil
}

// LinuxPackageName is the file name of a target's package, by each
// ecosystem's convention with the architecture in it, as one release
// directory holds every target's: tern_1.2.3_amd64.deb (dpkg-name),
// tern-1.2.3-1.x86_64.rpm (name-version-release.arch), tern-1.2.3-r0.x86_64.apk
// (abuild's name-pkgver-r<rel>.apk, with the arch that Alpine's
// repositories put in the directory). GitHub renames a release asset whose
// name holds another character than letters, digits, '.', '-' and '_' (~
// and + become .), which would break every URL and index that names it, so
// the file name spells a prerelease's ~ as - and metadata's + as .
// (tern_1.3.0-rc.1_amd64.deb); the Version inside keeps them.
func LinuxPackageName(c *config.Config, f LinuxFormat, v LinuxVersion, a LinuxArch) string {
	switch f {
	case Deb:
		return fmt.Sprintf("%s_%s_%s.deb", c.Product, fileSafe.Replace(v.Deb), a.Deb)
	case RPM:
		return fmt.Sprintf("%s-%s-%s.%s.rpm", c.Product, fileSafe.Replace(v.RPM), v.RPMRelease, a.RPM)
	case APK:
		return fmt.Sprintf("%s-%s.%s.apk", c.Product, fileSafe.Replace(v.APK), a.APK)
	}
	return ""
}

// fileSafe spells a version with the characters GitHub keeps in an asset's
// name.
var fileSafe = strings.NewReplacer("~", "-", "+", ".")

// LinuxInstallPath is where a file of a staged tree (a slash path relative
// to the tree, as Tree lists them) is installed by a package of format f,
// as an absolute slash path:
//
//	bin/<binary>                  /usr/bin/<binary>
//	libexec/<product>/<helper>    /usr/libexec/<product>/<helper>
//	LICENSE                       deb: /usr/share/doc/<product>/LICENSE
//	                              rpm, apk: /usr/share/licenses/<product>/LICENSE
//	THIRD_PARTY_NOTICES.md        /usr/share/doc/<product>/THIRD_PARTY_NOTICES.md
//	share/<path>                  /usr/share/<path>: man pages, completions
//	                              (share/man/… gzipped, with .gz added)
//	<any other extra file>        /usr/share/<product>/<path>
//
// The binary finds its helpers as in every tree, at <its dir>/../libexec/
// <product>, so /usr/bin/<binary> finds /usr/libexec/<product>. Fedora and
// Alpine keep licences in /usr/share/licenses/<name>; Debian in
// /usr/share/doc/<name>, beside the copyright file the .deb adds (see
// linuxpkg), which points at /usr/share/common-licenses for a licence
// Debian ships. Man pages are gzipped as every distribution's own build
// does (dh_compress, brp-compress, abuild).
func LinuxInstallPath(c *config.Config, f LinuxFormat, rel string) string {
	switch {
	case rel == License && f == Deb:
		return path.Join("/usr/share/doc", c.Product, License)
	case rel == License:
		return path.Join("/usr/share/licenses", c.Product, License)
	case rel == Notices:
		return path.Join("/usr/share/doc", c.Product, Notices)
	case strings.HasPrefix(rel, "bin/"):
		return path.Join("/usr", rel)
	case strings.HasPrefix(rel, c.HelperDir()+"/"):
		return path.Join("/usr", rel)
	case IsManPage(rel):
		return path.Join("/usr", rel) + ".gz"
	case strings.HasPrefix(rel, "share/"):
		return path.Join("/usr", rel)
	}
	return path.Join("/usr/share", c.Product, rel)
}

// IsManPage reports whether an extra file's dst is a man page the Linux
// packages install gzipped: under share/man/, not already .gz.
func IsManPage(rel string) bool {
	return strings.HasPrefix(rel, "share/man/") && !strings.HasSuffix(rel, ".gz")
}

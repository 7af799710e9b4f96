package layout

import (
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/config"
)

func TestLinuxVersionFor(t *testing.T) {
	commit := time.Date(2026, 11, 23, 9, 5, 4, 0, time.UTC)
	for _, c := range []struct {
		in                 string
		deb, rpm, apk, err string
	}{
		{in: "1.2.3", deb: "1.2.3", rpm: "1.2.3", apk: "1.2.3-r0"},
		{in: "1.3.0-beta.2", deb: "1.3.0~beta.2", rpm: "1.3.0~beta.2", apk: "1.3.0_beta2-r0"},
		{in: "1.3.0-rc.1", deb: "1.3.0~rc.1", rpm: "1.3.0~rc.1", apk: "1.3.0_rc1-r0"},
		{in: "2.0.0-alpha", deb: "2.0.0~alpha", rpm: "2.0.0~alpha", apk: "2.0.0_alpha-r0"},
		{in: "0.0.0-snapshot.0123abcd4567", deb: "0.0.0~snapshot.0123abcd4567", rpm: "0.0.0~snapshot.0123abcd4567", apk: "0.0.0_git20261123_p90504-r0"},
		{in: "1.2.3-rc-1", err: `apk cannot spell the prerelease "rc-1"`},
		{in: "1.2.3+build.5", deb: "1.2.3+build.5", rpm: "1.2.3+build.5", apk: "1.2.3-r0"},
		{in: "1.2.3-dev.3", err: `apk cannot spell the prerelease "dev.3": tag alpha, beta, pre or rc`},
		{in: "v1.2.3", err: "is not a semantic version"},
	} {
		got, err := LinuxVersionFor(c.in, commit)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got.Deb != c.deb || got.RPM != c.rpm || got.RPMRelease != "1" || got.APK != c.apk {
			t.Errorf("%s: %+v, want deb %s, rpm %s-1, apk %s", c.in, got, c.deb, c.rpm, c.apk)
		}
	}
}

func TestLinuxArchFor(t *testing.T) {
	for _, c := range []struct {
		goos, goarch, goarm string
		want                LinuxArch
		ok                  bool
	}{
		{"linux", "amd64", "", LinuxArch{"amd64", "x86_64", "x86_64"}, true},
		{"linux", "arm64", "", LinuxArch{"arm64", "aarch64", "aarch64"}, true},
		{"linux", "arm", "7", LinuxArch{"armhf", "armv7hl", "armv7"}, true},
		{"linux", "arm", "6", LinuxArch{"armel", "armv6hl", "armhf"}, true},
		{"linux", "arm", "5", LinuxArch{"armel", "armv5tel", ""}, true},
		{"linux", "386", "", LinuxArch{"i386", "i686", "x86"}, true},
		{"linux", "riscv64", "", LinuxArch{"riscv64", "riscv64", "riscv64"}, true},
		{"linux", "ppc64le", "", LinuxArch{"ppc64el", "ppc64le", "ppc64le"}, true},
		{"linux", "s390x", "", LinuxArch{"s390x", "s390x", "s390x"}, true},
		{"linux", "loong64", "", LinuxArch{"loong64", "loongarch64", "loongarch64"}, true},
		{"linux", "mips", "", LinuxArch{}, false},
		{"darwin", "arm64", "", LinuxArch{}, false},
	} {
		got, ok := LinuxArchFor(config.Target{GOOS: c.goos, GOARCH: c.goarch, GOARM: c.goarm})
		if got != c.want || ok != c.ok {
			t.Errorf("%s/%s%s: %+v %v, want %+v %v", c.goos, c.goarch, c.goarm, got, ok, c.want, c.ok)
		}
	}
}

func TestLinuxPackageNameAndInstallPath(t *testing.T) {
	c := &config.Config{Product: "tern", Binary: "tern"}
	v, err := LinuxVersionFor("1.3.0-rc.1", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	a := LinuxArch{"arm64", "aarch64", "aarch64"}
	for f, want := range map[LinuxFormat]string{
		Deb: "tern_1.3.0-rc.1_arm64.deb", RPM: "tern-1.3.0-rc.1-1.aarch64.rpm", APK: "tern-1.3.0_rc1-r0.aarch64.apk",
	} {
		if got := LinuxPackageName(c, f, v, a); got != want {
			t.Errorf("%s: %s, want %s", f, got, want)
		}
	}
	meta, err := LinuxVersionFor("1.2.3+build.5", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if got := LinuxPackageName(c, Deb, meta, a); got != "tern_1.2.3.build.5_arm64.deb" {
		t.Errorf("metadata's + in a file name: %s", got)
	}
	for _, tc := range []struct {
		f         LinuxFormat
		rel, want string
	}{
		{Deb, "bin/tern", "/usr/bin/tern"},
		{RPM, "libexec/tern/bwrap", "/usr/libexec/tern/bwrap"},
		{Deb, "LICENSE", "/usr/share/doc/tern/LICENSE"},
		{RPM, "LICENSE", "/usr/share/licenses/tern/LICENSE"},
		{APK, "LICENSE", "/usr/share/licenses/tern/LICENSE"},
		{APK, "THIRD_PARTY_NOTICES.md", "/usr/share/doc/tern/THIRD_PARTY_NOTICES.md"},
		{Deb, "share/man/man1/tern.1", "/usr/share/man/man1/tern.1.gz"},
		{Deb, "share/man/man1/tern.1.gz", "/usr/share/man/man1/tern.1.gz"},
		{RPM, "share/bash-completion/completions/tern", "/usr/share/bash-completion/completions/tern"},
		{APK, "README.md", "/usr/share/tern/README.md"},
		{Deb, "doc/guide.md", "/usr/share/tern/doc/guide.md"},
	} {
		if got := LinuxInstallPath(c, tc.f, tc.rel); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.f, tc.rel, got, tc.want)
		}
	}
}

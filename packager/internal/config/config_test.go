package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// repoConfig is the real release.yaml at the repository root.
func repoConfig(t *testing.T) *Config {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	c, err := Load(filepath.Join(filepath.Dir(file), "..", "..", "..", "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRepoConfigNamesAllSixTargets(t *testing.T) {
	c := repoConfig(t)
	want := map[string]string{
		"linux-x64": "@tern-agent/cli-linux-x64", "linux-arm64": "@tern-agent/cli-linux-arm64",
		"darwin-x64": "@tern-agent/cli-darwin-x64", "darwin-arm64": "@tern-agent/cli-darwin-arm64",
		"windows-x64": "@tern-agent/cli-win32-x64", "windows-arm64": "@tern-agent/cli-win32-arm64",
	}
	if len(c.Targets) != len(want) {
		t.Fatalf("%d targets, want %d", len(c.Targets), len(want))
	}
	for _, tg := range c.Targets {
		if got := c.NPMPlatformPackage(tg); got != want[tg.Name] {
			t.Errorf("%s: npm package %q, want %q", tg.Name, got, want[tg.Name])
		}
		if back, ok := c.TargetFor(tg.GOOS, tg.GOARCH, tg.GOARM); !ok || back.Name != tg.Name {
			t.Errorf("TargetFor(%s, %s) = %v", tg.GOOS, tg.GOARCH, back.Name)
		}
	}
	win, _ := c.Target("windows-x64")
	if c.BinaryName(win) != "tern.exe" {
		t.Errorf("windows binary name = %q", c.BinaryName(win))
	}
}

func TestLoadRejectsBadConfigs(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "product: x\nprodcut: y\n", "field prodcut not found"},
		{"missing fields", "product: x\n", "binary is required"},
		{"duplicate target", "product: x\nbinary: x\nlicense_file: L\nnpm: {scope: '@s', package: p}\ntargets:\n - {name: a, goos: linux, goarch: amd64, npm_os: linux, npm_cpu: x64}\n - {name: a, goos: linux, goarch: arm64, npm_os: linux, npm_cpu: arm64}\n", "target a is listed twice"},
		{"bad name", "product: x\nbinary: x\nlicense_file: L\nnpm: {scope: '@s', package: p}\ntargets:\n - {name: Linux_X64, goos: linux, goarch: amd64, npm_os: linux, npm_cpu: x64}\n", "must be lower-case"},
		{"arm without goarm", "product: x\nbinary: x\nlicense_file: L\nnpm: {scope: '@s', package: p}\ntargets:\n - {name: linux-armv7, goos: linux, goarch: arm, npm_os: linux, npm_cpu: arm}\n", "goarch arm needs goarm 5, 6 or 7"},
		{"goarm without arm", "product: x\nbinary: x\nlicense_file: L\nnpm: {scope: '@s', package: p}\ntargets:\n - {name: linux-x64, goos: linux, goarch: amd64, goarm: '7', npm_os: linux, npm_cpu: x64}\n", "goarm applies only to goarch arm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "release.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v, want it to name %s and say %q", err, p, tc.want)
			}
		})
	}
}

// An ARM target is told apart by its GOARM, in GoReleaser's artifacts and
// its targets syntax alike.
func TestARMTargets(t *testing.T) {
	c := &Config{Targets: []Target{
		{Name: "linux-armv6", GOOS: "linux", GOARCH: "arm", GOARM: "6"},
		{Name: "linux-armv7", GOOS: "linux", GOARCH: "arm", GOARM: "7"},
	}}
	if got, ok := c.TargetFor("linux", "arm", "7"); !ok || got.Name != "linux-armv7" {
		t.Errorf("TargetFor(linux, arm, 7) = %v, %v", got.Name, ok)
	}
	if _, ok := c.TargetFor("linux", "arm", "5"); ok {
		t.Error("an ARMv5 build matched a target")
	}
	if got := c.Targets[0].GoReleaserTarget(); got != "linux_arm_6" {
		t.Errorf("GoReleaserTarget = %q", got)
	}
}

// The version rule verify and the installers share: the expected text, not
// followed by anything that would make it a longer version.
func TestVersionRuleReports(t *testing.T) {
	rule := VersionCheck{Args: []string{"--version"}, Contains: "version v{{.Version}}"}
	for _, tc := range []struct {
		out  string
		want bool
	}{
		{"yq (https://github.com/mikefarah/yq/) version v1.2.3\n", true},
		{"version v1.2.3", true},
		{"version v1.2.3)", true},
		{"version v1.2.30", false},
		{"version v1.2.3-rc.1", false},
		{"version v1.2.3+meta", false},
		{"version 1.2.3", false},
		{"", false},
	} {
		if got := rule.Reports(tc.out, "1.2.3"); got != tc.want {
			t.Errorf("Reports(%q) = %v, want %v", tc.out, got, tc.want)
		}
	}
	if got := DefaultVersionCheck.Reports("tern 1.2.3 (commit abc)", "1.2.3"); !got {
		t.Error("the default rule refuses tern's own --version line")
	}
	// Any occurrence states it, not only the first.
	for _, out := range []string{"update notice 1.2.30 is out\nacme 1.2.3", "1.2.3-rc.1 → 1.2.3", "1.2.3.1.2.3"} {
		if !DefaultVersionCheck.Reports(out, "1.2.3") {
			t.Errorf("Reports(%q) = false: a later occurrence states 1.2.3", out)
		}
	}
	for _, out := range []string{"update notice 1.2.30 ... acme 1.2.31", "1.2.3-rc.1 1.2.3.4"} {
		if DefaultVersionCheck.Reports(out, "1.2.3") {
			t.Errorf("Reports(%q) = true", out)
		}
	}
}

func TestLoadRejectsBadDoorsFilesAndVersionChecks(t *testing.T) {
	const head = "product: x\nbinary: x\nlicense_file: L\n"
	const npm = "npm: {scope: '@s', package: p}\n"
	const x64 = "targets:\n - {name: linux-x64, goos: linux, goarch: amd64, npm_os: linux, npm_cpu: x64}\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"npm names half given", head + npm + "targets:\n - {name: linux-x64, goos: linux, goarch: amd64, npm_os: linux}\n", "give npm_os and npm_cpu together"},
		{"two arm targets on one npm cpu", head + npm + "targets:\n - {name: linux-armv6, goos: linux, goarch: arm, goarm: '6', npm_os: linux, npm_cpu: arm}\n - {name: linux-armv7, goos: linux, goarch: arm, goarm: '7', npm_os: linux, npm_cpu: arm}\n", "leave npm_os and npm_cpu empty on one of them"},
		{"npm on, no npm target", head + npm + "targets:\n - {name: linux-x64, goos: linux, goarch: amd64}\n", "set doors: {npm: false}"},
		{"npm on, no scope", head + x64, "npm.scope is required"},
		{"extra file escaping the tree", head + npm + x64 + "files:\n - {src: L, dst: ../etc/passwd}\n", "must be a clean relative path"},
		{"extra file over the binary", head + npm + x64 + "files:\n - {src: L, dst: bin/x}\n", "inside bin, which the packager writes"},
		{"extra file missing", head + npm + x64 + "files:\n - {src: nowhere.md, dst: README.md}\n", "files[0].src: nowhere.md is not a file"},
		{"version check without the version", head + npm + x64 + "version_check: {args: [--version], contains: 'x 1.0'}\n", "must hold {{.Version}}"},
		{"version check with a quote", head + npm + x64 + "version_check: {args: [\"--it's\"], contains: '{{.Version}}'}\n", "which the installers cannot quote"},
		{"extra file from outside", head + npm + x64 + "files:\n - {src: /etc/passwd, dst: doc/p}\n", `files[0].src "/etc/passwd" must be a path inside `},
		{"extra file from above", head + npm + x64 + "files:\n - {src: ../../x, dst: doc/x}\n", `files[0].src "../../x" must be a path inside `},
		{"extra file from /proc", head + npm + x64 + "files:\n - {src: /proc/self/environ, dst: doc/env}\n", `files[0].src "/proc/self/environ" must be a path inside `},
		{"template from outside", head + npm + x64 + "templates: {install_sh: /etc/passwd}\n", `templates.install_sh "/etc/passwd" must be a path inside `},
		{"extra file as the tree", head + npm + x64 + "files:\n - {src: L, dst: .}\n", `dst "." must be a clean relative path`},
		{"extra file over the licence, in lower case", head + npm + x64 + "files:\n - {src: L, dst: license}\n", `dst "license" is inside LICENSE`},
		{"extra file in Bin", head + npm + x64 + "files:\n - {src: L, dst: Bin/x}\n", `dst "Bin/x" is inside bin`},
		{"extra file over the npm package.json", head + npm + x64 + "files:\n - {src: L, dst: package.json}\n", `dst "package.json" is the npm platform package's package.json`},
		{"extra files apart only by case", head + npm + x64 + "files:\n - {src: L, dst: doc/A}\n - {src: L, dst: doc/a}\n", `dst "doc/a" is given twice (as "doc/A"`},
		{"product with a quote", "product: \"ac'me\"\nbinary: x\nlicense_file: L\n" + npm + x64, `product "ac'me" holds '\'', which the installers cannot quote`},
		{"binary with a backslash", "product: x\nbinary: 'x\\y'\nlicense_file: L\n" + npm + x64, `binary "x\\y" holds '\\', which the installers cannot quote`},
		{"npm package with a typographic quote", head + "npm: {scope: '@s', package: 'p\u2019'}\n" + x64, "npm.package \"p\u2019\" holds '\u2019'"},
		{"oidc issuer with a dollar", head + npm + x64 + "signing: {certificate_oidc_issuer: 'https://x/$y'}\n", `signing.certificate_oidc_issuer "https://x/$y" holds '$'`},
		{"version check with a typographic quote", head + npm + x64 + "version_check: {args: [--version], contains: '\u2018{{.Version}}'}\n", "version_check.contains \"\u2018{{.Version}}\" holds '\u2018', which the installers cannot quote"},
		{"helpers without the stamp", head + npm + "targets:\n - {name: linux-x64, goos: linux, goarch: amd64, npm_os: linux, npm_cpu: x64, helpers: [bwrap]}\nversion_check: {args: [--version], contains: '{{.Version}}'}\n", "helpers need the packager's build stamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "release.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// A release with npm off needs no npm names, and its extra files are read
// against release.yaml's directory.
func TestLoadDoorsOffAndFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "release.yaml")
	yaml := "product: x\nbinary: x\nlicense_file: L\ndoors: {npm: false, image: false}\n" +
		"targets:\n - {name: linux-armv7, goos: linux, goarch: arm, goarm: '7'}\n" +
		"files:\n - {src: README.md, dst: doc/README.md}\n"
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Doors.NPMOn() || c.Doors.ImageOn() || !c.Doors.InstallersOn() || !c.UsesStamp() {
		t.Errorf("doors = %+v, stamp %v", c.Doors, c.UsesStamp())
	}
	if got := c.SourcePath("README.md"); got != filepath.Join(dir, "README.md") {
		t.Errorf("SourcePath = %s", got)
	}
}

// ReadSource reads only inside release.yaml's directory: not by an
// absolute path, nor .., nor through a link that leads out; and Load
// refuses such a files: or templates: entry, naming it.
func TestReadSourceStaysInside(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(outside, "repo")
	if err := os.MkdirAll(filepath.Join(dir, "doc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"doc/ok.md": "ok", "L": "licence"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(secret, filepath.Join(dir, "doc", "leak.md")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	for link, to := range map[string]string{"up.md": "../../secret", "inside.md": "ok.md"} {
		if err := os.Symlink(to, filepath.Join(dir, "doc", link)); err != nil {
			t.Fatal(err)
		}
	}
	const head = "product: x\nbinary: x\nlicense_file: L\ndoors: {npm: false}\ntargets:\n - {name: linux-x64, goos: linux, goarch: amd64}\n"
	p := filepath.Join(dir, "release.yaml")
	for _, tc := range []struct{ extra, want string }{
		{"files:\n - {src: doc/leak.md, dst: doc/a}\n", "files[0].src: doc/leak.md is not a file in release.yaml's directory"},
		{"files:\n - {src: doc/up.md, dst: doc/a}\n", "files[0].src: doc/up.md is not a file in release.yaml's directory"},
		{"templates: {npm_readme: doc/leak.md}\n", "templates.npm_readme: doc/leak.md is not a file in release.yaml's directory"},
		{"files:\n - {src: " + secret + ", dst: doc/a}\n", `files[0].src "` + secret + `" must be a path inside ` + dir},
	} {
		if err := os.WriteFile(p, []byte(head+tc.extra), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.extra, err, tc.want)
		}
	}
	if err := os.WriteFile(p, []byte(head+"files:\n - {src: doc/inside.md, dst: doc/a}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReadSource("doc/inside.md"); err != nil || string(got) != "ok" {
		t.Errorf("ReadSource through a link inside = %q, %v", got, err)
	}
	for _, rel := range []string{"doc/leak.md", "doc/up.md", "../secret", secret} {
		if got, err := c.ReadSource(rel); err == nil {
			t.Errorf("ReadSource(%q) read %q from outside %s", rel, got, dir)
		}
	}
}

// Unquotable finds what would end or escape a quote in the installers or
// the npm launcher; a regexp keeps its backslashes.
func TestUnquotable(t *testing.T) {
	for s, want := range map[string]rune{
		"tern": 0, "it's": '\'', `a"b`: '"', "a`b": '`', "$x": '$', `a\b`: '\\', "a\nb": '\n', "a\rb": '\r',
		"\u2018a": '\u2018', "a\u2019": '\u2019', "\u201a": '\u201a', "\u201b": '\u201b', "\u201c": 0, "é": 0,
	} {
		if r, bad := Unquotable(s, false); r != want || bad != (want != 0) {
			t.Errorf("Unquotable(%q) = %q, %v; want %q", s, r, bad, want)
		}
	}
	if r, bad := Unquotable(`^https://github\.com/x/y@refs/tags/v`, true); bad {
		t.Errorf("a regexp's backslash refused: %q", r)
	}
	if r, bad := Unquotable(`^a\.b'`, true); !bad || r != '\'' {
		t.Errorf("a regexp's quote not refused: %q, %v", r, bad)
	}
}

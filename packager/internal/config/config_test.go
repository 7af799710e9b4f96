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

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

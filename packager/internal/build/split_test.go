package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
)

// A split build hands GoReleaser the same config with the target matrix
// replaced, and nothing else changed: flags and ldflags decide the bytes.
func TestLimitConfigKeepsEverythingButTheMatrix(t *testing.T) {
	ctx := testContext(t)
	os.MkdirAll(ctx.Dist, 0o755)
	writeTestFile(t, filepath.Join(ctx.Root, GoReleaserConfig), `version: 2
dist: dist/build
builds:
  - id: tern
    ldflags: ["-s -w -X 'main.stamp={{ .Env.RELEASE_VERSION }}'"]
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64]
`)
	ctx.Config.Targets = ctx.Config.Targets[1:] // darwin-arm64 only
	p, err := limitConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	var got struct {
		Dist   string `yaml:"dist"`
		Builds []struct {
			Ldflags []string `yaml:"ldflags"`
			Targets []string `yaml:"targets"`
			GOOS    []string `yaml:"goos"`
		} `yaml:"builds"`
	}
	if err := yaml.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	b := got.Builds[0]
	if got.Dist != "dist/build" || len(b.GOOS) != 0 || strings.Join(b.Targets, ",") != "darwin_arm64" ||
		b.Ldflags[0] != "-s -w -X 'main.stamp={{ .Env.RELEASE_VERSION }}'" {
		t.Fatalf("limited config:\n%s", raw)
	}
}

// A reused full build registers only the targets asked for, and still
// refuses a binary for a target release.yaml does not have.
func TestRegisterLeavesOutOtherMachinesTargets(t *testing.T) {
	ctx := testContext(t)
	all := ctx.Config.Targets
	ctx.Config.Targets = all[:1]
	var entries []string
	for _, tg := range append(all, config.Target{GOOS: "plan9", GOARCH: "amd64"}) {
		p := filepath.Join(ctx.BuildDir(), tg.GOOS, "tern")
		writeTestFile(t, p, "bin")
		entries = append(entries, `{"name":"tern","path":"`+filepath.ToSlash(p)+`","goos":"`+tg.GOOS+`","goarch":"`+tg.GOARCH+`","type":"Binary"}`)
	}
	writeTestFile(t, filepath.Join(ctx.BuildDir(), "artifacts.json"), "["+strings.Join(entries[:2], ",")+"]")
	if err := register(ctx, all); err != nil {
		t.Fatal(err)
	}
	if got := ctx.Artifacts.Filter(artifact.ByKind(artifact.Binary)); len(got) != 1 || got[0].Target != "linux-x64" {
		t.Fatalf("registered %+v, want linux-x64 alone", got)
	}
	writeTestFile(t, filepath.Join(ctx.BuildDir(), "artifacts.json"), "["+strings.Join(entries, ",")+"]")
	if err := register(ctx, all); err == nil || !strings.Contains(err.Error(), "plan9/amd64, which release.yaml has no target for") {
		t.Fatalf("a foreign binary: %v", err)
	}
}

func writeTestFile(t *testing.T, p, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

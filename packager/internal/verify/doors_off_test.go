package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/dotslash"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

// extrasRelease writes, for these targets and doors, what the DotSlash
// pipe makes beside one small archive per target, and returns the checker
// over it and the manifest that lists it.
func extrasRelease(t *testing.T, doors config.Doors, targets ...config.Target) (*checker, *manifest.Manifest) {
	t.Helper()
	ctx := pipelinetest.New(t)
	ctx.Config.Targets, ctx.Config.Doors = targets, doors
	m := &manifest.Manifest{Version: ctx.Version.String()}
	for _, tg := range targets {
		name := layout.ArchiveName(ctx.Config, m.Version, tg)
		p := filepath.Join(ctx.Release, name)
		if err := os.WriteFile(p, []byte("archive of "+tg.Name), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx.Artifacts.Add(artifact.Artifact{Name: name, Path: p, Kind: artifact.Archive, Target: tg.Name})
	}
	if err := (dotslash.Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Archive, artifact.DotSlash)) {
		m.Artifacts = append(m.Artifacts, manifest.Artifact{Name: a.Name, Target: a.Target, Kind: a.Kind, Size: a.Size, SHA256: a.SHA256})
	}
	return &checker{dir: ctx.Release, opts: Options{Config: ctx.Config}}, m
}

var (
	doorShut     = false
	xLinuxX64    = config.Target{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"}
	xLinuxArmv7  = config.Target{Name: "linux-armv7", GOOS: "linux", GOARCH: "arm", GOARM: "7"}
	xFreebsdX64  = config.Target{Name: "freebsd-x64", GOOS: "freebsd", GOARCH: "amd64"}
	xDarwinArm64 = config.Target{Name: "darwin-arm64", GOOS: "darwin", GOARCH: "arm64"}
)

func extrasProblems(c *checker) string { return strings.Join(c.problems, "\n") }

// Targets DotSlash does not run on are neither required in the DotSlash
// file nor allowed in it.
func TestDotSlashLeavesOutWhatItCannotRun(t *testing.T) {
	c, m := extrasRelease(t, config.Doors{}, xLinuxX64, xLinuxArmv7, xFreebsdX64, xDarwinArm64)
	c.dotslashFile(m)
	if len(c.problems) != 0 {
		t.Fatalf("a release with targets DotSlash does not run on is refused:\n%s", extrasProblems(c))
	}

	// A file that names a platform no archive is for ("linux-", as a
	// PlatformKey without a table made for arm) is refused.
	p := filepath.Join(c.dir, "tern")
	raw, _ := os.ReadFile(p)
	raw = []byte(strings.Replace(string(raw), `"linux-x86_64"`, `"linux-"`, 1))
	if err := os.WriteFile(p, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	c.dotslashFile(m)
	got := extrasProblems(c)
	for _, want := range []string{
		"tern: has no platform linux-x86_64 for tern-1.2.3-linux-x64.tar.gz",
		"tern: names platform linux-, for which the release has no archive",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q, got:\n%s", want, got)
		}
	}

	// No target of DotSlash's: no file is written, and none is required.
	c, m = extrasRelease(t, config.Doors{}, xLinuxArmv7, xFreebsdX64)
	if _, err := os.Stat(filepath.Join(c.dir, "tern")); !os.IsNotExist(err) {
		t.Fatalf("a DotSlash file no machine can run was written (%v)", err)
	}
	c.dotslashFile(m)
	if len(c.problems) != 0 {
		t.Fatalf("a release without DotSlash platforms is refused:\n%s", extrasProblems(c))
	}
}

// doors.dotslash false: no DotSlash file is required, and one present is
// refused, whether the manifest lists it or it merely lies in the directory.
func TestDotSlashDoorOff(t *testing.T) {
	c, m := extrasRelease(t, config.Doors{DotSlash: &doorShut}, xLinuxX64, xDarwinArm64)
	c.dotslashFile(m)
	if len(c.problems) != 0 {
		t.Fatalf("a release without the DotSlash door is refused:\n%s", extrasProblems(c))
	}

	on, _ := extrasRelease(t, config.Doors{}, xLinuxX64, xDarwinArm64)
	raw, err := os.ReadFile(filepath.Join(on.dir, "tern"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "tern"), raw, 0o755); err != nil {
		t.Fatal(err)
	}
	c.dotslashFile(m)
	want := "tern: doors.dotslash is false, but the release holds this DotSlash file: verify with the release.yaml the release was made with, or cut the release again"
	if got := extrasProblems(c); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}

	os.Remove(filepath.Join(c.dir, "tern"))
	c.problems = nil
	m.Artifacts = append(m.Artifacts, manifest.Artifact{Name: "tern", Kind: artifact.DotSlash})
	c.dotslashFile(m)
	if got := extrasProblems(c); got != want {
		t.Fatalf("a DotSlash file the manifest lists: got:\n%s\nwant:\n%s", got, want)
	}
}

// doors.sbom false: no SBOM is required, and one present is refused.
func TestSBOMDoorOff(t *testing.T) {
	c, m := extrasRelease(t, config.Doors{SBOM: &doorShut}, xLinuxX64, xLinuxArmv7)
	for i := range m.Artifacts {
		m.Artifacts[i].Binary = &artifact.File{Name: "tern", SHA256: strings.Repeat("b", 64)}
	}
	c.sboms(m)
	if len(c.problems) != 0 {
		t.Fatalf("a release without the SBOM door is refused:\n%s", extrasProblems(c))
	}

	sbom := layout.SBOMName("tern-1.2.3-linux-armv7.tar.gz")
	if err := os.WriteFile(filepath.Join(c.dir, sbom), []byte(`{"bomFormat":"CycloneDX"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	m.Artifacts = append(m.Artifacts, manifest.Artifact{Name: "tern-1.2.3-linux-x64.cdx.json", Kind: artifact.SBOM, Target: "linux-x64"})
	c.sboms(m)
	got := extrasProblems(c)
	for _, name := range []string{sbom, "tern-1.2.3-linux-x64.cdx.json"} {
		want := name + ": doors.sbom is false, but the release holds this SBOM: verify with the release.yaml the release was made with, or cut the release again"
		if !strings.Contains(got, want) {
			t.Errorf("want %q, got:\n%s", want, got)
		}
	}

	// With the door open, the same release without SBOMs is refused.
	c.opts.Config.Doors = config.Doors{}
	c.problems = nil
	os.Remove(filepath.Join(c.dir, sbom))
	m.Artifacts = m.Artifacts[:len(m.Artifacts)-1]
	c.sboms(m)
	if got := extrasProblems(c); !strings.Contains(got, "manifest.json: lists no SBOM "+sbom+" for tern-1.2.3-linux-armv7.tar.gz") {
		t.Errorf("an SBOM-less release with the door open: %s", got)
	}
}

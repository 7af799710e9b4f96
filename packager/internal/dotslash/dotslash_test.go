package dotslash

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

func TestAnArchiveForAnUnknownTargetIsAnError(t *testing.T) {
	ctx := pipelinetest.New(t)
	p := filepath.Join(ctx.Release, "tern-1.2.3-plan9-x64.tar.gz")
	if err := os.WriteFile(p, []byte("archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: "tern-1.2.3-plan9-x64.tar.gz", Path: p, Kind: artifact.Archive, Target: "plan9-x64"})
	err := Pipe{}.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), `tern-1.2.3-plan9-x64.tar.gz is for target "plan9-x64", which release.yaml does not have`) {
		t.Fatalf("got %v", err)
	}
}

// DotSlash knows six platforms; every other GoReleaser target has no key,
// rather than a bogus one ("linux-", "freebsd-x86_64") no machine looks up.
func TestPlatformKey(t *testing.T) {
	for _, tc := range []struct {
		goos, goarch, goarm, want string
	}{
		{"linux", "amd64", "", "linux-x86_64"},
		{"linux", "arm64", "", "linux-aarch64"},
		{"darwin", "amd64", "", "macos-x86_64"},
		{"darwin", "arm64", "", "macos-aarch64"},
		{"windows", "amd64", "", "windows-x86_64"},
		{"windows", "arm64", "", "windows-aarch64"},
		{"linux", "386", "", ""},
		{"linux", "arm", "6", ""},
		{"linux", "arm", "7", ""},
		{"linux", "riscv64", "", ""},
		{"linux", "ppc64le", "", ""},
		{"linux", "s390x", "", ""},
		{"linux", "loong64", "", ""},
		{"windows", "386", "", ""},
		{"freebsd", "amd64", "", ""},
		{"openbsd", "arm64", "", ""},
		{"netbsd", "amd64", "", ""},
	} {
		key, ok := PlatformKey(config.Target{GOOS: tc.goos, GOARCH: tc.goarch, GOARM: tc.goarm})
		if key != tc.want || ok != (tc.want != "") {
			t.Errorf("%s/%s%s: got %q, %v, want %q", tc.goos, tc.goarch, tc.goarm, key, ok, tc.want)
		}
	}
}

// withArchives gives ctx these targets, each with a small archive.
func withArchives(t *testing.T, ctx *pipeline.Context, targets ...config.Target) {
	t.Helper()
	ctx.Config.Targets = targets
	for _, tg := range targets {
		name := layout.ArchiveName(ctx.Config, ctx.Version.String(), tg)
		p := filepath.Join(ctx.Release, name)
		if err := os.WriteFile(p, []byte("archive of "+tg.Name), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx.Artifacts.Add(artifact.Artifact{Name: name, Path: p, Kind: artifact.Archive, Target: tg.Name})
	}
}

func readFile(t *testing.T, ctx *pipeline.Context) File {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(ctx.Release, layout.DotSlashName(ctx.Config)))
	if err != nil {
		t.Fatal(err)
	}
	var f File
	if err := json.Unmarshal(bytes.TrimPrefix(raw, []byte(Shebang)), &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// Targets DotSlash does not run on are left out of the file, each named in
// the log; the others are in it.
func TestTargetsDotSlashCannotRunAreLeftOut(t *testing.T) {
	ctx := pipelinetest.New(t)
	withArchives(t, ctx,
		config.Target{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"},
		config.Target{Name: "linux-armv7", GOOS: "linux", GOARCH: "arm", GOARM: "7"},
		config.Target{Name: "linux-386", GOOS: "linux", GOARCH: "386"},
		config.Target{Name: "freebsd-x64", GOOS: "freebsd", GOARCH: "amd64"},
		config.Target{Name: "windows-arm64", GOOS: "windows", GOARCH: "arm64"},
	)
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	f := readFile(t, ctx)
	var keys []string
	for k := range f.Platforms {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"linux-x86_64", "windows-aarch64"}; !slices.Equal(keys, want) {
		t.Fatalf("platforms %v, want %v", keys, want)
	}
	if p := f.Platforms["windows-aarch64"]; p.Format != "zip" || p.Path != "tern-1.2.3-windows-arm64/bin/tern.exe" {
		t.Errorf("windows-aarch64: %+v", p)
	}
	log := ctx.Log.(*bytes.Buffer).String()
	for _, name := range []string{"linux-armv7", "linux-386", "freebsd-x64"} {
		if !strings.Contains(log, name+": left out, DotSlash runs only on linux, macOS and windows, x86_64 and aarch64") {
			t.Errorf("the log does not say why %s is left out:\n%s", name, log)
		}
	}
}

// With doors.dotslash false, or no target DotSlash runs on, no file is
// written and none registered.
func TestNoDotSlashFile(t *testing.T) {
	off := false
	for _, tc := range []struct {
		name    string
		doors   config.Doors
		targets []config.Target
		log     string
	}{
		{"doors.dotslash false", config.Doors{DotSlash: &off},
			[]config.Target{{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"}},
			"skipped: doors.dotslash is false in release.yaml"},
		{"no platform of DotSlash's", config.Doors{},
			[]config.Target{{Name: "linux-armv6", GOOS: "linux", GOARCH: "arm", GOARM: "6"}, {Name: "freebsd-x64", GOOS: "freebsd", GOARCH: "amd64"}},
			"skipped: no target is one DotSlash runs on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := pipelinetest.New(t)
			ctx.Config.Doors = tc.doors
			withArchives(t, ctx, tc.targets...)
			if err := (Pipe{}).Run(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(ctx.Release, layout.DotSlashName(ctx.Config))); !os.IsNotExist(err) {
				t.Errorf("a DotSlash file was written (%v)", err)
			}
			if got := ctx.Artifacts.Filter(artifact.ByKind(artifact.DotSlash)); len(got) != 0 {
				t.Errorf("registered %v", got)
			}
			if log := ctx.Log.(*bytes.Buffer).String(); !strings.Contains(log, tc.log) {
				t.Errorf("log %q, want %q", log, tc.log)
			}
		})
	}
}

// Two targets DotSlash cannot tell apart are refused, not one silently
// dropped.
func TestTwoTargetsOfOnePlatformAreRefused(t *testing.T) {
	ctx := pipelinetest.New(t)
	withArchives(t, ctx,
		config.Target{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"},
		config.Target{Name: "linux-x64-v3", GOOS: "linux", GOARCH: "amd64"},
	)
	err := Pipe{}.Run(ctx)
	want := "targets linux-x64 and linux-x64-v3 are both DotSlash's linux-x86_64, and its file holds one archive per platform: remove one of them from release.yaml, or set doors: {dotslash: false}"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

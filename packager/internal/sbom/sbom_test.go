package sbom

import (
	"bytes"
	"debug/buildinfo"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

func TestAnArchiveForAnUnknownTargetIsAnError(t *testing.T) {
	ctx := pipelinetest.New(t)
	ctx.Artifacts.Add(artifact.Artifact{Name: "tern-1.2.3-plan9-x64.tar.gz", Path: "/nonexistent", Kind: artifact.Archive, Target: "plan9-x64"})
	ctx.Artifacts.Add(artifact.Artifact{Name: "plan9-x64", Path: t.TempDir(), Kind: artifact.Tree, Target: "plan9-x64"})
	err := Pipe{}.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), `tern-1.2.3-plan9-x64.tar.gz is for target "plan9-x64", which release.yaml does not have`) {
		t.Fatalf("got %v", err)
	}
}

// With doors.sbom false no SBOM is written, not even an archive's whose
// tree is missing.
func TestDoorOffWritesNoSBOM(t *testing.T) {
	ctx := pipelinetest.New(t)
	off := false
	ctx.Config.Doors.SBOM = &off
	ctx.Artifacts.Add(artifact.Artifact{Name: "tern-1.2.3-linux-x64.tar.gz", Path: "/nonexistent", Kind: artifact.Archive, Target: "linux-x64"})
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ctx.Artifacts.Filter(artifact.ByKind(artifact.SBOM)); len(got) != 0 {
		t.Fatalf("registered %v", got)
	}
	if entries, _ := os.ReadDir(ctx.Release); len(entries) != 0 {
		t.Fatalf("the release holds %v", entries)
	}
	if log := ctx.Log.(*bytes.Buffer).String(); !strings.Contains(log, "skipped: doors.sbom is false in release.yaml") {
		t.Errorf("log %q", log)
	}
}

// The SBOM states the platform the binary's build info names, GOARM
// included (armv6 and armv7 differ only there), and refuses a binary of
// another platform than its target.
func TestBuiltFor(t *testing.T) {
	info := func(kv ...string) *buildinfo.BuildInfo {
		bi := &buildinfo.BuildInfo{}
		for i := 0; i < len(kv); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return bi
	}
	armv7 := config.Target{Name: "linux-armv7", GOOS: "linux", GOARCH: "arm", GOARM: "7"}
	for _, tc := range []struct {
		name   string
		info   *buildinfo.BuildInfo
		target config.Target
		want   string // the properties, or the error
	}{
		{"amd64", info("GOOS", "linux", "GOARCH", "amd64", "GOAMD64", "v1"),
			config.Target{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"}, "go.GOOS=linux go.GOARCH=amd64"},
		{"armv7", info("GOOS", "linux", "GOARCH", "arm", "GOARM", "7"), armv7, "go.GOOS=linux go.GOARCH=arm go.GOARM=7"},
		{"armv7 softfloat", info("GOOS", "linux", "GOARCH", "arm", "GOARM", "7,softfloat"), armv7, "go.GOOS=linux go.GOARCH=arm go.GOARM=7"},
		{"armv6 for armv7", info("GOOS", "linux", "GOARCH", "arm", "GOARM", "6"), armv7,
			"the binary was built for linux/arm GOARM=6, but target linux-armv7 is linux/arm GOARM=7: the build does not match release.yaml (rebuild it)"},
		{"riscv64", info("GOOS", "linux", "GOARCH", "riscv64"),
			config.Target{Name: "linux-riscv64", GOOS: "linux", GOARCH: "riscv64"}, "go.GOOS=linux go.GOARCH=riscv64"},
		{"freebsd for linux", info("GOOS", "freebsd", "GOARCH", "amd64"),
			config.Target{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"},
			"the binary was built for freebsd/amd64, but target linux-x64 is linux/amd64: the build does not match release.yaml (rebuild it)"},
		{"no settings", info(), armv7, "go.GOOS=linux go.GOARCH=arm go.GOARM=7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			props, err := builtFor(tc.info, tc.target)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				var parts []string
				for _, p := range props {
					parts = append(parts, p.Name+"="+p.Value)
				}
				got = strings.Join(parts, " ")
			}
			if got != tc.want {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

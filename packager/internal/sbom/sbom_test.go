package sbom

import (
	"bytes"
	"debug/buildinfo"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
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

// The SBOM names the shipped bubblewrap by a purl and a CPE that scanners
// match, both from its third_party manifest: a manifest of another version
// gives another identity.
func TestTheHelperHasAPurlAndACPEFromItsManifest(t *testing.T) {
	real, err := os.ReadFile(filepath.Join("..", "..", "..", "third_party", "bubblewrap", "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []string{"0.8.0", "0.11.1"} {
		t.Run(version, func(t *testing.T) {
			ctx := pipelinetest.New(t)
			manifest := strings.ReplaceAll(string(real), "0.8.0", version)
			dir := filepath.Join(ctx.Root, "third_party", "bubblewrap")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), []byte(manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := thirdparty.LoadManifest(filepath.Join(dir, "manifest.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			tree := t.TempDir()
			self, err := os.Executable() // a Go binary of this platform, with build info
			if err != nil {
				t.Fatal(err)
			}
			bin, _ := os.ReadFile(self)
			os.MkdirAll(filepath.Join(tree, "bin"), 0o755)
			if err := os.WriteFile(filepath.Join(tree, "bin", "tern"), bin, 0o755); err != nil {
				t.Fatal(err)
			}
			target := "linux-x64"
			if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
				t.Skip("the test binary stands in for the linux-x64 binary")
			}
			ctx.Artifacts.Add(artifact.Artifact{Name: "tern-1.2.3-linux-x64.tar.gz", Path: "/nonexistent", Kind: artifact.Archive, Target: target,
				Binary: &artifact.File{Name: "tern", SHA256: strings.Repeat("a", 64)}, Helpers: []artifact.File{{Name: "bwrap", SHA256: strings.Repeat("b", 64)}}})
			ctx.Artifacts.Add(artifact.Artifact{Name: target, Path: tree, Kind: artifact.Tree, Target: target})
			ctx.Artifacts.Add(artifact.Artifact{Name: "bwrap", Path: "/nonexistent", Kind: artifact.Helper, Target: target, Version: version,
				Source: &artifact.Source{URL: m.Source.URLs[0], SHA256: m.Source.SHA256, License: m.License}})
			if err := (Pipe{}).Run(ctx); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join(ctx.Release, layout.SBOMName("tern-1.2.3-linux-x64.tar.gz")))
			if err != nil {
				t.Fatal(err)
			}
			var bom cdx.BOM
			if err := cdx.NewBOMDecoder(bytes.NewReader(raw), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
				t.Fatal(err)
			}
			if bom.SpecVersion < cdx.SpecVersion1_4 || bom.BOMFormat != "CycloneDX" {
				t.Errorf("spec %v, format %q", bom.SpecVersion, bom.BOMFormat)
			}
			wantPURL := "pkg:generic/bubblewrap@" + version + "?checksum=sha256:957ad1149db9033db88e988b12bcebe349a445e1efc8a9b59ad2939a113d333a" +
				"&download_url=https://github.com/containers/bubblewrap/releases/download/v" + version + "/bubblewrap-" + version + ".tar.xz"
			wantCPE := "cpe:2.3:a:projectatomic:bubblewrap:" + version + ":*:*:*:*:*:*:*"
			found := false
			for _, c := range *bom.Components {
				if c.Name != "bwrap" {
					continue
				}
				found = true
				if c.PackageURL != wantPURL || c.CPE != wantCPE {
					t.Errorf("bwrap: purl %q, cpe %q\nwant %q, %q", c.PackageURL, c.CPE, wantPURL, wantCPE)
				}
			}
			if !found {
				t.Fatalf("the SBOM has no bwrap component:\n%s", raw)
			}
		})
	}
}

// Names and versions that a purl or CPE cannot hold as they are come out
// escaped, and a helper NVD has no vendor for gets no guessed CPE.
func TestHelperIdentityEscapes(t *testing.T) {
	m := &thirdparty.Manifest{Name: "some tool", Version: "1.0+git:2", Source: thirdparty.Source{SHA256: "ab", URLs: []string{"https://example.com/a b.tar.gz"}}}
	id := HelperIdentity(m)
	if want := "pkg:generic/some%20tool@1.0%2Bgit:2?checksum=sha256:ab&download_url=https://example.com/a%20b.tar.gz"; id.PURL != want {
		t.Errorf("purl %q, want %q", id.PURL, want)
	}
	if id.CPE != "" {
		t.Errorf("cpe %q for a helper of no known vendor", id.CPE)
	}
	m.Name, m.CPEVendor = "bubblewrap", "projectatomic"
	if want := `cpe:2.3:a:projectatomic:bubblewrap:1.0\+git\:2:*:*:*:*:*:*:*`; HelperIdentity(m).CPE != want {
		t.Errorf("cpe %q, want %q", HelperIdentity(m).CPE, want)
	}
}

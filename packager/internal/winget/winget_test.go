package winget

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/doors"
	"github.com/tern-agent/tern/packager/internal/doors/doorstest"
)

var released = time.Date(2026, 11, 1, 23, 30, 0, 0, time.FixedZone("", -5*3600))

// The three manifests are YAML with the fields winget-pkgs requires, one
// identifier and version, and each architecture's installer is its zip.
func TestManifestsGiveEachArchitectureItsZip(t *testing.T) {
	c := doorstest.Config()
	archives := doorstest.Archives(c)
	m, err := Generate(c, doorstest.Version, released, archives)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Generate(c, doorstest.Version, released, archives); !bytes.Equal(m.Installer, again.Installer) || !bytes.Equal(m.Locale, again.Locale) || !bytes.Equal(m.Version, again.Version) {
		t.Fatal("two runs wrote two sets of manifests")
	}
	required := map[string][]string{
		"version":   {"PackageIdentifier", "PackageVersion", "DefaultLocale", "ManifestType", "ManifestVersion"},
		"installer": {"PackageIdentifier", "PackageVersion", "InstallerType", "NestedInstallerType", "ReleaseDate", "Installers", "ManifestType", "ManifestVersion"},
		"locale":    {"PackageIdentifier", "PackageVersion", "PackageLocale", "Publisher", "PackageName", "License", "ShortDescription", "ManifestType", "ManifestVersion"},
	}
	for name, raw := range map[string][]byte{"version": m.Version, "installer": m.Installer, "locale": m.Locale} {
		var doc map[string]any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, raw)
		}
		for _, f := range required[name] {
			if v, ok := doc[f]; !ok || v == "" {
				t.Errorf("%s: no %s in\n%s", name, f, raw)
			}
		}
		if doc["PackageIdentifier"] != "example-org.tern" || doc["PackageVersion"] != "1.2.3" || doc["ManifestVersion"] != "1.10.0" {
			t.Errorf("%s:\n%s", name, raw)
		}
	}
	var in Installer
	if err := yaml.Unmarshal(m.Installer, &in); err != nil {
		t.Fatal(err)
	}
	if in.ReleaseDate != "2026-11-02" {
		t.Errorf("ReleaseDate %s, want the commit's UTC date 2026-11-02", in.ReleaseDate)
	}
	byTarget := map[string]doors.Archive{}
	for _, a := range archives {
		byTarget[a.Target] = a
	}
	if len(in.Installers) != 2 {
		t.Fatalf("installers %+v, want x64 and arm64", in.Installers)
	}
	for _, i := range in.Installers {
		target := map[string]string{"x64": "windows-x64", "arm64": "windows-arm64"}[i.Architecture]
		a := byTarget[target]
		if i.InstallerURL != "https://github.com/example-org/tern/releases/download/v1.2.3/"+a.Name {
			t.Errorf("%s: url %s", i.Architecture, i.InstallerURL)
		}
		if i.InstallerSha256 != strings.ToUpper(a.SHA256) {
			t.Errorf("%s: sha256 %s, want %s upper-case", i.Architecture, i.InstallerSha256, a.SHA256)
		}
		want := NestedFile{RelativeFilePath: `tern-1.2.3-` + target + `\bin\tern.exe`, PortableCommandAlias: "tern"}
		if len(i.NestedInstallerFiles) != 1 || i.NestedInstallerFiles[0] != want {
			t.Errorf("%s: nested %+v, want %+v", i.Architecture, i.NestedInstallerFiles, want)
		}
	}
	if err := Check(c, doorstest.Version, m, archives); err != nil {
		t.Errorf("Check: %v", err)
	}
	if got := Dir("example-org.tern", "1.2.3"); got != "manifests/e/example-org/tern/1.2.3" {
		t.Errorf("Dir %s", got)
	}
}

// Check names every way the manifests differ from the release.
func TestCheckRefusesManifestsThatAreNotTheRelease(t *testing.T) {
	c := doorstest.Config()
	archives := doorstest.Archives(c)
	m, err := Generate(c, doorstest.Version, released, archives)
	if err != nil {
		t.Fatal(err)
	}
	var arm doors.Archive
	for _, a := range archives {
		if a.Target == "windows-arm64" {
			arm = a
		}
	}
	for _, tc := range []struct {
		name string
		edit func(Manifests) Manifests
		want string
	}{
		{"another digest", func(m Manifests) Manifests {
			m.Installer = bytes.Replace(m.Installer, []byte(strings.ToUpper(arm.SHA256)), []byte(strings.Repeat("0", 64)), 1)
			return m
		}, "example-org.tern.installer.yaml: arm64: sha256 " + strings.Repeat("0", 64) + ", but tern-1.2.3-windows-arm64.zip has " + arm.SHA256},
		{"a lower-case digest", func(m Manifests) Manifests {
			m.Installer = bytes.Replace(m.Installer, []byte(strings.ToUpper(arm.SHA256)), []byte(arm.SHA256), 1)
			return m
		}, "example-org.tern.installer.yaml: arm64: InstallerSha256 is not upper-case hex"},
		{"another version in one file", func(m Manifests) Manifests {
			m.Locale = bytes.Replace(m.Locale, []byte("PackageVersion: 1.2.3"), []byte("PackageVersion: 1.2.4"), 1)
			return m
		}, `example-org.tern.locale.en-US.yaml: PackageIdentifier "example-org.tern", PackageVersion "1.2.4"`},
		{"another path in the zip", func(m Manifests) Manifests {
			m.Installer = bytes.Replace(m.Installer, []byte(`tern-1.2.3-windows-x64\bin\tern.exe`), []byte(`tern.exe`), 1)
			return m
		}, `example-org.tern.installer.yaml: x64: RelativeFilePath "tern.exe", want "tern-1.2.3-windows-x64\\bin\\tern.exe"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(c, doorstest.Version, tc.edit(m), archives)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// A repository without an owner gives no identifier, and says so.
func TestIdentityNeedsAnOwner(t *testing.T) {
	c := doorstest.Config()
	c.Repository = "https://example.com"
	if _, _, err := Identity(c); err == nil || !strings.Contains(err.Error(), "set doors: {winget: false}") {
		t.Errorf("got %v", err)
	}
}

// The pipe writes the three files, named as winget-pkgs names them, with
// the archives' real digests; with doors.winget false it writes nothing.
func TestPipe(t *testing.T) {
	ctx, digests := doorstest.Context(t)
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(ctx.Release, "example-org.tern.installer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), strings.ToUpper(digests["tern-1.2.3-windows-x64.zip"])) {
		t.Errorf("no windows-x64 digest:\n%s", raw)
	}
	if !strings.Contains(string(raw), "ReleaseDate: \"2026-11-01\"") && !strings.Contains(string(raw), "ReleaseDate: 2026-11-01") {
		t.Errorf("ReleaseDate is not the commit's date:\n%s", raw)
	}
	var names []string
	for _, a := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Winget)) {
		names = append(names, a.Name)
	}
	if strings.Join(names, " ") != "example-org.tern.installer.yaml example-org.tern.locale.en-US.yaml example-org.tern.yaml" {
		t.Errorf("registered %v", names)
	}
	off := false
	ctx, _ = doorstest.Context(t)
	ctx.Config.Doors.Winget = &off
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ctx.Artifacts.Filter(artifact.ByKind(artifact.Winget)); len(got) != 0 {
		t.Errorf("registered %v with doors.winget false", got)
	}
}

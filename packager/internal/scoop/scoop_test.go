package scoop

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/checksum"
	"github.com/tern-agent/tern/packager/internal/doors"
	"github.com/tern-agent/tern/packager/internal/doors/doorstest"
)

// The manifest is JSON with every field Scoop's schema requires, and each
// architecture's url, hash and extract_dir are its archive's.
func TestManifestGivesEachArchitectureItsArchive(t *testing.T) {
	c := doorstest.Config()
	archives := doorstest.Archives(c)
	raw, err := Generate(c, doorstest.Version, archives)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Generate(c, doorstest.Version, archives); !bytes.Equal(raw, again) {
		t.Fatal("two runs wrote two manifests")
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	for _, field := range []string{"version", "description", "homepage", "license", "architecture", "bin", "checkver", "autoupdate"} {
		if _, ok := m[field]; !ok {
			t.Errorf("no %s in\n%s", field, raw)
		}
	}
	var got Manifest
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	byTarget := map[string]doors.Archive{}
	for _, a := range archives {
		byTarget[a.Target] = a
	}
	for key, target := range map[string]string{"64bit": "windows-x64", "arm64": "windows-arm64"} {
		a, want := byTarget[target], got.Architecture[key]
		if want.URL != "https://github.com/example-org/tern/releases/download/v1.2.3/"+a.Name || want.Hash != a.SHA256 || want.ExtractDir != "tern-1.2.3-"+target {
			t.Errorf("%s: %+v, want %s", key, want, a.Name)
		}
		au := got.Autoupdate.Architecture[key]
		if au.URL != "https://github.com/example-org/tern/releases/download/v$version/tern-$version-"+target+".zip" || au.ExtractDir != "tern-$version-"+target {
			t.Errorf("autoupdate %s: %+v", key, au)
		}
	}
	if len(got.Architecture) != 2 {
		t.Errorf("architectures %v, want 64bit and arm64 only", got.Architecture)
	}
	if got.Bin != `bin\tern.exe` || got.License != "Apache-2.0" || got.Checkver.GitHub != "https://github.com/example-org/tern" {
		t.Errorf("bin %q, license %v, checkver %+v", got.Bin, got.License, got.Checkver)
	}
	if err := Check(c, doorstest.Version, raw, archives); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// Scoop's autoupdate finds each archive's digest in SHA256SUMS with the
// manifest's regex, once Scoop has put its patterns for $sha256 and
// $basename: the digest of that archive, not of a longer name that ends
// the same.
func TestAutoupdateRegexFindsTheDigestInSHA256SUMS(t *testing.T) {
	c := doorstest.Config()
	archives := doorstest.Archives(c)
	raw, err := Generate(c, doorstest.Version, archives)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Autoupdate.Hash.URL != "$baseurl/SHA256SUMS" {
		t.Errorf("hash url %s", m.Autoupdate.Hash.URL)
	}
	var lines []checksum.Line
	for _, a := range archives {
		lines = append(lines, checksum.Line{SHA256: a.SHA256, Name: a.Name})
		lines = append(lines, checksum.Line{SHA256: strings.Repeat("f", 64), Name: "x" + a.Name})
	}
	sums := string(checksum.Format(lines))
	for _, a := range archives {
		if !strings.HasPrefix(a.Target, "windows") {
			continue
		}
		re := strings.ReplaceAll(m.Autoupdate.Hash.Regex, "$sha256", "([a-fA-F0-9]{64})")
		re = strings.ReplaceAll(re, "$basename", regexp.QuoteMeta(a.Name))
		got := regexp.MustCompile(re).FindStringSubmatch(sums)
		if got == nil || got[1] != a.SHA256 {
			t.Errorf("%s: regex %s found %v, want %s", a.Name, re, got, a.SHA256)
		}
	}
}

// Check names every way a manifest differs from the release.
func TestCheckRefusesAManifestThatIsNotTheRelease(t *testing.T) {
	c := doorstest.Config()
	archives := doorstest.Archives(c)
	raw, err := Generate(c, doorstest.Version, archives)
	if err != nil {
		t.Fatal(err)
	}
	var x64 doors.Archive
	for _, a := range archives {
		if a.Target == "windows-x64" {
			x64 = a
		}
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"another digest", x64.SHA256, strings.Repeat("0", 64), "tern.json: 64bit: sha256 " + strings.Repeat("0", 64) + ", but tern-1.2.3-windows-x64.zip has " + x64.SHA256},
		{"another version", `"version": "1.2.3"`, `"version": "1.2.4"`, `tern.json: version "1.2.4", want "1.2.3"`},
		{"another extract_dir", `"extract_dir": "tern-1.2.3-windows-arm64"`, `"extract_dir": "x"`, `tern.json: arm64: extract_dir "x", want "tern-1.2.3-windows-arm64"`},
		{"an architecture missing", `"arm64": {`, `"arm": {`, "tern.json: no arm64 entry, but the release has tern-1.2.3-windows-arm64.zip for it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(c, doorstest.Version, []byte(strings.Replace(string(raw), tc.from, tc.to, 1)), archives)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// A license that is no SPDX expression is Scoop's "Unknown", with where
// to read it.
func TestLicenseNotSPDX(t *testing.T) {
	c := doorstest.Config()
	c.NPM.License = "SEE LICENSE IN LICENSE"
	raw, err := Generate(c, doorstest.Version, doorstest.Archives(c))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"license": {
        "identifier": "Unknown",
        "url": "https://github.com/example-org/tern"
    }`) {
		t.Errorf("license:\n%s", raw)
	}
}

// The pipe writes the manifest with the archives' real digests and
// registers it; with doors.scoop false it writes nothing.
func TestPipe(t *testing.T) {
	ctx, digests := doorstest.Context(t)
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(ctx.Release, "tern.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), digests["tern-1.2.3-windows-arm64.zip"]) {
		t.Errorf("no windows-arm64 digest:\n%s", raw)
	}
	if got := ctx.Artifacts.Filter(artifact.ByKind(artifact.Scoop)); len(got) != 1 || got[0].Name != "tern.json" {
		t.Errorf("registered %v", got)
	}
	off := false
	ctx, _ = doorstest.Context(t)
	ctx.Config.Doors.Scoop = &off
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ctx.Release, "tern.json")); !os.IsNotExist(err) {
		t.Errorf("a manifest was written with doors.scoop false (%v)", err)
	}
}

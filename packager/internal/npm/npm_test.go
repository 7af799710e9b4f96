package npm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/version"
)

// The meta package's template must list its files; a template without that
// list, or with a non-name in it, is an error naming the template.
func TestMetaTemplateFilesMustBeAListOfNames(t *testing.T) {
	for _, tc := range []struct{ name, pkg, want string }{
		{"no files", `{"name": "x"}`, `has no "files" list`},
		{"files not a list", `{"files": "bin/x.js"}`, `has no "files" list`},
		{"a file not a name", `{"files": ["bin/x.js", 7]}`, `"files" holds 7, not a file name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(tc.pkg), &m); err != nil {
				t.Fatal(err)
			}
			const p = "npm/meta/package.json"
			_, err := templateFiles(p, m)
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s: %s", err, p, tc.want)
			}
		})
	}
}

// acme is a product whose command is not its name, declared as its
// maintainer would; tests add targets, doors, files and templates.
const acme = `product: acme
binary: acme-cli
repository: https://git.example.org/acme-corp/acme
license_file: LICENSE
signing:
  certificate_identity_regexp: ^https://git\.example\.org/acme-corp/acme/release@refs/tags/v
  certificate_oidc_issuer: https://issuer.example.org
`

const acmeNPM = `npm: {scope: "@acme", package: cli}
`

const acmeTargets = `targets:
  - {name: linux-x64,   goos: linux,   goarch: amd64, npm_os: linux, npm_cpu: x64}
  - {name: windows-x64, goos: windows, goarch: amd64, npm_os: win32, npm_cpu: x64}
`

const testVersion = "1.2.3"

// testContext is a release run that has staged and packed: for each target
// of the config a staged tree (its binary, the licence, the notices, and
// the tree files given, by path) and an archive artifact naming the
// binary's digest. files are written beside release.yaml first (overrides,
// extra files' sources).
func testContext(t *testing.T, yaml string, files, tree map[string]string) *pipeline.Context {
	t.Helper()
	root := t.TempDir()
	files = maps.Clone(files)
	if files == nil {
		files = map[string]string{}
	}
	files["release.yaml"] = yaml
	files["LICENSE"] = "Acme licence.\n"
	for name, text := range files {
		writeFile(t, filepath.Join(root, name), text, 0o644)
	}
	c, err := config.Load(filepath.Join(root, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := &pipeline.Context{
		Context: context.Background(), Config: c, Root: root,
		Version: version.Info{Version: semver.MustParse(testVersion)},
		Dist:    filepath.Join(root, "dist"), Release: filepath.Join(root, "dist", "release"),
		Artifacts: &artifact.List{}, Log: io.Discard,
	}
	if err := os.MkdirAll(ctx.Release, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tg := range c.Targets {
		dir := filepath.Join(ctx.StageDir(), tg.Name)
		bin := "binary of " + tg.Name
		writeFile(t, filepath.Join(dir, filepath.FromSlash(layout.BinaryPath(c, tg))), bin, 0o755)
		writeFile(t, filepath.Join(dir, layout.License), "Acme licence.\n", 0o644)
		writeFile(t, filepath.Join(dir, layout.Notices), "No third parties.\n", 0o644)
		for name, text := range tree {
			writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), text, 0o644)
		}
		ctx.Artifacts.Add(artifact.Artifact{Name: tg.Name, Path: dir, Kind: artifact.Tree, Target: tg.Name})
		ctx.Artifacts.Add(artifact.Artifact{Name: layout.ArchiveName(c, testVersion, tg), Kind: artifact.Archive, Target: tg.Name,
			Binary: &artifact.File{Name: c.BinaryName(tg), SHA256: sha256Hex(bin)}})
	}
	return ctx
}

func writeFile(t *testing.T, p, text string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// members reads an npm tarball of the release: path below package/ → content.
func members(t *testing.T, ctx *pipeline.Context, pkg string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(ctx.Release, layout.NPMTarball(pkg, testVersion)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[strings.TrimPrefix(hdr.Name, "package/")] = string(b)
	}
}

func packageJSON(t *testing.T, files map[string]string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(files["package.json"]), &m); err != nil {
		t.Fatalf("package.json: %v\n%s", err, files["package.json"])
	}
	return m
}

// A project's own launcher, postinstall and package.json templates are
// rendered with the release's facts and land in the packages.
func TestAProjectsNPMTemplatesLandInThePackages(t *testing.T) {
	overrides := map[string]string{
		"npm/launcher.js.tmpl": "#!/usr/bin/env node\n// marker-launcher <%.Binary%> of <%.Product%>, <%.EnvPrefix%>BINARY_PATH\n",
		"npm/install.js.tmpl":  "// marker-postinstall <%.NPMPackage%>\n",
		"npm/meta.json.tmpl": `{"name": "ignored", "keywords": ["marker-meta-<%.Product%>"], "bin": {"<%.Binary%>": "bin/<%.Binary%>.js"},
			"scripts": {"postinstall": "node install.js"},
			"files": ["bin/<%.Binary%>.js", "lib/platform.js", "lib/platforms.json", "lib/tarball.js", "install.js", "LICENSE"]}`,
		"npm/platform.json.tmpl": `{"name": "ignored", "description": "marker-platform: <%.Binary%> for PLATFORM", "keywords": ["marker-platform"]}`,
	}
	yaml := acme + acmeNPM + acmeTargets + `templates:
  npm_launcher: npm/launcher.js.tmpl
  npm_postinstall: npm/install.js.tmpl
  npm_package_json: npm/meta.json.tmpl
  npm_platform_package_json: npm/platform.json.tmpl
`
	ctx := testContext(t, yaml, overrides, nil)
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	meta := members(t, ctx, "@acme/cli")
	if got := meta["bin/acme-cli.js"]; got != "#!/usr/bin/env node\n// marker-launcher acme-cli of acme, ACME_CLI_BINARY_PATH\n" {
		t.Errorf("the launcher is not the project's, rendered: %q", got)
	}
	if got := meta["install.js"]; got != "// marker-postinstall @acme/cli\n" {
		t.Errorf("install.js is not the project's, rendered: %q", got)
	}
	pj := packageJSON(t, meta)
	if kw, _ := json.Marshal(pj["keywords"]); string(kw) != `["marker-meta-acme"]` || pj["name"] != "@acme/cli" || pj["version"] != testVersion {
		t.Errorf("the meta package.json is not the project's, with the packager's name and version:\n%s", meta["package.json"])
	}
	platform := members(t, ctx, "@acme/cli-linux-x64")
	pj = packageJSON(t, platform)
	if kw, _ := json.Marshal(pj["keywords"]); string(kw) != `["marker-platform"]` || pj["description"] != "marker-platform: acme-cli for linux-x64" {
		t.Errorf("the platform package.json is not the project's, rendered:\n%s", platform["package.json"])
	}
	if os, _ := json.Marshal(pj["os"]); pj["name"] != "@acme/cli-linux-x64" || string(os) != `["linux"]` || pj["preferUnplugged"] != true {
		t.Errorf("the packager's own fields of a platform package.json must win over the project's:\n%s", platform["package.json"])
	}
}

// A project's own postinstall still ships with the packager's package.json,
// which has none: install.js joins "files" and runs as postinstall. Without
// it, a package.json that lists install.js is an error naming the key.
func TestAProjectsPostinstallShipsWithThePackagersPackageJSON(t *testing.T) {
	yaml := acme + acmeNPM + acmeTargets + "templates: {npm_postinstall: npm/install.js.tmpl}\n"
	ctx := testContext(t, yaml, map[string]string{"npm/install.js.tmpl": "// marker-postinstall <%.NPMPackage%>\n"}, nil)
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	meta := members(t, ctx, "@acme/cli")
	pj := packageJSON(t, meta)
	files, _ := json.Marshal(pj["files"])
	if meta["install.js"] != "// marker-postinstall @acme/cli\n" || !strings.Contains(string(files), `"install.js"`) ||
		pj["scripts"].(map[string]any)["postinstall"] != "node install.js" {
		t.Errorf("the project's postinstall did not ship:\n%s\ninstall.js: %q", meta["package.json"], meta["install.js"])
	}

	listed := `{"name": "x", "bin": {"<%.Binary%>": "bin/<%.Binary%>.js"}, "files": ["bin/<%.Binary%>.js", "lib/platform.js", "install.js"]}`
	ctx = testContext(t, acme+acmeNPM+acmeTargets+"templates: {npm_package_json: meta.json.tmpl}\n", map[string]string{"meta.json.tmpl": listed}, nil)
	if err := (Pipe{}).Run(ctx); err == nil || !strings.Contains(err.Error(), "set templates.npm_postinstall") {
		t.Errorf("a package.json listing install.js without templates.npm_postinstall: %v", err)
	}
}

// A project's template that does not render, or renders no JSON object, is
// an error naming the project's file.
func TestAProjectsBrokenNPMTemplateIsNamed(t *testing.T) {
	for _, tc := range []struct{ key, file, text, want string }{
		{"npm_launcher", "launcher.js.tmpl", "<%.Nope%>", "can't evaluate field Nope"},
		{"npm_postinstall", "install.js.tmpl", "<%if%>", "missing value for if"},
		{"npm_package_json", "meta.json.tmpl", "<%.NPMPackage", "unclosed action"},
		{"npm_package_json", "meta.json.tmpl", `{"name": "<%.NPMPackage%>",}`, "is not a JSON object"},
		{"npm_platform_package_json", "platform.json.tmpl", `["<%.Binary%>"]`, "is not a JSON object"},
	} {
		t.Run(tc.key+" "+tc.want, func(t *testing.T) {
			ctx := testContext(t, acme+acmeNPM+acmeTargets+"templates: {"+tc.key+": "+tc.file+"}\n", map[string]string{tc.file: tc.text}, nil)
			err := (Pipe{}).Run(ctx)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(ctx.Root, tc.file)) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %s: %s", err, filepath.Join(ctx.Root, tc.file), tc.want)
			}
		})
	}
}

// A binary named otherwise than the product is the command, the launcher's
// file and the binary's file; the product names only the package's page.
func TestTheBinaryNameIsTheCommand(t *testing.T) {
	ctx := testContext(t, acme+acmeNPM+acmeTargets, nil, nil)
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	meta := members(t, ctx, "@acme/cli")
	// No install.js: the packager's package has no install script (pnpm,
	// Yarn, bun and deno skip them); the launcher's first run does its work.
	if want := []string{"LICENSE", "README.md", "bin/acme-cli.js", "lib/firstrun.js", "lib/platform.js", "lib/platforms.json", "lib/tarball.js", "package.json"}; !slices.Equal(slices.Sorted(maps.Keys(meta)), want) {
		t.Errorf("the meta package holds %v, want %v", slices.Sorted(maps.Keys(meta)), want)
	}
	if scripts, ok := packageJSON(t, meta)["scripts"]; ok {
		t.Errorf("the meta package has install scripts %v; pnpm 10+, Yarn 4, bun and deno skip them", scripts)
	}
	if bin, _ := json.Marshal(packageJSON(t, meta)["bin"]); string(bin) != `{"acme-cli":"bin/acme-cli.js"}` {
		t.Errorf("the meta package installs %s, want the command acme-cli", bin)
	}
	for file, wants := range map[string][]string{
		"bin/acme-cli.js": {"process.env.ACME_CLI_BINARY_PATH", "`acme-cli: ${why}", "`acme-cli: ${err.message}"},
		"lib/firstrun.js": {"replace bin/acme-cli.js with a launcher that starts no Node", "`yarn acme-cli` runs the file with node"},
		"lib/platform.js": {"(bin/acme-cli.js)", "Install acme-cli ${v} without npm", "$env:ACME_CLI_VERSION"},
		"README.md":       {"# acme", "native `acme-cli` binary", "acme-cli --version"},
	} {
		for _, w := range wants {
			if !strings.Contains(meta[file], w) {
				t.Errorf("%s lacks %q", file, w)
			}
		}
	}
	win := members(t, ctx, "@acme/cli-win32-x64")
	if _, ok := win["bin/acme-cli.exe"]; !ok || !strings.Contains(win["README.md"], "The native `acme-cli` binary for windows-x64") {
		t.Errorf("the windows package holds %v, README %q", slices.Sorted(maps.Keys(win)), win["README.md"])
	}
	var table map[string]PlatformEntry
	if err := json.Unmarshal([]byte(meta["lib/platforms.json"]), &table); err != nil || table["win32-x64"].Binary != "bin/acme-cli.exe" {
		t.Errorf("platforms.json maps win32-x64 to %+v (%v)", table["win32-x64"], err)
	}
}

// Targets without npm names have no platform package; ARM targets record
// their GOARM for the launcher's check.
func TestOnlyTargetsWithNPMNamesHavePackages(t *testing.T) {
	targets := `targets:
  - {name: linux-x64,     goos: linux,   goarch: amd64,   npm_os: linux,   npm_cpu: x64}
  - {name: linux-x86,     goos: linux,   goarch: "386",   npm_os: linux,   npm_cpu: ia32}
  - {name: linux-armv6,   goos: linux,   goarch: arm,     goarm: "6"}
  - {name: linux-armv7,   goos: linux,   goarch: arm,     goarm: "7", npm_os: linux, npm_cpu: arm}
  - {name: linux-riscv64, goos: linux,   goarch: riscv64, npm_os: linux,   npm_cpu: riscv64}
  - {name: linux-ppc64le, goos: linux,   goarch: ppc64le, npm_os: linux,   npm_cpu: ppc64}
  - {name: linux-s390x,   goos: linux,   goarch: s390x,   npm_os: linux,   npm_cpu: s390x}
  - {name: linux-loong64, goos: linux,   goarch: loong64, npm_os: linux,   npm_cpu: loong64}
  - {name: freebsd-x64,   goos: freebsd, goarch: amd64,   npm_os: freebsd, npm_cpu: x64}
  - {name: openbsd-x64,   goos: openbsd, goarch: amd64,   npm_os: openbsd, npm_cpu: x64}
  - {name: netbsd-x64,    goos: netbsd,  goarch: amd64}
  - {name: windows-x86,   goos: windows, goarch: "386",   npm_os: win32,   npm_cpu: ia32}
`
	ctx := testContext(t, acme+acmeNPM+targets, nil, nil)
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range ctx.Artifacts.Filter(artifact.ByKind(artifact.NPM)) {
		got = append(got, a.Name)
	}
	slices.Sort(got)
	want := []string{}
	for _, k := range []string{"freebsd-x64", "linux-arm", "linux-ia32", "linux-loong64", "linux-ppc64", "linux-riscv64", "linux-s390x", "linux-x64", "openbsd-x64", "win32-ia32"} {
		want = append(want, "acme-cli-"+k+"-"+testVersion+".tgz")
	}
	want = append(want, "acme-cli-"+testVersion+".tgz")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("npm packages:\n got %v\nwant %v", got, want)
	}
	meta := members(t, ctx, "@acme/cli")
	var pj struct{ OptionalDependencies map[string]string }
	json.Unmarshal([]byte(meta["package.json"]), &pj)
	if len(pj.OptionalDependencies) != 10 || pj.OptionalDependencies["@acme/cli-linux-arm"] != testVersion {
		t.Errorf("optionalDependencies: %v", pj.OptionalDependencies)
	}
	var table map[string]PlatformEntry
	if err := json.Unmarshal([]byte(meta["lib/platforms.json"]), &table); err != nil {
		t.Fatal(err)
	}
	if len(table) != 10 || table["linux-arm"].GOARM != "7" || table["linux-arm"].Target != "linux-armv7" || table["linux-x64"].GOARM != "" {
		t.Errorf("platforms.json: %s", meta["lib/platforms.json"])
	}
	if strings.Contains(meta["lib/platforms.json"], "goarm\": \"\"") {
		t.Errorf("platforms.json writes an empty goarm: %s", meta["lib/platforms.json"])
	}
	if !strings.Contains(meta["lib/platform.js"], "'linux-x64 linux-x86 linux-armv6 linux-armv7 linux-riscv64 linux-ppc64le linux-s390x linux-loong64 freebsd-x64 openbsd-x64 netbsd-x64 windows-x86'") {
		t.Errorf("lib/platform.js does not name every target of the release for the archives' remedy")
	}
}

// npm names that are not Node's for the target's GOOS and GOARCH are
// refused with the names to write.
func TestNPMNamesMustBeNodes(t *testing.T) {
	for _, tc := range []struct{ target, want string }{
		{"{name: linux-x64, goos: linux, goarch: amd64, npm_os: linux, npm_cpu: amd64}", "target linux-x64: npm_os linux and npm_cpu amd64 are not Node's names for linux/amd64: set npm_os: linux and npm_cpu: x64"},
		{"{name: windows-x64, goos: windows, goarch: amd64, npm_os: windows, npm_cpu: x64}", "set npm_os: win32 and npm_cpu: x64"},
		{"{name: plan9-x64, goos: plan9, goarch: amd64, npm_os: plan9, npm_cpu: x64}", "Node does not run on plan9/amd64, so npm cannot install it: leave npm_os and npm_cpu empty"},
	} {
		ctx := testContext(t, acme+acmeNPM+"targets:\n  - "+tc.target+"\n", nil, nil)
		if err := (Pipe{}).Run(ctx); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.target, err, tc.want)
		}
	}
}

// With the npm door off, the step writes nothing and needs no npm names.
func TestTheNPMDoorOffWritesNothing(t *testing.T) {
	ctx := testContext(t, acme+acmeTargets+"doors: {npm: false}\n", nil, nil)
	var log bytes.Buffer
	ctx.Log = &log
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(ctx.Release); len(entries) != 0 {
		t.Errorf("the release holds %v", entries)
	}
	if got := ctx.Artifacts.Filter(artifact.ByKind(artifact.NPM)); len(got) != 0 {
		t.Errorf("npm artifacts: %v", got)
	}
	if !strings.Contains(log.String(), "skipped: doors.npm is false in release.yaml") {
		t.Errorf("the step does not say why it wrote nothing: %q", log.String())
	}
}

// A platform package ships the whole tree, extra files included, and
// lib/platforms.json lists them for postinstall's fetch. A README.md of the
// tree is the package's own.
func TestExtraFilesShipInThePlatformPackages(t *testing.T) {
	tree := map[string]string{
		"share/man/man1/acme-cli.1":         ".TH ACME-CLI 1\n",
		"share/completions/acme-cli.bash":   "complete -F _acme acme-cli\n",
		"README.md":                         "# acme, the product's own README\n",
		"share/doc/acme/package.json.notes": "not a package.json\n",
	}
	ctx := testContext(t, acme+acmeNPM+acmeTargets, nil, tree)
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	platform := members(t, ctx, "@acme/cli-linux-x64")
	for name, text := range tree {
		if platform[name] != text {
			t.Errorf("the platform package's %s is %q, want the tree's %q", name, platform[name], text)
		}
	}
	var table map[string]PlatformEntry
	json.Unmarshal([]byte(members(t, ctx, "@acme/cli")["lib/platforms.json"]), &table)
	listed := slices.Sorted(maps.Keys(table["linux-x64"].Files))
	if want := slices.Sorted(maps.Keys(platform)); !slices.Equal(listed, want) {
		t.Errorf("platforms.json lists %v, the package holds %v", listed, want)
	}

	ctx = testContext(t, acme+acmeNPM+acmeTargets, nil, map[string]string{"package.json": "{}"})
	if err := (Pipe{}).Run(ctx); err == nil || !strings.Contains(err.Error(), "the linux-x64 tree holds a package.json (release.yaml's files:), which would replace the platform package's own: give it another dst") {
		t.Errorf("a tree's package.json: %v", err)
	}
}

// The launcher offers an installer only where the release publishes one
// that serves the machine's OS.
func TestTheLauncherOffersOnlyPublishedInstallers(t *testing.T) {
	for _, tc := range []struct{ extra, sh, ps1 string }{
		{acmeTargets, "'linux'", "true"},
		{acmeTargets + "doors: {installers: false}\n", "''", "false"},
		{"targets:\n  - {name: darwin-arm64, goos: darwin, goarch: arm64, npm_os: darwin, npm_cpu: arm64}\n", "'darwin'", "false"},
	} {
		ctx := testContext(t, acme+acmeNPM+tc.extra, nil, nil)
		if err := (Pipe{}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		js := members(t, ctx, "@acme/cli")["lib/platform.js"]
		for _, w := range []string{"const installSH = " + tc.sh + ".split(' ');", "const installPS1 = " + tc.ps1 + ";"} {
			if !strings.Contains(js, w) {
				t.Errorf("%s: lib/platform.js lacks %q", tc.extra, w)
			}
		}
	}
}

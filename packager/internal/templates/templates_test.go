package templates

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
)

var update = flag.Bool("update", false, "rewrite installers/ and npm-template/ from the templates")

// repoRoot is the repository's root, where release.yaml is.
const repoRoot = "../../.."

// The repository's installers/ are our release's installers, rendered from
// the templates: one source. Regenerate with
// go test ./packager/internal/templates -run TestRepositoryInstallersAreRendered -update
func TestRepositoryInstallersAreRendered(t *testing.T) {
	c, err := config.Load(filepath.Join(repoRoot, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Names {
		got, err := Render(c, repoRoot, name)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(repoRoot, "installers", name)
		if *update {
			if err := os.WriteFile(p, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("installers/%s is not the rendering of the packager's template for release.yaml: edit packager/internal/templates/files/%s.tmpl and rerun with -update", name, name)
		}
	}
}

// The repository's npm-template/ is our release's npm files, rendered from
// the templates: one source. Regenerate with
// go test ./packager/internal/templates -run TestRepositoryNPMTemplateIsRendered -update
func TestRepositoryNPMTemplateIsRendered(t *testing.T) {
	c, err := config.Load(filepath.Join(repoRoot, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range NPMNames {
		got, err := Render(c, repoRoot, name)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(repoRoot, "npm-template", filepath.FromSlash(NPMPath(c, name)))
		if *update {
			if err := os.WriteFile(p, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("npm-template/%s is not the rendering of the packager's template for release.yaml: edit packager/internal/templates/files/%s.tmpl and rerun with -update", NPMPath(c, name), name)
		}
	}
}

// acme is another product, declared as its maintainer would.
const acme = `product: acme
binary: acme
repository: https://git.example.org/acme-corp/acme
license_file: LICENSE
targets:
  - {name: linux-x64,   goos: linux,   goarch: amd64, npm_os: linux, npm_cpu: x64}
  - {name: darwin-arm64, goos: darwin, goarch: arm64, npm_os: darwin, npm_cpu: arm64}
  - {name: windows-x64, goos: windows, goarch: amd64, npm_os: win32, npm_cpu: x64}
npm: {scope: "@acme", package: acme}
signing:
  certificate_identity_regexp: ^https://git\.example\.org/acme-corp/acme/release@refs/tags/v
  certificate_oidc_issuer: https://issuer.example.org
`

func loadYAML(t *testing.T, yaml string) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "release.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func TestAnotherProductsInstallersNameItAlone(t *testing.T) {
	c, dir := loadYAML(t, acme)
	if c.EnvPrefix != "ACME_" {
		t.Fatalf("env_prefix defaults to %q, want ACME_", c.EnvPrefix)
	}
	tern := regexp.MustCompile(`(?i)tern`)
	for _, name := range Names {
		out, err := Render(c, dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if loc := tern.FindIndex(out); loc != nil {
			line := 1 + bytes.Count(out[:loc[0]], []byte("\n"))
			t.Errorf("%s rendered for acme names tern on line %d", name, line)
		}
		for _, want := range []string{"ACME_VERSION", "https://git.example.org/acme-corp/acme/releases", "acme-install", `^https://git\.example\.org/acme-corp/acme/release@refs/tags/v`, "https://issuer.example.org"} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("%s rendered for acme does not hold %q", name, want)
			}
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sh := filepath.Join(dir, "install.sh")
	if b, _ := os.ReadFile(sh); !bytes.Contains(b, []byte(`SUPPORTED_TARGETS="linux-x64 darwin-arm64"`)) {
		t.Errorf("install.sh does not support acme's targets")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "install.ps1")); !bytes.Contains(b, []byte(`$SupportedTargets = 'windows-x64'`)) {
		t.Errorf("install.ps1 does not support acme's targets")
	}
	tool := func(name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("TERN_TEST_REQUIRE_TOOLS") == "1" {
				t.Fatalf("%s is not installed", name)
			}
			t.Skipf("%s is not installed", name)
		}
		return p
	}
	if out, err := exec.Command(tool("dash"), "-n", sh).CombinedOutput(); err != nil {
		t.Errorf("dash -n install.sh: %v\n%s", err, out)
	}
	if out, err := exec.Command(tool("shellcheck"), "--shell=sh", sh).CombinedOutput(); err != nil {
		t.Errorf("shellcheck install.sh: %v\n%s", err, out)
	}
}

func TestAnotherProductsNPMFilesNameItAlone(t *testing.T) {
	c, dir := loadYAML(t, acme)
	tern := regexp.MustCompile(`(?i)tern`)
	all := map[string][]byte{}
	for _, name := range NPMNames {
		out, err := Render(c, dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if loc := tern.FindIndex(out); loc != nil {
			line := 1 + bytes.Count(out[:loc[0]], []byte("\n"))
			t.Errorf("%s rendered for acme names tern on line %d", name, line)
		}
		all[NPMPath(c, name)] = out
	}
	if _, ok := all["meta/bin/acme.js"]; !ok {
		t.Fatalf("the launcher renders to %v, want meta/bin/acme.js", all)
	}
	for path, want := range map[string][]string{
		"meta/bin/acme.js":      {"process.env.ACME_BINARY_PATH", "`acme: ${why}"},
		"meta/install.js":       {"'bin', 'acme.js'"},
		"meta/README.md":        {"# acme", "npm install -g @acme/acme", "ACME_BINARY_PATH", "acme, a native binary for your platform."},
		"meta/package.json":     {`"name": "@acme/acme"`, `"acme": "bin/acme.js"`, `"license": "SEE LICENSE IN LICENSE"`, `"bin/acme.js",`},
		"platform/package.json": {`"name": "@acme/acme-PLATFORM"`, "The acme binary for PLATFORM. Install @acme/acme, which selects it."},
	} {
		for _, w := range want {
			if !bytes.Contains(all[path], []byte(w)) {
				t.Errorf("%s rendered for acme does not hold %q:\n%s", path, w, all[path])
			}
		}
	}
}

func TestAProjectsOwnTemplateReplacesThePackagers(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.sh.tmpl"), []byte("#!/bin/sh\necho <%.Product%> <%.EnvPrefix%>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, dir := loadYAMLIn(t, dir, acme+"templates: {install_sh: mine.sh.tmpl}\n")
	out, err := Render(c, dir, "install.sh")
	if err != nil || string(out) != "#!/bin/sh\necho acme ACME_\n" {
		t.Fatalf("%q, %v", out, err)
	}
}

func loadYAMLIn(t *testing.T, dir, yaml string) (*config.Config, string) {
	t.Helper()
	p := filepath.Join(dir, "release.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func TestConfigRefusesBadTemplatesAndPrefixes(t *testing.T) {
	for _, tc := range []struct{ extra, want string }{
		{"templates: {install_sh: missing.tmpl}\n", "release.yaml: templates.install_sh: missing.tmpl is not a file"},
		{"templates: {install_bat: x}\n", "field install_bat not found"},
		{"env_prefix: acme\n", `env_prefix "acme" must be upper-case`},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, "release.yaml")
		if err := os.WriteFile(p, []byte(acme+tc.extra), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := config.Load(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: %v, want %q naming the file", tc.extra, err, tc.want)
		}
	}
}

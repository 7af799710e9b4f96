package templates

import (
	"bytes"
	"flag"
	"fmt"
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
	return loadYAMLIn(t, t.TempDir(), yaml)
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
		"meta/lib/firstrun.js":  {"replace bin/acme.js with a launcher that starts no Node"},
		"meta/lib/platform.js":  {"yarn dlx -p ${p} acme (Yarn 4 has no global installs", "deno install -g -A -n acme npm:${p}"},
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

// every is a product whose command has another name, whose binary states
// its version its own way, and whose targets span install.sh's platforms,
// with names of its own choosing.
const every = `product: acme
binary: acmectl
repository: https://git.example.org/acme-corp/acme
license_file: LICENSE
doors: {npm: false}
version_check: {args: [version, --short], contains: "acmectl v{{.Version}}"}
targets:
  - {name: linux-x64,    goos: linux,   goarch: amd64}
  - {name: linux-x86,    goos: linux,   goarch: "386"}
  - {name: linux-arm64,  goos: linux,   goarch: arm64}
  - {name: linux-armv6,  goos: linux,   goarch: arm, goarm: "6"}
  - {name: linux-armv5,  goos: linux,   goarch: arm, goarm: "5"}
  - {name: linux-riscv,  goos: linux,   goarch: riscv64}
  - {name: freebsd-x64,  goos: freebsd, goarch: amd64}
  - {name: netbsd-armv6, goos: netbsd,  goarch: arm, goarm: "6"}
  - {name: mac-intel,    goos: darwin,  goarch: amd64}
  - {name: mac-arm,      goos: darwin,  goarch: arm64}
  - {name: win-x64,      goos: windows, goarch: amd64}
signing:
  certificate_identity_regexp: ^https://git\.example\.org/acme-corp/acme/release@refs/tags/v
  certificate_oidc_issuer: https://issuer.example.org
`

// shells are the shells install.sh must run under, as argv prefixes.
func shells(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, name := range []string{"dash", "bash", "busybox"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("TERN_TEST_REQUIRE_TOOLS") == "1" {
				t.Fatalf("%s is not installed", name)
			}
			t.Logf("%s is not installed: not run under it", name)
			continue
		}
		out[name] = []string{p}
		if name == "busybox" {
			out[name] = []string{p, "sh"}
		}
	}
	if len(out) == 0 {
		t.Skip("no dash, bash or busybox to run install.sh with")
	}
	return out
}

// shFunction is the text of the function name in a rendered install.sh:
// from its `name() {` line to the first line that is a lone `}`.
func shFunction(t *testing.T, script []byte, name string) string {
	t.Helper()
	s := string(script)
	start := strings.Index(s, "\n"+name+"() {\n")
	if start < 0 {
		t.Fatalf("install.sh has no function %s", name)
	}
	end := strings.Index(s[start:], "\n}\n")
	return s[start+1 : start+end+3]
}

// install.sh's reports_version is config.VersionCheck.Reports, written in
// sh: the two agree on every output, under every shell and locale.
func TestInstallShAppliesTheVersionRuleAsVerifyDoes(t *testing.T) {
	sh := shells(t)
	for _, rule := range []config.VersionCheck{
		config.DefaultVersionCheck,
		{Args: []string{"version", "--short"}, Contains: "acmectl v{{.Version}}"},
		{Args: []string{"-V"}, Contains: "ver*[{{.Version}}]"}, // glob characters are text
		{Args: []string{"-V"}, Contains: "{{.Version}}/{{.Version}}"},
	} {
		c, dir := loadYAML(t, acme)
		c.VersionCheck = &rule
		script, err := Render(c, dir, "install.sh")
		if err != nil {
			t.Fatal(err)
		}
		var contains string
		for _, l := range strings.Split(string(script), "\n") {
			if strings.HasPrefix(l, "VERSION_CONTAINS=") {
				contains = l
			}
		}
		if contains != "VERSION_CONTAINS='"+rule.Contains+"'" {
			t.Fatalf("install.sh states the version check output as %q, want %q", contains, rule.Contains)
		}
		prog := contains + "\n" + shFunction(t, script, "version_text") + shFunction(t, script, "reports_version") +
			`while [ $# -gt 0 ]; do
	if reports_version "$1" "$2"; then echo yes; else echo no; fi
	shift 2
done
`
		p := filepath.Join(t.TempDir(), "rule.sh")
		if err := os.WriteFile(p, []byte(prog), 0o644); err != nil {
			t.Fatal(err)
		}

		type pair struct{ output, version string }
		var cases []pair
		versions := []string{"1.2.3", "1.2.3-rc.1", "2.0.0"}
		for _, v := range versions {
			want := rule.Expect(v)
			for _, out := range []string{
				want, "x" + want + " y", want + "\n", want + "\n4", want + " (abc)", want + ")", want + ",",
				want + "0", want + "9", want + "-rc.1", want + "+build", want + ".4", want + "a", want + "Z", want + "_x", want + "é",
				want[:len(want)-1], rule.Expect(v+"0") + " " + want, want + " " + rule.Expect(v+"0"),
				"update notice " + rule.Expect(v+"0") + " ... acme " + want, "update notice " + rule.Expect(v+"0") + " ... acme " + rule.Expect(v+"1"),
				rule.Expect(v+"-rc.1") + want + "é", "é" + rule.Expect(v+".4") + "\n" + want + "\n", want + want + "0", want + "0" + want,
				"v1.2.3)", "tern 1.2.3 (stamp)", "1.2.30", "1.2.3-rc.1", "", "verX[1.2.3]", "1.2.3/1.2.4",
			} {
				for _, version := range versions {
					cases = append(cases, pair{out, version})
				}
			}
		}
		var args []string
		yes := 0
		for _, c := range cases {
			args = append(args, c.output, c.version)
			if rule.Reports(c.output, c.version) {
				yes++
			}
		}
		if yes == 0 || yes == len(cases) {
			t.Fatalf("the table has %d cases of %d that state the version: it tests nothing", yes, len(cases))
		}
		for name, argv := range sh {
			for _, locale := range []string{"C", "C.UTF-8"} {
				cmd := exec.Command(argv[0], append(append(argv[1:], p), args...)...)
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=" + locale}
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s: %v\n%s", name, err, out)
				}
				got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
				if len(got) != len(cases) {
					t.Fatalf("%s: %d answers to %d cases:\n%s", name, len(got), len(cases), out)
				}
				for i, c := range cases {
					if want := rule.Reports(c.output, c.version); (got[i] == "yes") != want {
						t.Errorf("%s, LC_ALL=%s, contains %q: output %q, version %s: install.sh says %s, verify's rule says %v",
							name, locale, rule.Contains, c.output, c.version, got[i], want)
					}
				}
			}
		}
	}
}

// install.sh finds the machine's target in the release's table, by Go's
// name of the platform: target names are the project's, an arm takes an
// older arm's build (never a newer one), and a machine without a build is
// told which it is and what the release has.
func TestInstallShDetectsTheMachine(t *testing.T) {
	sh := shells(t)
	c, dir := loadYAML(t, every)
	script, err := Render(c, dir, "install.sh")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "install.sh")
	if err := os.WriteFile(p, script, 0o644); err != nil {
		t.Fatal(err)
	}
	const has = "this release has: linux-x64 linux-x86 linux-arm64 linux-armv6 linux-armv5 linux-riscv freebsd-x64 netbsd-armv6 mac-intel mac-arm"
	for _, tc := range []struct {
		name, s, m, p string
		rosetta       bool
		want          string // the target, or the error
	}{
		{"x86_64", "Linux", "x86_64", "unknown", false, "linux-x64"},
		{"i686", "Linux", "i686", "unknown", false, "linux-x86"},
		{"aarch64", "Linux", "aarch64", "unknown", false, "linux-arm64"},
		{"armv7l falls back to v6", "Linux", "armv7l", "unknown", false, "linux-armv6"},
		{"armv8l (32-bit) falls back to v6", "Linux", "armv8l", "unknown", false, "linux-armv6"},
		{"armv6l", "Linux", "armv6l", "unknown", false, "linux-armv6"},
		{"armv5tel takes v5, not v6", "Linux", "armv5tel", "unknown", false, "linux-armv5"},
		{"riscv64", "Linux", "riscv64", "unknown", false, "linux-riscv"},
		{"FreeBSD amd64", "FreeBSD", "amd64", "amd64", false, "freebsd-x64"},
		{"NetBSD evbarm armv7", "NetBSD", "evbarm", "earmv7hf", false, "netbsd-armv6"},
		{"macOS Intel", "Darwin", "x86_64", "i386", false, "mac-intel"},
		{"macOS under Rosetta", "Darwin", "x86_64", "i386", true, "mac-arm"},
		{"macOS arm64", "Darwin", "arm64", "arm", false, "mac-arm"},
		{"an arch without a build", "Linux", "s390x", "unknown", false,
			"error: no acme build for this machine, Linux on s390x (Go's linux_s390x); " + has},
		{"an OS without this arch", "FreeBSD", "arm64", "aarch64", false,
			"error: no acme build for this machine, FreeBSD on arm64 (Go's freebsd_arm64); " + has},
		{"an unknown arch", "Linux", "mips", "unknown", false,
			"error: no acme build for Linux on mips, which this installer does not know; " + has},
		{"an unknown OS", "SunOS", "i86pc", "i386", false, "error: no acme build for SunOS on i86pc; " + has},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := t.TempDir()
			uname := fmt.Sprintf("#!/bin/sh\ncase $1 in\n-sm) echo '%s %s' ;;\n-s) echo '%s' ;;\n-m) echo '%s' ;;\n-p) echo '%s' ;;\nesac\n", tc.s, tc.m, tc.s, tc.m, tc.p)
			translated := "0"
			if tc.rosetta {
				translated = "1"
			}
			sysctl := "#!/bin/sh\n[ \"$*\" = '-n sysctl.proc_translated' ] && echo " + translated + "\n"
			for name, body := range map[string]string{"uname": uname, "sysctl": sysctl} {
				if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			// What install.sh runs up to the first download, which has no
			// curl or wget to run, so stops there.
			for _, tool := range []string{"mktemp", "rm"} {
				found, err := exec.LookPath(tool)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(found, filepath.Join(bin, tool)); err != nil {
					t.Fatal(err)
				}
			}
			for name, argv := range sh {
				home := t.TempDir()
				cmd := exec.Command(argv[0], append(argv[1:], p, "--version", "1.2.3")...)
				cmd.Env = []string{"PATH=" + bin, "HOME=" + home, "TMPDIR=" + home, "ACMECTL_DOWNLOAD_URL=http://127.0.0.1:1"}
				out, _ := cmd.CombinedOutput()
				want := "acme-install: installing acme 1.2.3 for " + tc.want + " from http://127.0.0.1:1/download/v1.2.3\n"
				if strings.HasPrefix(tc.want, "error: ") {
					want = "acme-install: " + tc.want + "\n"
				}
				if !strings.Contains(string(out), want) {
					t.Errorf("%s: want %q, got:\n%s", name, want, out)
				}
			}
		})
	}
}

// An override is read against release.yaml's directory, where Load checked
// it, whatever the repository root is; and never through a link that
// leads out of that directory, put there after Load.
func TestOverridesAreReadInsideReleaseYAMLsDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "release")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for p, body := range map[string]string{
		filepath.Join(dir, "mine.sh.tmpl"):  "#!/bin/sh\necho beside release.yaml <%.Product%>\n",
		filepath.Join(root, "mine.sh.tmpl"): "#!/bin/sh\necho at the root\n",
		filepath.Join(root, "secret"):       "host secret",
	} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := loadYAMLIn(t, dir, acme+"templates: {install_sh: mine.sh.tmpl}\n")
	out, err := Render(c, root, "install.sh")
	if err != nil || string(out) != "#!/bin/sh\necho beside release.yaml acme\n" {
		t.Fatalf("%q, %v", out, err)
	}
	if got, want := Origin(c, root, "install.sh"), filepath.Join(dir, "mine.sh.tmpl"); got != want {
		t.Errorf("Origin = %s, want %s", got, want)
	}
	if err := os.Remove(filepath.Join(dir, "mine.sh.tmpl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "secret"), filepath.Join(dir, "mine.sh.tmpl")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if out, err := Render(c, root, "install.sh"); err == nil || !strings.Contains(err.Error(), "release.yaml's templates (install.sh): ") {
		t.Errorf("rendered %q through a link out of release.yaml's directory (%v)", out, err)
	}
}

// FactsOf refuses, with release.yaml's key, a fact a config made without
// Load holds that would end or escape a quote: the same check as Load's.
func TestFactsOfRefusesWhatCannotBeQuoted(t *testing.T) {
	for _, tc := range []struct {
		set  func(*config.Config)
		want string
	}{
		{func(c *config.Config) { c.Product = `ac\me` }, `release.yaml's product "ac\\me" holds '\\'`},
		{func(c *config.Config) { c.NPM.Package = "acme\u2019" }, "release.yaml's npm.package \"acme\u2019\" holds '\u2019'"},
		{func(c *config.Config) { c.Repository = "https://x/$HOME" }, `release.yaml's repository "https://x/$HOME" holds '$'`},
		{func(c *config.Config) {
			c.VersionCheck = &config.VersionCheck{Args: []string{"-V"}, Contains: "\u201b{{.Version}}"}
		}, "release.yaml's version_check.contains \"\u201b{{.Version}}\" holds '\u201b'"},
	} {
		c, _ := loadYAML(t, acme)
		tc.set(c)
		if _, err := FactsOf(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FactsOf = %v, want %q", err, tc.want)
		}
	}
	c, _ := loadYAML(t, acme)
	if _, err := FactsOf(c); err != nil {
		t.Errorf("a regexp's backslashes refused: %v", err)
	}
}

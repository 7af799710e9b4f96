package verify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/templates"
)

// The installers rendered for a release state its facts; the same templates
// rendered for another product are refused, naming the file and each fact.
func TestInstallerFactsRefuseAnotherProductsScripts(t *testing.T) {
	tern, err := config.Load("../../../release.yaml")
	if err != nil {
		t.Fatal(err)
	}
	other := *tern
	other.Product, other.Binary, other.EnvPrefix = "acme", "acme", "ACME_"
	other.Repository = "https://git.example.org/acme/acme"
	other.Targets = tern.Targets[:1]
	other.Signing.CertificateIdentityRegexp = "^https://git\\.example\\.org/acme/"
	other.VersionCheck = &config.VersionCheck{Args: []string{"version", "--short"}, Contains: "acme v{{.Version}}"}
	render := func(c *config.Config) string {
		dir := t.TempDir()
		for _, name := range templates.Names {
			out, err := templates.Render(c, t.TempDir(), name)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	c := &checker{dir: render(tern), opts: Options{Config: tern}}
	c.installerFactsCheck()
	if len(c.problems) != 0 {
		t.Fatalf("tern's own installers are refused:\n%s", strings.Join(c.problems, "\n"))
	}
	c = &checker{dir: render(&other), opts: Options{Config: tern}}
	c.installerFactsCheck()
	got := strings.Join(c.problems, "\n")
	for _, want := range []string{
		"install.sh: names another product: PRODUCT=acme, want PRODUCT=tern (a template of another product?)",
		"install.sh: names another download URL: DEFAULT_DOWNLOAD_URL=https://git.example.org/acme/acme/releases, want DEFAULT_DOWNLOAD_URL=https://github.com/tern-agent/tern/releases",
		`install.sh: names another targets: SUPPORTED_TARGETS="linux-x64", want SUPPORTED_TARGETS="linux-x64 linux-arm64 darwin-x64 darwin-arm64"`,
		"install.sh: names another signing identity: CERT_IDENTITY_REGEXP='^https://git\\.example\\.org/acme/'",
		"install.sh: names another binary: BINARY=acme, want BINARY=tern",
		`install.sh: names another target table: TARGET_TABLE="linux_amd64=linux-x64", want TARGET_TABLE="linux_amd64=linux-x64 linux_arm64=linux-arm64 darwin_amd64=darwin-x64 darwin_arm64=darwin-arm64"`,
		"install.sh: names another version check output: VERSION_CONTAINS='acme v{{.Version}}', want VERSION_CONTAINS='{{.Version}}'",
		`install.sh: names another version check arguments: run_version_check() { "$1" 'version' '--short' </dev/null 2>&1; }, want run_version_check() { "$1" '--version' </dev/null 2>&1; }`,
		"install.ps1: names another binary: $Binary = 'acme', want $Binary = 'tern'",
		"install.ps1: names another target table: $TargetTable = '', want $TargetTable = 'windows_amd64=windows-x64 windows_arm64=windows-arm64'",
		"install.ps1: names another version check output: $VersionContains = 'acme v{{.Version}}', want $VersionContains = '{{.Version}}'",
		"install.ps1: names another version check arguments: $VersionArgs = @('version', '--short'), want $VersionArgs = @('--version')",
		"install.sh: names another env prefix: install_dir=${ACME_INSTALL_DIR:-$HOME/.local/bin}",
		"install.ps1: names another product: $Product = 'acme', want $Product = 'tern'",
		"install.ps1: names another env prefix:",
		"install.ps1: names another targets: $SupportedTargets = '', want $SupportedTargets = 'windows-x64 windows-arm64'",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want a problem %q, got:\n%s", want, got)
		}
	}
	os.Remove(filepath.Join(c.dir, "install.ps1"))
	if err := os.WriteFile(filepath.Join(c.dir, "install.ps1"), []byte("$PublicKeyPem = ''\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.problems = nil
	c.installerFactsCheck()
	if got := strings.Join(c.problems, "\n"); !strings.Contains(got, "install.ps1: states no product (no line $Product =…), want $Product = 'tern'") {
		t.Errorf("a script without its facts: %s", got)
	}
}

// A release whose doors.installers is false has no installers: verify asks
// for none, and refuses one it finds.
func TestInstallerFactsWithTheDoorOff(t *testing.T) {
	cfg, err := config.Load("../../../release.yaml")
	if err != nil {
		t.Fatal(err)
	}
	off := false
	cfg.Doors.Installers = &off
	dir := t.TempDir()
	c := &checker{dir: dir, opts: Options{Config: cfg}}
	c.installerFactsCheck()
	if len(c.problems) != 0 {
		t.Fatalf("a release without installers is refused:\n%s", strings.Join(c.problems, "\n"))
	}
	out, err := templates.Render(cfg, t.TempDir(), "install.sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "install.sh"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	c.installerFactsCheck()
	want := "install.sh: doors.installers is false, but the release holds install.sh: verify with the release.yaml the release was made with, or cut the release again"
	if got := strings.Join(c.problems, "\n"); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

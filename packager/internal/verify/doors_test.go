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

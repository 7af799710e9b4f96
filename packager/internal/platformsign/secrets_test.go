package platformsign

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
)

func TestSecretsFromEnvReadsPathsAndBase64(t *testing.T) {
	p := filepath.Join(t.TempDir(), "id.p12")
	if err := os.WriteFile(p, []byte("p12 bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		EnvMacP12: p, EnvWinP12: base64.StdEncoding.EncodeToString([]byte("win p12")),
		EnvNotaryKey: "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n",
	}
	s, err := SecretsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if string(s.MacP12) != "p12 bytes" || string(s.WinP12) != "win p12" || !strings.HasPrefix(string(s.NotaryKey), "-----BEGIN") || s.MacTSA != AppleTSA {
		t.Errorf("secrets %+v", s)
	}
	env[EnvWinP12] = "not/a/file and not base64!"
	if _, err := SecretsFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), EnvWinP12+": is neither a readable file, nor a key, nor base64") {
		t.Errorf("err = %v", err)
	}
}

// A release that asks for platform signatures without the secrets fails
// before building, naming every missing variable; a snapshot does not.
func TestCheckBeforeBuildNamesEveryMissingVariable(t *testing.T) {
	cfg := &config.Config{Targets: []config.Target{{Name: "darwin-arm64", GOOS: "darwin"}, {Name: "windows-x64", GOOS: "windows"}}, PlatformSigning: config.PlatformSigning{
		Darwin:  &config.DarwinSigning{Identity: "Developer ID Application: Acme (ABCDE12345)", TeamID: "ABCDE12345", Roots: "apple.pem"},
		Windows: &config.WindowsSigning{Identity: "Acme", Roots: "root.pem"},
	}}
	err := CheckBeforeBuild(cfg, false, Secrets{MacPassword: "x"})
	want := "MACOS_SIGN_P12, MACOS_NOTARY_KEY, MACOS_NOTARY_KEY_ID, MACOS_NOTARY_ISSUER_ID, WINDOWS_SIGN_P12, WINDOWS_SIGN_PASSWORD are not set"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if err := CheckBeforeBuild(cfg, true, Secrets{}); err != nil {
		t.Errorf("a snapshot was refused: %v", err)
	}
	off := false
	cfg.PlatformSigning.Darwin.Notarize = &off
	cfg.PlatformSigning.Windows = nil
	if err := CheckBeforeBuild(cfg, false, Secrets{MacP12: []byte("x")}); err == nil || !strings.Contains(err.Error(), "MACOS_SIGN_PASSWORD is not set") {
		t.Errorf("err = %v", err)
	}
}

// A split build of some targets needs only their operating systems'
// secrets: the release workflow gives each build job its own group's.
func TestCheckBeforeBuildAsksOnlyForTheTargetsBuilt(t *testing.T) {
	signing := config.PlatformSigning{
		Darwin:  &config.DarwinSigning{Identity: "Developer ID Application: Acme (ABCDE12345)", TeamID: "ABCDE12345", Roots: "apple.pem"},
		Windows: &config.WindowsSigning{Identity: "Acme", Roots: "root.pem"},
	}
	linux := &config.Config{Targets: []config.Target{{Name: "linux-x64", GOOS: "linux"}}, PlatformSigning: signing}
	if err := CheckBeforeBuild(linux, false, Secrets{}); err != nil {
		t.Errorf("the linux build was asked for secrets: %v", err)
	}
	windows := &config.Config{Targets: []config.Target{{Name: "windows-x64", GOOS: "windows"}}, PlatformSigning: signing}
	err := CheckBeforeBuild(windows, false, Secrets{})
	if err == nil || strings.Contains(err.Error(), "MACOS") || !strings.Contains(err.Error(), "WINDOWS_SIGN_P12, WINDOWS_SIGN_PASSWORD are not set") {
		t.Errorf("the windows build: %v", err)
	}
}

// A release given an identity release.yaml does not declare is refused
// before it builds, not by verify after.
func TestCheckBeforeBuildRefusesAnUndeclaredIdentity(t *testing.T) {
	cfg := &config.Config{Targets: []config.Target{{Name: "darwin-arm64", GOOS: "darwin"}, {Name: "windows-x64", GOOS: "windows"}}}
	err := CheckBeforeBuild(cfg, false, Secrets{MacP12: []byte("x"), WinP12: []byte("y")})
	for _, want := range []string{"MACOS_SIGN_P12 is set, but release.yaml has no platform_signing.darwin", "WINDOWS_SIGN_P12 is set, but release.yaml has no platform_signing.windows"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	if err := CheckBeforeBuild(cfg, true, Secrets{MacP12: []byte("x")}); err != nil {
		t.Errorf("a snapshot may try an identity: %v", err)
	}
}

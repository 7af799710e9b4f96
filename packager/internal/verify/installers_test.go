package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/installers"
	"github.com/tern-agent/tern/packager/internal/sign"
)

// release writes both installers into a directory, pinning pubPEM (or
// nothing).
func installerDir(t *testing.T, pubPEM []byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, script := range map[string]string{
		"install.sh":  "#!/bin/sh\nPUBLIC_KEY_PEM=''\n",
		"install.ps1": "$PublicKeyPem = ''\n",
	} {
		out, err := installers.Pin(name, name, []byte("\n"+script), pubPEM)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestInstallerKeys(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := sign.PublicKeyPEM(&key.PublicKey)
	for _, tc := range []struct {
		name   string
		pinned []byte
		opts   Options
		want   []string // "" for none
	}{
		{"keyed, pinning its key", pub, Options{PublicKey: &key.PublicKey}, nil},
		{"keyed, pinning nothing", nil, Options{PublicKey: &key.PublicKey}, nil},
		{"keyed, pinning another key", pub, Options{PublicKey: &other.PublicKey}, []string{
			"install.sh: pins another key than the one that signed this release",
			"install.ps1: pins another key than the one that signed this release"}},
		{"keyless, pinning nothing", nil, Options{CertificateIdentityRegexp: "x"}, nil},
		{"keyless, pinning a key", pub, Options{CertificateIdentityRegexp: "x"}, []string{
			"install.sh: pins a key, but this release is signed keyless"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &checker{dir: installerDir(t, tc.pinned), opts: tc.opts}
			c.installerKeys()
			got := strings.Join(c.problems, "\n")
			if len(tc.want) == 0 && got != "" {
				t.Fatalf("refused: %s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("the problems do not say %q:\n%s", w, got)
				}
			}
		})
	}
}

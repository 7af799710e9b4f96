package verify

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/authenticode"
	"github.com/tern-agent/tern/packager/internal/codesign"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/platformsign"
	"github.com/tern-agent/tern/packager/internal/testbin"
	"github.com/tern-agent/tern/packager/internal/testpki"
)

// goBinaries are a tiny program built for darwin/arm64 and windows/amd64,
// as a release builds them.
func goBinaries(t *testing.T) map[string][]byte {
	return map[string][]byte{
		"darwin":  testbin.Hello(t, "darwin", "arm64", "-s -w -buildid="),
		"windows": testbin.Hello(t, "windows", "amd64", "-s -w -buildid="),
	}
}

// Every refusal of a platform signature names the archive and says what is
// wrong, for a release (not a snapshot) whose release.yaml asks for both.
func TestPlatformSignatureRefusals(t *testing.T) {
	bins := goBinaries(t)
	ca := testpki.NewCA(t, "root")
	macID := ca.Issue(t, testpki.Leaf{CN: "Developer ID Application: Acme (ABCDE12345)", OU: "ABCDE12345"})
	cfg := &config.Config{PlatformSigning: config.PlatformSigning{
		Darwin:  &config.DarwinSigning{Identity: "Developer ID Application: Acme (ABCDE12345)", TeamID: "ABCDE12345"},
		Windows: &config.WindowsSigning{Identity: "Acme Windows"},
	}}
	macSign := func(id *testpki.Identity) []byte {
		out, err := codesign.Sign(bins["darwin"], codesign.Options{Identifier: "hello", Cert: id.Cert, Chain: id.Chain, Key: id.Key, Hardened: true})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	adhoc, err := codesign.SignAdHoc(bins["darwin"], "hello")
	if err != nil {
		t.Fatal(err)
	}
	flipped := macSign(macID)
	flipped[len(flipped)/3] ^= 0x40
	other := testpki.NewCA(t, "another root").Issue(t, testpki.Leaf{CN: "Developer ID Application: Acme (ABCDE12345)", OU: "ABCDE12345"})
	expired := ca.Issue(t, testpki.Leaf{CN: "Developer ID Application: Acme (ABCDE12345)", OU: "ABCDE12345", Expired: true})

	darwin := config.Target{Name: "darwin-arm64", GOOS: "darwin", GOARCH: "arm64"}
	windows := config.Target{Name: "windows-x64", GOOS: "windows", GOARCH: "amd64"}
	for _, tc := range []struct {
		name   string
		target config.Target
		data   []byte
		want   string
	}{
		{"ad hoc where a Developer ID is asked", darwin, adhoc, `binary is signed ad hoc, but release.yaml's platform_signing.darwin asks for "Developer ID Application: Acme (ABCDE12345)": cut the release with MACOS_SIGN_P12 and MACOS_SIGN_PASSWORD set`},
		{"a flipped byte after signing", darwin, flipped, "binary's code signature is refused"},
		{"another certificate", darwin, macSign(other), "does not chain to the platform roots"},
		{"an expired certificate", darwin, macSign(expired), "does not chain to the platform roots"},
		{"no secure timestamp", darwin, macSign(macID), "has no secure timestamp"},
		{"an unsigned windows binary", windows, bins["windows"], `binary is not Authenticode-signed, but release.yaml's platform_signing.windows asks for "Acme Windows": cut the release with WINDOWS_SIGN_P12 and WINDOWS_SIGN_PASSWORD set`},
		{"an unsigned darwin binary", darwin, bins["darwin"][:0:0], "binary's code signature is refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			if len(data) == 0 {
				data = bins["darwin"]
				if _, err := codesign.Verify(data); err == nil {
					data, _ = codesign.Strip(data) // the linker's own ad-hoc signature, gone
					if _, err := codesign.Verify(data); err == nil {
						t.Skip("Go's linker output here carries a signature Strip keeps")
					}
				}
			}
			unsigned, _ := platformsign.UnsignedSHA256(tc.target.GOOS, data)
			a := manifest.Artifact{Name: "acme-1.0.0-" + tc.target.Name + ".archive", Binary: &artifact.File{UnsignedSHA256: unsigned}}
			c := &checker{opts: Options{Config: cfg, PlatformRoots: ca.Pool()}}
			c.platformSignature(a, tc.target, "1.0.0", data)
			got := strings.Join(c.problems, "\n")
			if !strings.Contains(got, tc.want) || !strings.HasPrefix(got, a.Name+": ") {
				t.Fatalf("problems:\n%s\nwant %q, naming %s", got, tc.want, a.Name)
			}
		})
	}

	// A signed binary whose unsigned self is not the recorded build.
	if _, err := exec.LookPath("osslsigncode"); err == nil {
		winID := ca.Issue(t, testpki.Leaf{CN: "Acme Windows"})
		dir := t.TempDir()
		in, out := filepath.Join(dir, "in.exe"), filepath.Join(dir, "out.exe")
		os.WriteFile(in, bins["windows"], 0o755)
		if err := authenticode.Sign(context.Background(), in, out, authenticode.Options{P12: winID.P12("pw"), Password: "pw"}); err != nil {
			t.Fatal(err)
		}
		signed, _ := os.ReadFile(out)
		a := manifest.Artifact{Name: "acme-1.0.0-windows-x64.zip", Binary: &artifact.File{UnsignedSHA256: strings.Repeat("0", 64)}}
		c := &checker{opts: Options{Config: cfg, PlatformRoots: ca.Pool()}}
		c.platformSignature(a, windows, "1.0.0", signed)
		if got := strings.Join(c.problems, "\n"); !strings.Contains(got, "the signed binary is not that build plus a signature") {
			t.Errorf("problems:\n%s", got)
		}
	}
}

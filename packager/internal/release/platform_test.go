package release

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/codesign"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/platformsign"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/testpki"
	"github.com/tern-agent/tern/packager/internal/verify"
)

// platformRepo is the fixture repository with release.yaml asking for
// darwin and windows signatures by identities of a throw-away CA.
func platformRepo(t *testing.T, ca *testpki.CA) string {
	repo := newRepo(t)
	writeFile(t, filepath.Join(repo, "signing-roots.pem"), string(ca.PEM))
	raw := readFile(t, filepath.Join(repo, "release.yaml"))
	writeFile(t, filepath.Join(repo, "release.yaml"), raw+`
platform_signing:
  darwin:
    identity: "Developer ID Application: Acme (ABCDE12345)"
    team_id: ABCDE12345
    roots: signing-roots.pem
    notarize: false
  windows:
    identity: Acme Windows
    roots: signing-roots.pem
`)
	return repo
}

// A release with the signing secrets ships darwin binaries signed by the
// Developer ID identity (TeamIdentifier set, hardened runtime) and windows
// binaries Authenticode-signed; the real verifier (osslsigncode) accepts
// the .exe files, and each signed binary is the unsigned build of the same
// commit plus a signature.
func TestPlatformSignedRelease(t *testing.T) {
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
			t.Fatal("osslsigncode is not installed (apt-get install osslsigncode; make test-deps does)")
		}
		t.Skip("osslsigncode is not installed")
	}
	ca := testpki.NewCA(t, "Test Signing Root")
	mac := ca.Issue(t, testpki.Leaf{CN: "Developer ID Application: Acme (ABCDE12345)", OU: "ABCDE12345"})
	win := ca.Issue(t, testpki.Leaf{CN: "Acme Windows"})
	repo := platformRepo(t, ca)
	keyPEM, priv := testKey(t)
	secrets := platformsign.Secrets{MacP12: mac.P12("pw"), MacPassword: "pw", WinP12: win.P12("pw"), WinPassword: "pw"}
	dir := mustRelease(t, repo, Options{Snapshot: true, Platform: secrets, Sign: sign.Options{Key: keyPEM, Password: []byte("secret")}})
	c, err := config.Load(filepath.Join(repo, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.Release(dir, verify.Options{Config: c, PublicKey: &priv.PublicKey}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	m, err := manifest.Read(filepath.Join(dir, layout.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	signed := map[string]string{} // target → unsigned digest
	for _, a := range m.Artifacts {
		tg, ok := c.Target(a.Target)
		if a.Kind != "archive" || !ok || (tg.GOOS != "darwin" && tg.GOOS != "windows") {
			continue
		}
		bin := archiveMember(t, filepath.Join(dir, a.Name), "/bin/"+c.BinaryName(tg))
		signed[tg.Name] = a.Binary.UnsignedSHA256
		switch tg.GOOS {
		case "darwin":
			info, err := codesign.Verify(bin)
			if err != nil || info.AdHoc || info.TeamID != "ABCDE12345" || info.Flags&codesign.FlagRuntime == 0 {
				t.Errorf("%s: %+v, %v", tg.Name, info, err)
			}
		case "windows":
			exe := filepath.Join(t.TempDir(), "x.exe")
			writeFile(t, exe, string(bin))
			if out, err := exec.Command("osslsigncode", "verify", "-CAfile", filepath.Join(repo, "signing-roots.pem"), "-in", exe).CombinedOutput(); err != nil {
				t.Errorf("%s: osslsigncode verify: %v\n%s", tg.Name, err, out)
			}
		}
	}
	if len(signed) != 4 {
		t.Fatalf("signed binaries of %v, want the four darwin and windows targets", signed)
	}

	// Another root: both signatures refused, each naming its archive.
	other := testpki.NewCA(t, "Another Root")
	err = verify.Release(dir, verify.Options{Config: c, PublicKey: &priv.PublicKey, PlatformRoots: other.Pool()})
	for _, want := range []string{"darwin-arm64.tar.gz: binary's signing certificate", "windows-x64.zip: binary's Authenticode signature is refused"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("verify against another root: want %q in\n%v", want, err)
		}
	}

	// The same commit without the secrets: ad hoc and unsigned, and the
	// same unsigned digests.
	plain := platformRepo(t, ca)
	pdir := mustRelease(t, plain, Options{Snapshot: true, Sign: sign.Options{Key: keyPEM, Password: []byte("secret")}})
	pm, err := manifest.Read(filepath.Join(pdir, layout.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range pm.Artifacts {
		if want, ok := signed[a.Target]; ok && a.Kind == "archive" && a.Binary.UnsignedSHA256 != want {
			t.Errorf("%s: unsigned build %s, the signed release's is %s", a.Target, a.Binary.UnsignedSHA256, want)
		}
	}
}

// A release (not a snapshot) that asks for platform signatures fails before
// building when the secrets are missing, naming each variable.
func TestPlatformSigningSecretsMissing(t *testing.T) {
	repo := platformRepo(t, testpki.NewCA(t, "Root"))
	for _, args := range [][]string{{"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "sign"}, {"tag", "v1.0.0"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	log, err := runRelease(t, repo, Options{})
	want := "MACOS_SIGN_P12, MACOS_SIGN_PASSWORD, WINDOWS_SIGN_P12, WINDOWS_SIGN_PASSWORD are not set"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q\n%s", err, want, log)
	}
	if strings.Contains(log, "GoReleaser") {
		t.Errorf("the release got as far as building:\n%s", log)
	}
}

// archiveMember returns the member of a release archive whose name ends in suffix.
func archiveMember(t *testing.T, p, suffix string) []byte {
	t.Helper()
	if strings.HasSuffix(p, ".zip") {
		zr, err := zip.OpenReader(p)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, suffix) {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				b, err := io.ReadAll(rc)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
		}
		t.Fatalf("%s has no %s", p, suffix)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range readTar(t, zr) {
		if strings.HasSuffix(m.hdr.Name, suffix) {
			return bytes.Clone(m.data)
		}
	}
	t.Fatalf("%s has no %s", p, suffix)
	return nil
}

package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/aptrepo"
	"github.com/tern-agent/tern/packager/internal/codesign"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/notary/notarytest"
	"github.com/tern-agent/tern/packager/internal/platformsign"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/testpki"
	"github.com/tern-agent/tern/packager/internal/verify"
	"github.com/tern-agent/tern/packager/internal/version"
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
	ca, mac, win := signingIdentities(t)
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
	tagRepo(t, repo, "v1.0.0")
	log, err := runRelease(t, repo, Options{})
	want := "MACOS_SIGN_P12, MACOS_SIGN_PASSWORD, WINDOWS_SIGN_P12, WINDOWS_SIGN_PASSWORD are not set"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q\n%s", err, want, log)
	}
	if strings.Contains(log, "GoReleaser") {
		t.Errorf("the release got as far as building:\n%s", log)
	}
}

// A tagged release that asks for notarization signs the darwin binaries
// with the Developer ID identity, timestamped, and submits each to Apple's
// notary service (notarytest's stand-in, reached through NotaryURL and
// NotaryS3URL as MACOS_NOTARY_URL and MACOS_NOTARY_S3_URL would). Accepted:
// the release is written, verify passes, and each submission's zip holds
// the signed bytes the release ships. Invalid: the release fails naming
// the issues and the submission, and the previous release stays as it was.
func TestPlatformNotarizedRelease(t *testing.T) {
	ca, mac, win := signingIdentities(t)
	// The Windows verifier wants the TSA under the signing roots too.
	macTSA, winTSA := ca.NewTSA(t, testpki.TSAOptions{}), ca.NewTSA(t, testpki.TSAOptions{})
	// A release's apt repository is signed with the project's key.
	aptKey, err := aptrepo.GenerateKey("tern", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	repo := platformRepo(t, ca)
	yaml := readFile(t, filepath.Join(repo, "release.yaml"))
	writeFile(t, filepath.Join(repo, "release.yaml"), strings.Replace(yaml, "notarize: false", "notarize: true", 1))
	tagRepo(t, repo, "v1.0.0")
	c, err := config.Load(filepath.Join(repo, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The fixture binaries carry the snapshot's version: a release of
	// v1.0.0 needs binaries stamped 1.0.0 and this commit.
	ver, err := version.FromGit(repo, false)
	if err != nil {
		t.Fatal(err)
	}
	var darwin []config.Target
	for _, tg := range c.Targets {
		out := filepath.Join(repo, "dist", "build", "tern_"+tg.GOOS+"_"+tg.GOARCH, c.BinaryName(tg))
		if err := buildFixture(filepath.Join(fixtureBins, "src"), out, tg, ver.String(), ver.Commit); err != nil {
			t.Fatal(err)
		}
		if tg.GOOS == "darwin" {
			darwin = append(darwin, tg)
		}
	}

	notaryKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(notaryKey)
	if err != nil {
		t.Fatal(err)
	}
	const keyID, issuerID = "2X9R4HXF34", "57246542-96fe-1a63-e053-0824d011072a"
	keyPEM, priv := testKey(t)
	release := func(o notarytest.Options) (*notarytest.Server, string, error) {
		o.Key, o.KeyID, o.IssuerID = &notaryKey.PublicKey, keyID, issuerID
		apple := notarytest.Start(t, o)
		secrets := platformsign.Secrets{
			MacP12: mac.P12("pw"), MacPassword: "pw", MacTSA: macTSA.URL,
			NotaryKey:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
			NotaryKeyID: keyID, NotaryIssuerID: issuerID, NotaryURL: apple.URL, NotaryS3URL: apple.S3URL,
			WinP12: win.P12("pw"), WinPassword: "pw", WinTSA: winTSA.URL,
		}
		log, err := runRelease(t, repo, Options{Platform: secrets, Packages: PackageKeys{Apt: aptKey}, Sign: sign.Options{Key: keyPEM, Password: []byte("secret")}})
		return apple, log, err
	}

	// Accepted.
	apple, log, err := release(notarytest.Options{Verdict: notarytest.Accepted})
	if err != nil {
		t.Fatalf("release: %v\n%s", err, log)
	}
	dir := layout.ReleaseDir(repo)
	if err := verify.Release(dir, verify.Options{Config: c, PublicKey: &priv.PublicKey}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	m, err := manifest.Read(filepath.Join(dir, layout.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "1.0.0" {
		t.Fatalf("manifest version %q, want 1.0.0", m.Version)
	}
	shipped := map[string][]byte{} // submission name → the darwin binary the release ships
	for _, a := range m.Artifacts {
		tg, ok := c.Target(a.Target)
		if a.Kind != "archive" || !ok || tg.GOOS != "darwin" {
			continue
		}
		bin := archiveMember(t, filepath.Join(dir, a.Name), "/bin/"+c.BinaryName(tg))
		info, err := codesign.Verify(bin)
		if err != nil || info.AdHoc || info.TeamID != "ABCDE12345" || info.Flags&codesign.FlagRuntime == 0 || info.Timestamp == nil {
			t.Errorf("%s: want a Developer ID signature with the hardened runtime and a timestamp: %+v, %v", tg.Name, info, err)
		}
		shipped[tg.Name+"-"+c.BinaryName(tg)+".zip"] = bin
	}
	subs := apple.Submissions()
	if len(subs) != len(darwin) || len(shipped) != len(darwin) {
		t.Fatalf("%d submissions and %d darwin archives, want one per darwin target %v: %+v", len(subs), len(shipped), darwin, subs)
	}
	for _, sub := range subs {
		want, ok := shipped[sub.Name]
		if !ok {
			t.Errorf("submission %s is named %q, not after a darwin binary of the release", sub.ID, sub.Name)
			continue
		}
		zr, err := zip.NewReader(bytes.NewReader(sub.Uploaded), int64(len(sub.Uploaded)))
		if err != nil || len(zr.File) != 1 {
			t.Errorf("%s: the upload is not a zip of one file: %v", sub.Name, err)
			continue
		}
		rc, err := zr.File[0].Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, want) {
			t.Errorf("%s: the notarized binary (%d bytes) is not the one the release ships (%d bytes)", sub.Name, len(got), len(want))
		}
		if !strings.Contains(log, sub.Name+" accepted (submission "+sub.ID+")") {
			t.Errorf("the log does not report %s notarized as %s:\n%s", sub.Name, sub.ID, log)
		}
	}
	if n := macTSA.Requests(); n != len(darwin) {
		t.Errorf("the macOS TSA stamped %d signatures, want %d", n, len(darwin))
	}
	if winTSA.Requests() == 0 {
		t.Error("the Windows TSA stamped nothing")
	}

	// Invalid: the release fails naming the issues and the submission,
	// and the release just written is left as it was.
	before := readFile(t, filepath.Join(dir, layout.Manifest))
	issue := "The executable does not have the hardened runtime enabled."
	apple, log, err = release(notarytest.Options{Verdict: notarytest.Invalid, Issues: []notarytest.Issue{
		{Severity: "error", Path: "tern.zip/tern", Message: issue, Architecture: "arm64"},
	}})
	if err == nil {
		t.Fatalf("a release Apple found Invalid succeeded:\n%s", log)
	}
	found := regexp.MustCompile(`found (\S+) Invalid \(submission ([0-9a-f-]+)\)`).FindAllStringSubmatch(err.Error(), -1)
	if len(found) != len(darwin) || !strings.Contains(err.Error(), "error: tern.zip/tern: "+issue+" [arm64]") || !strings.Contains(err.Error(), "xcrun notarytool log ") {
		t.Fatalf("err = %v, want a refusal of each darwin binary naming its submission and issue", err)
	}
	ids := map[string]string{}
	for _, sub := range apple.Submissions() {
		ids[sub.Name] = sub.ID
	}
	for _, f := range found {
		if ids[f[1]] != f[2] {
			t.Errorf("the error names %s as submission %s, but the stand-in gave it %q", f[1], f[2], ids[f[1]])
		}
	}
	if after := readFile(t, filepath.Join(dir, layout.Manifest)); after != before {
		t.Error("the refused release replaced the previous one")
	}
	if err := verify.Release(dir, verify.Options{Config: c, PublicKey: &priv.PublicKey}); err != nil {
		t.Errorf("the previous release no longer verifies: %v", err)
	}
}

// tagRepo commits the fixture repository's changes, dated as the fixture
// is, and tags the commit.
func tagRepo(t *testing.T, repo, tag string) {
	t.Helper()
	for _, args := range [][]string{{"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "release " + tag}, {"tag", tag}} {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+fixtureCommitDate, "GIT_COMMITTER_DATE="+fixtureCommitDate)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// archiveMember returns the member of a release archive whose name ends in suffix.
func archiveMember(t *testing.T, p, suffix string) []byte {
	t.Helper()
	members, err := archiveMembers(p)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range members {
		if strings.HasSuffix(name, suffix) {
			return data
		}
	}
	t.Fatalf("%s has no %s", p, suffix)
	return nil
}

// signingIdentities are a throw-away root and the darwin and windows
// identities platformRepo's release.yaml names; signing windows binaries
// needs osslsigncode.
func signingIdentities(t *testing.T) (ca *testpki.CA, mac, win *testpki.Identity) {
	t.Helper()
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
			t.Fatal("osslsigncode is not installed (apt-get install osslsigncode; make test-deps does)")
		}
		t.Skip("osslsigncode is not installed")
	}
	ca = testpki.NewCA(t, "Test Signing Root")
	mac = ca.Issue(t, testpki.Leaf{CN: "Developer ID Application: Acme (ABCDE12345)", OU: "ABCDE12345"})
	win = ca.Issue(t, testpki.Leaf{CN: "Acme Windows"})
	return ca, mac, win
}

// archiveMembers reads every regular file of a .tar.gz, .tgz or .zip.
func archiveMembers(p string) (map[string][]byte, error) {
	members := map[string][]byte{}
	if strings.HasSuffix(p, ".zip") {
		zr, err := zip.OpenReader(p)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		for _, f := range zr.File {
			if f.FileInfo().IsDir() {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.Name, err)
			}
			members[f.Name] = b
		}
		return members, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return members, nil
		}
		if err != nil {
			return nil, err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if members[hdr.Name], err = io.ReadAll(tr); err != nil {
			return nil, fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
}

package linuxpkg

import (
	"bytes"
	"crypto"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/tern-agent/tern/packager/internal/layout"
)

// testRPMKey makes a throw-away OpenPGP signing key, created an hour
// before the commit, and its public key armored for rpm --import.
func testRPMKey(t *testing.T) (*openpgp.Entity, []byte) {
	return testRPMKeyAt(t, commitTime.Add(-time.Hour))
}

// testRPMKeyAt makes a throw-away OpenPGP signing key created at created.
func testRPMKeyAt(t *testing.T, created time.Time) (*openpgp.Entity, []byte) {
	t.Helper()
	cfg := &packet.Config{RSABits: 2048, DefaultHash: crypto.SHA256, Time: func() time.Time { return created }}
	e, err := openpgp.NewEntity("linuxpkg test", "throw-away", "linuxpkg-test@example.invalid", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	w, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return e, pub.Bytes()
}

// armorPrivate armors an OpenPGP secret key, as gpg --export-secret-keys
// --armor writes it.
func armorPrivate(w io.Writer) (io.WriteCloser, error) {
	return armor.Encode(w, openpgp.PrivateKeyType, nil)
}

// TestRPMQuerySignatureAndInstall reads the rpm with rpm itself: its
// header (rpm -qip), its signature with a throw-away key imported into a
// temporary database (rpm -K), then installs it into a scratch root and
// runs the real agent from there, which must find its helper where the
// package put it.
func TestRPMQuerySignatureAndInstall(t *testing.T) {
	needTool(t, "rpm", "apt-get install rpm")
	f := newFixture(t, "tern", true)
	key, pub := testRPMKey(t)
	rpmFile := f.build(t, layout.RPM, Keys{RPM: key}, t.TempDir())
	if got, want := filepath.Base(rpmFile), "tern-1.2.3-1.x86_64.rpm"; got != want {
		t.Errorf("file name %s, want %s", got, want)
	}

	info := run(t, "rpm", "-qip", rpmFile)
	for _, want := range []string{
		"Name        : tern", "Version     : 1.2.3", "Release     : 1", "Architecture: x86_64",
		"License     : Apache-2.0", "URL         : " + f.cfg.Repository, "Summary     : test of the Linux packages",
		"Build Host  : reproducible", "Packager    : " + Maintainer(f.cfg),
		"Build Date  : Mon Nov 23 14:57:54 2026",
		"Signature   : RSA/SHA256, Mon Nov 23 14:57:54 2026, Key ID " + strings.ToLower(key.PrimaryKey.KeyIdString()),
	} {
		if !strings.Contains(info, want+"\n") {
			t.Errorf("rpm -qip lacks %q:\n%s", want, info)
		}
	}
	list := run(t, "rpm", "-qlvp", rpmFile)
	for _, want := range []string{
		"/usr/bin/tern\n", "/usr/libexec/tern/bwrap\n", "/usr/share/licenses/tern/LICENSE\n",
		"/usr/share/doc/tern/THIRD_PARTY_NOTICES.md\n", "/usr/share/man/man1/tern.1.gz\n", "/usr/share/tern/README.md\n", "/usr/share/tern/doc/guide.md\n",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("rpm -qlvp lacks %s:\n%s", want, list)
		}
	}
	if got := run(t, "rpm", "-qLp", rpmFile); got != "/usr/share/licenses/tern/LICENSE\n" {
		t.Errorf("rpm -qLp lists %q as licences", got)
	}

	db := t.TempDir()
	pubFile := filepath.Join(t.TempDir(), "key.asc")
	if err := os.WriteFile(pubFile, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	// Before the key is imported, the signature cannot be checked.
	if out, err := exec.Command("rpm", "--dbpath", db, "-K", rpmFile).CombinedOutput(); err == nil {
		t.Errorf("rpm -K passed without the key:\n%s", out)
	}
	run(t, "rpm", "--dbpath", db, "--import", pubFile)
	if got := run(t, "rpm", "--dbpath", db, "-K", rpmFile); !strings.HasSuffix(got, ": digests signatures OK\n") {
		t.Errorf("rpm -K: %s", got)
	}

	// Install into a scratch root: rpm --root needs root to chroot.
	if os.Geteuid() != 0 {
		t.Log("not root: skipping rpm --root -i")
		return
	}
	root := t.TempDir()
	run(t, "rpm", "--root", root, "--nodeps", "--nosignature", "-i", rpmFile)
	for _, p := range []string{"usr/bin/tern", "usr/libexec/tern/bwrap"} {
		st, err := os.Stat(filepath.Join(root, p))
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s after rpm -i: %v %v", p, st, err)
		}
	}
	out, _ := exec.Command(filepath.Join(root, "usr/bin/tern"), "doctor", "--json").Output()
	var doctor struct {
		Helpers []struct{ Name, Path, Source string } `json:"helpers"`
	}
	if err := json.Unmarshal(out, &doctor); err != nil {
		t.Fatalf("tern doctor --json: %v\n%s", err, out)
	}
	found := false
	for _, h := range doctor.Helpers {
		if h.Name == "bwrap" {
			found = true
			if want := filepath.Join(root, "usr/libexec/tern/bwrap"); h.Path != want || h.Source != "bundled" {
				t.Errorf("tern found bwrap at %s (%s), want %s (bundled)", h.Path, h.Source, want)
			}
		}
	}
	if !found {
		t.Errorf("tern doctor lists no bwrap:\n%s", out)
	}
	run(t, "rpm", "--root", root, "-e", "tern")
	for _, p := range []string{"usr/bin/tern", "usr/libexec/tern", "usr/share/doc/tern", "usr/share/licenses/tern", "usr/share/tern"} {
		if _, err := os.Lstat(filepath.Join(root, p)); !os.IsNotExist(err) {
			t.Errorf("%s is left after rpm -e (%v)", p, err)
		}
	}
}

// TestRPMSignedByAKeyYoungerThanTheCommit: a key made after the commit
// (a rebuild of an old tag with a new key) signs at its own creation, which
// rpm accepts, rather than at the commit, which rpm and go-crypto refuse.
func TestRPMSignedByAKeyYoungerThanTheCommit(t *testing.T) {
	needTool(t, "rpm", "apt-get install rpm")
	f := newFixture(t, uniqueProduct(t), false)
	created := commitTime.Add(time.Minute)
	key, pub := testRPMKeyAt(t, created)
	if got := ValidFrom(key); !got.Equal(created) {
		t.Errorf("ValidFrom = %s, want %s", got, created)
	}
	rpmFile := f.build(t, layout.RPM, Keys{RPM: key}, t.TempDir())
	db := t.TempDir()
	pubFile := filepath.Join(t.TempDir(), "key.asc")
	if err := os.WriteFile(pubFile, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "rpm", "--dbpath", db, "--import", pubFile)
	if got := run(t, "rpm", "--dbpath", db, "-K", rpmFile); !strings.HasSuffix(got, ": digests signatures OK\n") {
		t.Errorf("rpm -K: %s", got)
	}
	if info := run(t, "rpm", "-qip", rpmFile); !strings.Contains(info, "Signature   : RSA/SHA256, Mon Nov 23 14:58:54 2026,") {
		t.Errorf("the signature should be dated at the key's creation:\n%s", info)
	}
}

package aptrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

var commit = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// fakeDeb writes a .deb the way dpkg-deb lays one out (ar: debian-binary,
// control.tar.<comp>, data.tar.gz) with control as its ./control.
func fakeDeb(t *testing.T, dir, control, comp string) string {
	t.Helper()
	var ctl bytes.Buffer
	var w io.WriteCloser
	switch comp {
	case "gz":
		w = gzip.NewWriter(&ctl)
	case "xz":
		x, err := xz.NewWriter(&ctl)
		if err != nil {
			t.Fatal(err)
		}
		w = x
	case "zst":
		z, err := zstd.NewWriter(&ctl)
		if err != nil {
			t.Fatal(err)
		}
		w = z
	case "":
		w = nopCloser{&ctl}
	}
	tw := tar.NewWriter(w)
	for _, f := range []struct{ name, body string }{{"./md5sums", ""}, {"./control", control}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, f.body)
	}
	tw.Close()
	w.Close()
	var data bytes.Buffer
	gz := gzip.NewWriter(&data)
	tar.NewWriter(gz).Close()
	gz.Close()

	name := "control.tar"
	if comp != "" {
		name += "." + comp
	}
	var deb bytes.Buffer
	deb.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		body []byte
	}{{"debian-binary", []byte("2.0\n")}, {name, ctl.Bytes()}, {"data.tar.gz", data.Bytes()}} {
		fmt.Fprintf(&deb, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name, 0, 0, 0, "100644", len(m.body))
		deb.Write(m.body)
		if len(m.body)%2 == 1 {
			deb.WriteByte('\n')
		}
	}
	c, err := parseParagraph([]byte(control))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, fmt.Sprintf("%s_%s_%s.deb", c.Get("Package"), c.Get("Version"), c.Get("Architecture")))
	if err := os.WriteFile(p, deb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func control(name, version, arch string) string {
	return fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Tern <tern@example.invalid>\nInstalled-Size: 4\nSection: utils\nPriority: optional\nDescription: a test package\n a second line\n .\n a paragraph\n", name, version, arch)
}

func TestReadControlEachCompression(t *testing.T) {
	dir := t.TempDir()
	for _, comp := range []string{"gz", "xz", "zst", ""} {
		t.Run("control.tar."+comp, func(t *testing.T) {
			deb := fakeDeb(t, t.TempDir(), control("ctl"+comp+"x", "1.2.3", "amd64"), comp)
			c, err := ReadControl(deb)
			if err != nil {
				t.Fatal(err)
			}
			if c.Get("Package") != "ctl"+comp+"x" || c[0].Name != "Package" || c[len(c)-1].Name != "Description" {
				t.Fatalf("got %+v", c)
			}
			if want := "a test package\n a second line\n .\n a paragraph"; c.Get("Description") != want {
				t.Fatalf("Description %q, want %q", c.Get("Description"), want)
			}
		})
	}
	for _, tc := range []struct{ name, control, want string }{
		{"climbing package", control("../x", "1", "amd64"), `Package "../x" is not a Debian package name`},
		{"climbing arch", control("okname", "1", "../x"), `Architecture "../x" is not a Debian architecture`},
		{"no version", "Package: okname\nArchitecture: amd64\n", `Version "" is not a Debian version`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deb := rewriteControl(t, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".deb"), tc.control)
			if _, err := ReadControl(deb); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	notDeb := filepath.Join(dir, "x.deb")
	os.WriteFile(notDeb, []byte("PK\x03\x04"), 0o644)
	if _, err := ReadControl(notDeb); err == nil || !strings.Contains(err.Error(), "dpkg-deb --info "+notDeb) {
		t.Fatalf("a zip: %v", err)
	}
}

// rewriteControl writes a .deb at p with control as its ./control, for
// controls fakeDeb cannot name a file after.
func rewriteControl(t *testing.T, p, control string) string {
	t.Helper()
	var ctl bytes.Buffer
	gz := gzip.NewWriter(&ctl)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "./control", Mode: 0o644, Size: int64(len(control)), Typeflag: tar.TypeReg})
	io.WriteString(tw, control)
	tw.Close()
	gz.Close()
	var deb bytes.Buffer
	deb.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		body []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.gz", ctl.Bytes()}} {
		fmt.Fprintf(&deb, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name, 0, 0, 0, "100644", len(m.body))
		deb.Write(m.body)
		if len(m.body)%2 == 1 {
			deb.WriteByte('\n')
		}
	}
	if err := os.WriteFile(p, deb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// twoDebs makes an amd64 and an arm64 build of one package, and an
// Architecture: all package.
func twoDebs(t *testing.T) []string {
	dir := t.TempDir()
	return []string{
		fakeDeb(t, dir, control("tern", "1.2.3", "arm64"), "xz"),
		fakeDeb(t, dir, control("tern", "1.2.3", "amd64"), "zst"),
		fakeDeb(t, dir, control("tern-doc", "1.2.3", "all"), "gz"),
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	return out
}

func TestWriteIsDeterministicAndVerifies(t *testing.T) {
	key, err := GenerateKey("tern", commit)
	if err != nil {
		t.Fatal(err)
	}
	debs := twoDebs(t)
	o := Options{Product: "tern", Version: "1.2.3", Time: commit, Key: key}
	a, b := filepath.Join(t.TempDir(), "apt"), filepath.Join(t.TempDir(), "apt")
	ra, err := Write(a, debs, o)
	if err != nil {
		t.Fatal(err)
	}
	// The other order of inputs makes the same repository.
	rb, err := Write(b, []string{debs[2], debs[1], debs[0]}, o)
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := readTree(t, a), readTree(t, b)
	if len(ta) != len(tb) {
		t.Fatalf("%d files, then %d", len(ta), len(tb))
	}
	for name, body := range ta {
		if tb[name] != body {
			t.Errorf("%s differs between two writes of the same release", name)
		}
	}
	wantFiles := []string{
		"dists/stable/InRelease", "dists/stable/Release", "dists/stable/Release.gpg",
		"dists/stable/main/binary-amd64/Packages", "dists/stable/main/binary-amd64/Packages.gz",
		"dists/stable/main/binary-arm64/Packages", "dists/stable/main/binary-arm64/Packages.gz",
		"pool/main/t/tern-doc/tern-doc_1.2.3_all.deb",
		"pool/main/t/tern/tern_1.2.3_amd64.deb", "pool/main/t/tern/tern_1.2.3_arm64.deb",
		"tern-archive-keyring.gpg",
	}
	if got := strings.Join(ra.Files, "\n"); got != strings.Join(wantFiles, "\n") {
		t.Fatalf("files:\n%s\nwant:\n%s", got, strings.Join(wantFiles, "\n"))
	}
	if len(ta) != len(wantFiles) {
		t.Fatalf("wrote %d files, Result lists %d", len(ta), len(wantFiles))
	}
	if strings.Join(rb.Architectures, " ") != "amd64 arm64" || ra.Fingerprint != key.Fingerprint() {
		t.Fatalf("result %+v", rb)
	}
	rel := ta["dists/stable/Release"]
	for _, line := range []string{"Origin: tern\n", "Label: tern\n", "Suite: stable\n", "Codename: stable\n", "Version: 1.2.3\n",
		"Date: Sat, 14 Mar 2026 15:09:26 UTC\n", "Architectures: amd64 arm64\n", "Components: main\n"} {
		if !strings.Contains(rel, line) {
			t.Errorf("Release lacks %q:\n%s", line, rel)
		}
	}
	amd := ta["dists/stable/main/binary-amd64/Packages"]
	if !strings.HasPrefix(amd, "Package: tern\nVersion: 1.2.3\nArchitecture: amd64\n") ||
		!strings.Contains(amd, "\n\nPackage: tern-doc\n") ||
		!strings.Contains(amd, " a paragraph\nFilename: pool/main/t/tern/tern_1.2.3_amd64.deb\nSize: ") {
		t.Errorf("binary-amd64/Packages:\n%s", amd)
	}
	if strings.Contains(ta["dists/stable/main/binary-arm64/Packages"], "amd64") {
		t.Errorf("the arm64 index lists an amd64 package")
	}
	if !strings.HasPrefix(ta["dists/stable/InRelease"], "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"+rel[:20]) {
		t.Errorf("InRelease:\n%s", ta["dists/stable/InRelease"])
	}
	// gpgv 2.2 misreads a clearsigned armor without its CRC-24 line.
	if !regexp.MustCompile(`\n=[A-Za-z0-9+/]{4}\n-----END PGP SIGNATURE-----\n$`).MatchString(ta["dists/stable/InRelease"]) {
		t.Errorf("InRelease's signature has no armor checksum:\n%s", ta["dists/stable/InRelease"])
	}
	if err := Verify(a, key.Public()); err != nil {
		t.Fatal(err)
	}
	kr, err := ReadKeyRingFile(ra.Keyring)
	if err != nil || kr.Fingerprints()[0] != key.Fingerprint() {
		t.Fatalf("the published keyring: %v %v", kr.Fingerprints(), err)
	}
	asc, _ := key.PublicArmored()
	if kr, err := ReadKeyRing(bytes.NewReader(asc)); err != nil || kr.Fingerprints()[0] != key.Fingerprint() {
		t.Fatalf("the armored key: %v", err)
	}
}

func TestWriteRefuses(t *testing.T) {
	key, err := GenerateKey("tern", commit)
	if err != nil {
		t.Fatal(err)
	}
	debs := twoDebs(t)
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "stale"), nil, 0o644)
	dup := fakeDeb(t, t.TempDir(), control("tern", "1.2.3", "amd64"), "gz")
	for _, tc := range []struct {
		name string
		dir  string
		debs []string
		o    Options
		want string
	}{
		{"no key", "", debs, Options{Product: "tern", Time: commit}, "set APT_SIGNING_KEY"},
		{"no time", "", debs, Options{Product: "tern", Key: key}, "no commit time"},
		{"bad product", "", debs, Options{Product: "Tern/x", Time: commit, Key: key}, `product "Tern/x" cannot name a repository`},
		{"not empty", full, debs, Options{Product: "tern", Time: commit, Key: key}, "is not empty; remove it first"},
		{"twice", "", append(debs, dup), Options{Product: "tern", Time: commit, Key: key}, "both file as pool/main/t/tern/tern_1.2.3_amd64.deb"},
		{"none", "", nil, Options{Product: "tern", Time: commit, Key: key}, "no .deb files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), "apt")
			}
			if _, err := Write(dir, tc.debs, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Write(t.TempDir(), debs, Options{Product: "tern", Time: commit}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
	// A refusal found while building (an unreadable package) leaves
	// neither the repository nor its temporary directory.
	parent := t.TempDir()
	bad := filepath.Join(t.TempDir(), "bad.deb")
	os.WriteFile(bad, []byte("!<arch>\n"), 0o644)
	if _, err := Write(filepath.Join(parent, "apt"), append(debs, bad), Options{Product: "tern", Time: commit, Key: key}); err == nil {
		t.Fatal("a broken .deb was published")
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("a failed Write left %v", entries)
	}
	// An empty directory is replaced.
	empty := t.TempDir()
	if res, err := Write(empty, debs, Options{Product: "tern", Time: commit, Key: key}); err != nil || res.Dir != empty || res.Keyring != filepath.Join(empty, "tern-archive-keyring.gpg") {
		t.Fatalf("into an empty directory: %+v, %v", res, err)
	}
	if err := Verify(empty, key.Public()); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyReportsEveryTamper(t *testing.T) {
	key, err := GenerateKey("tern", commit)
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateKey("tern", commit)
	if err != nil {
		t.Fatal(err)
	}
	debs := twoDebs(t)
	fresh := func(t *testing.T, k *Key) string {
		dir := filepath.Join(t.TempDir(), "apt")
		if _, err := Write(dir, debs, Options{Product: "tern", Version: "1.2.3", Time: commit, Key: k}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	flip := func(dir, name string) {
		p := filepath.Join(dir, name)
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 1
		os.WriteFile(p, b, 0o644)
	}
	for _, tc := range []struct {
		name   string
		tamper func(dir string)
		want   []string
	}{
		{"a flipped byte in Packages", func(d string) { flip(d, "dists/stable/main/binary-amd64/Packages") },
			[]string{"dists/stable/main/binary-amd64/Packages has sha256 "}},
		{"a flipped byte in a package", func(d string) { flip(d, "pool/main/t/tern/tern_1.2.3_arm64.deb") },
			[]string{"pool/main/t/tern/tern_1.2.3_arm64.deb has sha256 "}},
		{"a missing package", func(d string) { os.Remove(filepath.Join(d, "pool/main/t/tern-doc/tern-doc_1.2.3_all.deb")) },
			[]string{"pool/main/t/tern-doc/tern-doc_1.2.3_all.deb is listed but missing"}},
		{"a stray package", func(d string) {
			os.WriteFile(filepath.Join(d, "pool/main/t/tern/evil.deb"), []byte("x"), 0o644)
		}, []string{"pool/main/t/tern/evil.deb is in the pool but in no Packages index"}},
		{"Release edited", func(d string) {
			p := filepath.Join(d, "dists/stable/Release")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte("Label: tern"), []byte("Label: evil"), 1), 0o644)
		}, []string{"dists/stable/Release.gpg does not sign Release with a key of " + key.Fingerprint(), "dists/stable/InRelease signs other text than Release"}},
		{"signed by another key", func(d string) {
			o := fresh(t, other)
			for _, f := range []string{"InRelease", "Release.gpg"} {
				b, _ := os.ReadFile(filepath.Join(o, "dists/stable", f))
				os.WriteFile(filepath.Join(d, "dists/stable", f), b, 0o644)
			}
		}, []string{"dists/stable/Release.gpg does not sign Release with a key of " + key.Fingerprint(), "dists/stable/InRelease is not signed by a key of " + key.Fingerprint()}},
		{"another keyring for users", func(d string) {
			pub, _ := other.PublicBinary()
			os.WriteFile(filepath.Join(d, "tern-archive-keyring.gpg"), pub, 0o644)
		}, []string{"tern-archive-keyring.gpg holds " + other.Fingerprint() + ", not the release's key " + key.Fingerprint()}},
		{"no keyring for users", func(d string) { os.Remove(filepath.Join(d, "tern-archive-keyring.gpg")) },
			[]string{"the repository holds 0 files *-archive-keyring.gpg at its root, not the one users install"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fresh(t, key)
			tc.tamper(dir)
			err := Verify(dir, key.Public())
			var v *VerifyError
			if !errors.As(err, &v) {
				t.Fatalf("got %v", err)
			}
			if len(v.Problems) != len(tc.want) {
				t.Fatalf("problems:\n%s\nwant %d", strings.Join(v.Problems, "\n"), len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(v.Problems[i], w) {
					t.Errorf("problem %d: %q, want it to start %q", i, v.Problems[i], w)
				}
			}
		})
	}
}

func TestKeyFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if k, err := KeyFromEnv(env(nil)); k != nil || err != nil {
		t.Fatalf("unset: %v %v", k, err)
	}
	gen, err := GenerateKey("tern", commit)
	if err != nil {
		t.Fatal(err)
	}
	armored := func(lock []byte) string {
		e := *gen.entity
		if lock != nil {
			// Lock a copy: the key read back must be unlocked with lock.
			k, _ := GenerateKey("tern", commit)
			e = *k.entity
			if err := e.EncryptPrivateKeys(lock, nil); err != nil {
				t.Fatal(err)
			}
		}
		var b bytes.Buffer
		w, _ := armor.Encode(&b, "PGP PRIVATE KEY BLOCK", nil)
		if err := e.SerializePrivateWithoutSigning(w, nil); err != nil {
			t.Fatal(err)
		}
		w.Close()
		return b.String()
	}
	dir := t.TempDir()
	onDisk := filepath.Join(dir, "key.asc")
	os.WriteFile(onDisk, []byte(armored(nil)), 0o600)
	pubOnly := filepath.Join(dir, "pub.gpg")
	pub, _ := gen.PublicBinary()
	os.WriteFile(pubOnly, pub, 0o644)
	locked := armored([]byte("hunter2"))
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" when the key loads
	}{
		{"the armored key itself", map[string]string{EnvKey: armored(nil)}, ""},
		{"a path", map[string]string{EnvKey: onDisk}, ""},
		{"locked, with its passphrase", map[string]string{EnvKey: locked, EnvPassphrase: "hunter2"}, ""},
		{"locked, no passphrase", map[string]string{EnvKey: locked}, "the key is locked with a passphrase: set APT_SIGNING_PASSPHRASE"},
		{"locked, wrong passphrase", map[string]string{EnvKey: locked, EnvPassphrase: "nope"}, "is APT_SIGNING_PASSPHRASE right?"},
		{"a public key", map[string]string{EnvKey: pubOnly}, "holds a public key only"},
		{"a missing path", map[string]string{EnvKey: filepath.Join(dir, "nope")}, "APT_SIGNING_KEY names a path, or holds the armored key itself"},
		{"garbage", map[string]string{EnvKey: "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxx\n-----END PGP PRIVATE KEY BLOCK-----\n"}, "APT_SIGNING_KEY holds no OpenPGP key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := KeyFromEnv(env(tc.env))
			if tc.want == "" {
				if err != nil || k == nil || k.Ephemeral {
					t.Fatalf("got %v, %v", k, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// A key made after the commit signs at its own creation time: gpgv refuses
// a signature older than its key.
func TestKeyYoungerThanCommitSignsAtItsCreation(t *testing.T) {
	made := commit.Add(48 * time.Hour)
	key, err := GenerateKey("tern", made)
	if err != nil {
		t.Fatal(err)
	}
	if got := key.signTime(commit); !got.Equal(made) {
		t.Fatalf("sign time %s, want %s", got, made)
	}
	if got := key.signTime(made.Add(time.Hour)); !got.Equal(made.Add(time.Hour)) {
		t.Fatalf("sign time %s for a later commit", got)
	}
	dir := filepath.Join(t.TempDir(), "apt")
	if _, err := Write(dir, twoDebs(t), Options{Product: "tern", Time: commit, Key: key}); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir, key.Public()); err != nil {
		t.Fatal(err)
	}
}

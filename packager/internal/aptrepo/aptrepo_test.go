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

// fakeDebNamed is fakeDeb at the path p.
func fakeDebNamed(t *testing.T, p, control string) string {
	t.Helper()
	made := fakeDeb(t, t.TempDir(), control, "gz")
	b, err := os.ReadFile(made)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
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

// threeDebs makes, in a new release directory, an amd64 and an arm64 build
// of one package and an Architecture: all package, as linuxpkg leaves them.
func threeDebs(t *testing.T) (dir string, debs []string) {
	t.Helper()
	dir = t.TempDir()
	return dir, []string{
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

func TestWriteFlatIsDeterministicAndVerifies(t *testing.T) {
	key, err := GenerateKey("tern", commit)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Product: "tern", Version: "1.2.3", Time: commit, Key: key}
	a, debs := threeDebs(t)
	before := readTree(t, a)
	ra, err := WriteFlat(a, debs, o)
	if err != nil {
		t.Fatal(err)
	}
	// The other order of inputs, in another directory, makes the same bytes.
	b, debsB := threeDebs(t)
	rb, err := WriteFlat(b, []string{debsB[2], debsB[1], debsB[0]}, o)
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
	// The packages stay where they are, unchanged, and the six files are
	// all that is new: the directory stays flat.
	for name, body := range before {
		if ta[name] != body {
			t.Errorf("WriteFlat changed %s", name)
		}
	}
	wantFiles := []string{"InRelease", "Packages", "Packages.gz", "Release", "Release.gpg", "tern-archive-keyring.gpg"}
	if got := strings.Join(ra.Files, "\n"); got != strings.Join(wantFiles, "\n") || got != strings.Join(FlatFiles("tern"), "\n") {
		t.Fatalf("files:\n%s\nwant:\n%s", got, strings.Join(wantFiles, "\n"))
	}
	if len(ta) != len(before)+len(wantFiles) {
		t.Fatalf("the directory holds %d files, %d packages and %d written", len(ta), len(before), len(wantFiles))
	}
	if strings.Join(rb.Architectures, " ") != "amd64 arm64" || ra.Fingerprint != key.Fingerprint() || ra.Dir != a ||
		ra.Keyring != filepath.Join(a, "tern-archive-keyring.gpg") {
		t.Fatalf("result %+v", ra)
	}
	var names []string
	for _, p := range ra.Packages {
		names = append(names, p.Filename)
	}
	if got := strings.Join(names, " "); got != "./tern_1.2.3_amd64.deb ./tern_1.2.3_arm64.deb ./tern-doc_1.2.3_all.deb" {
		t.Fatalf("packages %s", got)
	}
	rel := ta["Release"]
	wantRel := "Origin: tern\nLabel: tern\nVersion: 1.2.3\nDate: Sat, 14 Mar 2026 15:09:26 UTC\nArchitectures: amd64 arm64\nDescription: tern packages\nSHA256:\n "
	if !strings.HasPrefix(rel, wantRel) || !regexp.MustCompile(`\n [0-9a-f]{64} +\d+ Packages\n [0-9a-f]{64} +\d+ Packages.gz\n$`).MatchString(rel) {
		t.Errorf("Release:\n%s\nwant it to start\n%s", rel, wantRel)
	}
	for _, f := range []string{"Suite", "Codename", "Components"} {
		if strings.Contains(rel, f+":") {
			t.Errorf("Release has %s:\n%s", f, rel)
		}
	}
	idx := ta["Packages"]
	if !strings.HasPrefix(idx, "Package: tern\nVersion: 1.2.3\nArchitecture: amd64\n") ||
		!strings.Contains(idx, "\n\nPackage: tern\nVersion: 1.2.3\nArchitecture: arm64\n") ||
		!strings.Contains(idx, "\n\nPackage: tern-doc\n") ||
		!strings.Contains(idx, " a paragraph\nFilename: ./tern_1.2.3_amd64.deb\nSize: ") {
		t.Errorf("Packages:\n%s", idx)
	}
	if got, err := gunzip([]byte(ta["Packages.gz"])); err != nil || string(got) != idx {
		t.Errorf("Packages.gz does not hold Packages: %v", err)
	}
	if !strings.HasPrefix(ta["InRelease"], "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"+rel[:20]) {
		t.Errorf("InRelease:\n%s", ta["InRelease"])
	}
	// gpgv 2.2 misreads a clearsigned armor without its CRC-24 line.
	if !regexp.MustCompile(`\n=[A-Za-z0-9+/]{4}\n-----END PGP SIGNATURE-----\n$`).MatchString(ta["InRelease"]) {
		t.Errorf("InRelease's signature has no armor checksum:\n%s", ta["InRelease"])
	}
	if err := VerifyFlat(a, debs, key.Public()); err != nil {
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
	// Only Architecture: all packages: Release lists all.
	dir := t.TempDir()
	doc := fakeDeb(t, dir, control("tern-doc", "1.2.3", "all"), "gz")
	if res, err := WriteFlat(dir, []string{doc}, o); err != nil || strings.Join(res.Architectures, " ") != "all" {
		t.Fatalf("an all-only repository: %+v, %v", res, err)
	}
}

func TestWriteFlatRefuses(t *testing.T) {
	key, err := GenerateKey("tern", commit)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Product: "tern", Time: commit, Key: key}
	elsewhere := fakeDeb(t, t.TempDir(), control("tern", "1.2.4", "amd64"), "gz")
	for _, tc := range []struct {
		name string
		prep func(dir string, debs []string) []string // the debs to pass
		o    Options
		want string
	}{
		{"no key", nil, Options{Product: "tern", Time: commit}, "set APT_SIGNING_KEY"},
		{"no time", nil, Options{Product: "tern", Key: key}, "no commit time"},
		{"bad product", nil, Options{Product: "Tern/x", Time: commit, Key: key}, `product "Tern/x" cannot name a repository`},
		{"none", func(string, []string) []string { return nil }, o, "no .deb files"},
		{"a Release already there", func(dir string, debs []string) []string {
			os.WriteFile(filepath.Join(dir, "Release"), []byte("old"), 0o644)
			os.WriteFile(filepath.Join(dir, "tern-archive-keyring.gpg"), []byte("old"), 0o644)
			return debs
		}, o, "already holds Release, tern-archive-keyring.gpg; a release directory is written once"},
		{"a package elsewhere", func(_ string, debs []string) []string { return append(debs, elsewhere) }, o,
			"so the .deb must be in the release directory"},
		{"one package twice", func(dir string, debs []string) []string {
			return append(debs, filepath.Join(dir, ".", filepath.Base(debs[0])))
		}, o, "tern_1.2.3_arm64.deb is given twice"},
		{"one version twice", func(dir string, debs []string) []string {
			b, _ := os.ReadFile(debs[1])
			os.WriteFile(filepath.Join(dir, "copy.deb"), b, 0o644)
			return append(debs, filepath.Join(dir, "copy.deb"))
		}, o, "are both tern 1.2.3 for amd64"},
		{"a name GitHub renames", func(dir string, debs []string) []string {
			return append(debs, fakeDebNamed(t, filepath.Join(dir, "tern_1.2.4~rc.1_amd64.deb"), control("tern", "1.2.4~rc.1", "amd64")))
		}, o, "(this one to tern_1.2.4.rc.1_amd64.deb), and Packages would name ./tern_1.2.4~rc.1_amd64.deb"},
		{"a broken package", func(dir string, debs []string) []string {
			os.WriteFile(filepath.Join(dir, "bad.deb"), []byte("!<arch>\n"), 0o644)
			return append(debs, filepath.Join(dir, "bad.deb"))
		}, o, "is not a readable .deb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, debs := threeDebs(t)
			if tc.prep != nil {
				debs = tc.prep(dir, debs)
			}
			before := readTree(t, dir)
			if _, err := WriteFlat(dir, debs, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			// A refusal leaves the directory as it was.
			after := readTree(t, dir)
			if len(after) != len(before) {
				t.Fatalf("a refused WriteFlat left %d files, not %d", len(after), len(before))
			}
			for name, body := range before {
				if after[name] != body {
					t.Errorf("a refused WriteFlat changed %s", name)
				}
			}
		})
	}
	dir, debs := threeDebs(t)
	if _, err := WriteFlat(dir, debs, Options{Product: "tern", Time: commit}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
	// A second write into the same release refuses rather than replaces.
	if _, err := WriteFlat(dir, debs, o); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteFlat(dir, debs, o); err == nil || !strings.Contains(err.Error(), "already holds InRelease, Packages, Packages.gz, Release, Release.gpg, tern-archive-keyring.gpg") {
		t.Fatalf("a second write: %v", err)
	}
	if err := VerifyFlat(dir, debs, key.Public()); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFlatReportsEveryTamper(t *testing.T) {
	key, err := GenerateKey("tern", commit)
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateKey("tern", commit)
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(t *testing.T, k *Key) (string, []string) {
		dir, debs := threeDebs(t)
		if _, err := WriteFlat(dir, debs, Options{Product: "tern", Version: "1.2.3", Time: commit, Key: k}); err != nil {
			t.Fatal(err)
		}
		return dir, debs
	}
	flip := func(dir, name string) {
		p := filepath.Join(dir, name)
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 1
		os.WriteFile(p, b, 0o644)
	}
	for _, tc := range []struct {
		name   string
		tamper func(dir string, debs []string) []string // the debs to verify against
		want   []string
	}{
		{"a flipped byte in Packages", func(d string, debs []string) []string { flip(d, "Packages"); return debs },
			[]string{"Packages has sha256 ", "Packages.gz does not hold Packages"}},
		{"a flipped byte in a package", func(d string, debs []string) []string { flip(d, "tern_1.2.3_arm64.deb"); return debs },
			[]string{"tern_1.2.3_arm64.deb has sha256 "}},
		{"a missing package", func(d string, debs []string) []string {
			os.Remove(filepath.Join(d, "tern-doc_1.2.3_all.deb"))
			return debs
		}, []string{"tern-doc_1.2.3_all.deb is listed but missing"}},
		{"a package the index does not list", func(d string, debs []string) []string {
			return append(debs, fakeDeb(t, d, control("tern", "1.2.3", "riscv64"), "gz"))
		}, []string{"tern_1.2.3_riscv64.deb is a package of the release but Packages does not list it"}},
		{"a listed package not the release's", func(d string, debs []string) []string { return debs[1:] },
			[]string{"Packages lists ./tern_1.2.3_arm64.deb, which is not one of the release's packages"}},
		{"Release edited", func(d string, debs []string) []string {
			p := filepath.Join(d, "Release")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte("Label: tern"), []byte("Label: evil"), 1), 0o644)
			return debs
		}, []string{"Release.gpg does not sign Release with a key of " + key.Fingerprint(), "InRelease signs other text than Release"}},
		{"signed by another key", func(d string, debs []string) []string {
			o, _ := fresh(t, other)
			for _, f := range []string{"InRelease", "Release.gpg"} {
				b, _ := os.ReadFile(filepath.Join(o, f))
				os.WriteFile(filepath.Join(d, f), b, 0o644)
			}
			return debs
		}, []string{"Release.gpg does not sign Release with a key of " + key.Fingerprint(), "InRelease is not signed by a key of " + key.Fingerprint()}},
		{"another keyring for users", func(d string, debs []string) []string {
			pub, _ := other.PublicBinary()
			os.WriteFile(filepath.Join(d, "tern-archive-keyring.gpg"), pub, 0o644)
			return debs
		}, []string{"tern-archive-keyring.gpg holds " + other.Fingerprint() + ", not the release's key " + key.Fingerprint()}},
		{"no keyring for users", func(d string, debs []string) []string {
			os.Remove(filepath.Join(d, "tern-archive-keyring.gpg"))
			return debs
		}, []string{"the repository holds 0 files *-archive-keyring.gpg, not the one users install"}},
		{"no Packages.gz", func(d string, debs []string) []string {
			os.Remove(filepath.Join(d, "Packages.gz"))
			return debs
		}, []string{"Packages.gz is listed but missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, debs := fresh(t, key)
			debs = tc.tamper(dir, debs)
			err := VerifyFlat(dir, debs, key.Public())
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
	dir, debs := threeDebs(t)
	if _, err := WriteFlat(dir, debs, Options{Product: "tern", Time: commit, Key: key}); err != nil {
		t.Fatal(err)
	}
	if err := VerifyFlat(dir, debs, key.Public()); err != nil {
		t.Fatal(err)
	}
}

// A snapshot's key is derived from its commit: the same commit, the same
// key, so the snapshot's repository is reproducible; another commit,
// another key.
func TestDeriveSnapshotKeyIsReproducible(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	a, err := DeriveSnapshotKey("acme", "abc123", at)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := DeriveSnapshotKey("acme", "abc123", at)
	c, _ := DeriveSnapshotKey("acme", "def456", at)
	if a.Fingerprint() != b.Fingerprint() || a.Fingerprint() == c.Fingerprint() {
		t.Fatalf("fingerprints %s, %s, %s", a.Fingerprint(), b.Fingerprint(), c.Fingerprint())
	}
	pa, _ := a.PublicBinary()
	pb, _ := b.PublicBinary()
	if !bytes.Equal(pa, pb) {
		t.Error("the same commit derived two different public keys")
	}
}

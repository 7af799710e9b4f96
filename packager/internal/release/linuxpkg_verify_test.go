package release

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/aptrepo"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/linuxpkg"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/verify"
)

// TestVerifyRefusesALinuxPackageWithAnotherBinary cuts a whole signed
// snapshot release, then, for each of the .deb, the .rpm and the .apk,
// puts another binary in linux-x64's package as an attacker holding every
// key would: the package rebuilt well-formed by linuxpkg, the apt
// repository signed again (with the snapshot's key, which anyone can
// derive), the manifest and SHA256SUMS updated and signed again. Only the
// package's payload check can tell, and it must.
func TestVerifyRefusesALinuxPackageWithAnotherBinary(t *testing.T) {
	keyPEM, priv := testKey(t)
	start := time.Now()
	good := mustRelease(t, newRepo(t), Options{Snapshot: true, Sign: sign.Options{Key: keyPEM, Password: []byte("secret")}})
	t.Logf("the release: %s", time.Since(start).Round(time.Millisecond))
	c := cfg(t)
	opts := verify.Options{Config: c, PublicKey: &priv.PublicKey}
	start = time.Now()
	if err := verify.Release(good, opts); err != nil {
		t.Fatalf("the untouched release is refused: %v", err)
	}
	t.Logf("verify of the untouched release: %s", time.Since(start).Round(time.Millisecond))

	m, err := manifest.Read(filepath.Join(good, layout.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	x64, _ := c.Target("linux-x64")
	arch, _ := layout.LinuxArchFor(x64)
	lv, err := layout.LinuxVersionFor(m.Version, m.Time)
	if err != nil {
		t.Fatal(err)
	}
	archive := layout.ArchiveName(c, m.Version, x64)
	tree := unpackTree(t, filepath.Join(good, archive), layout.Prefix(c, m.Version, x64)+"/")
	released, err := os.ReadFile(filepath.Join(tree, "bin", "tern"))
	if err != nil {
		t.Fatal(err)
	}
	// Another linux-x64 ELF: the released one with a byte of its data
	// changed, so every other check of its format still passes.
	other := bytes.Clone(released)
	other[len(other)/2] ^= 0xff
	if err := os.WriteFile(filepath.Join(tree, "bin", "tern"), other, 0o755); err != nil {
		t.Fatal(err)
	}

	for _, f := range layout.LinuxFormats {
		t.Run(string(f), func(t *testing.T) {
			dir := copyDir(t, good)
			name := layout.LinuxPackageName(c, f, lv, arch)
			var b bytes.Buffer
			if err := linuxpkg.Build(&b, linuxpkg.Package{Config: c, Target: x64, Tree: tree, Format: f, Version: lv, Arch: arch,
				Time: m.Time, Commit: m.Commit}); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, name), b.String())
			if f == layout.Deb {
				resignApt(t, dir, c.Product, m)
			}
			reseal(t, dir, priv, nil)

			start := time.Now()
			err := verify.Release(dir, opts)
			t.Logf("verify: %s", time.Since(start).Round(time.Millisecond))
			want := name + ": /usr/bin/tern has sha256 " + sha256Hex(other) + ", but bin/tern in " + archive +
				" has sha256 " + sha256Hex(released) + ": the package does not ship the released binary"
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("want a problem %q, got: %v", want, err)
			}
			// Nothing else tells: the payload check is the one that catches it.
			if n := len(err.(*verify.Error).Problems); n != 1 {
				t.Errorf("want one problem, got %d: %v", n, err)
			}
		})
	}
}

// unpackTree writes an archive's files, less its top directory, into a
// new directory: the target's staged tree as it was released.
func unpackTree(t *testing.T, archive, prefix string) string {
	t.Helper()
	raw, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, m := range readTar(t, gz) {
		rel := strings.TrimPrefix(m.hdr.Name, prefix)
		if rel == "" || strings.HasSuffix(rel, "/") {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, m.data, os.FileMode(m.hdr.Mode).Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// resignApt writes the apt repository of dir's .debs again, signed with
// the snapshot's key, derived from the commit as the release derived it.
func resignApt(t *testing.T, dir, product string, m *manifest.Manifest) {
	t.Helper()
	for _, name := range aptrepo.FlatFiles(product) {
		os.Remove(filepath.Join(dir, name))
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	key, err := aptrepo.DeriveSnapshotKey(product, m.Commit, m.Time)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aptrepo.WriteFlat(dir, debs, aptrepo.Options{Product: product, Version: m.Version, Time: m.Time, Key: key}); err != nil {
		t.Fatal(err)
	}
}

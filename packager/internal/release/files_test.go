package release

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/verify"
)

// release.yaml's files: land in every target's tree, so the archive, the
// npm platform package (and the image) ship them alike; verify refuses a
// release whose trees disagree on one.
func TestExtraFilesShipInEveryTree(t *testing.T) {
	repo := newRepo(t)
	const man = ".TH TERN 1\n"
	writeFile(t, filepath.Join(repo, "doc", "tern.1"), man)
	writeFile(t, filepath.Join(repo, "README.md"), "# readme\n")
	raw := readFile(t, filepath.Join(repo, "release.yaml"))
	writeFile(t, filepath.Join(repo, "release.yaml"), raw+"\nfiles:\n  - {src: README.md, dst: README.md}\n  - {src: doc/tern.1, dst: share/man/man1/tern.1}\n")
	keyPEM, priv := testKey(t)
	dir := mustRelease(t, repo, Options{Snapshot: true, Sign: sign.Options{Key: keyPEM, Password: []byte("secret")}})
	c, err := config.Load(filepath.Join(repo, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	opts := verify.Options{Config: c, PublicKey: &priv.PublicKey}
	if err := verify.Release(dir, opts); err != nil {
		t.Fatalf("verify: %v", err)
	}
	for _, tg := range c.Targets {
		prefix := layout.Prefix(c, fixtureVersion, tg) + "/"
		name := layout.ArchiveName(c, fixtureVersion, tg)
		if layout.FormatFor(tg) != layout.TarGz {
			continue // zip members are checked by verify above
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, m := range readTar(t, zr) {
			got[strings.TrimPrefix(m.hdr.Name, prefix)] = string(m.data)
		}
		f.Close()
		if got["share/man/man1/tern.1"] != man || got["README.md"] != "# readme\n" {
			t.Errorf("%s lacks the extra files: %v", name, keys(got))
		}
	}

	x64 := "tern-" + fixtureVersion + "-linux-x64.tar.gz"
	tampered := copyDir(t, dir)
	editTarGz(t, filepath.Join(tampered, x64), func(ms []tarMember) []tarMember {
		for i := range ms {
			if strings.HasSuffix(ms[i].hdr.Name, "/share/man/man1/tern.1") {
				ms[i].data = append(bytes.Clone(ms[i].data), ".\\\" appended\n"...)
			}
		}
		return ms
	})
	reseal(t, tampered, priv, nil)
	err = verify.Release(tampered, opts)
	if err == nil || !strings.Contains(err.Error(), "share/man/man1/tern.1 has sha256") || !strings.Contains(err.Error(), "ship one file alike in every tree") {
		t.Fatalf("verify of a release whose trees disagree on an extra file: %v", err)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// With the npm and installer doors closed, the release has neither, and
// verify requires neither.
func TestNPMAndInstallerDoorsOff(t *testing.T) {
	repo := newRepo(t)
	raw := readFile(t, filepath.Join(repo, "release.yaml"))
	writeFile(t, filepath.Join(repo, "release.yaml"), raw+"\ndoors: {npm: false, installers: false}\n")
	keyPEM, priv := testKey(t)
	dir := mustRelease(t, repo, Options{Snapshot: true, Sign: sign.Options{Key: keyPEM, Password: []byte("secret")}})
	c, err := config.Load(filepath.Join(repo, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.Release(dir, verify.Options{Config: c, PublicKey: &priv.PublicKey}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tgz") || strings.HasPrefix(e.Name(), "install.") {
			t.Errorf("the release holds %s, whose door is closed", e.Name())
		}
	}
}

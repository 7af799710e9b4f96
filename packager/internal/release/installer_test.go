//go:build unix

package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/templates"
	"github.com/tern-agent/tern/packager/internal/version"
)

// releaseServer serves releases laid out as GitHub serves them:
// /download/v<version>/<file> and /latest/download/<file>, with one fault
// injected at a time.
type releaseServer struct {
	*httptest.Server
	dirs   map[string]string // version → release dir
	latest string

	mu    sync.Mutex
	fault string // see serve
	// redirectTo is where the "redirect" fault sends archive requests.
	redirectTo string
}

func (s *releaseServer) setFault(f string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

func (s *releaseServer) serve(w http.ResponseWriter, r *http.Request) {
	var ver, file string
	switch parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/"); {
	case len(parts) == 3 && parts[0] == "latest" && parts[1] == "download":
		ver, file = s.latest, parts[2]
	case len(parts) == 3 && parts[0] == "download" && strings.HasPrefix(parts[1], "v"):
		ver, file = strings.TrimPrefix(parts[1], "v"), parts[2]
	default:
		http.NotFound(w, r)
		return
	}
	dir, ok := s.dirs[ver]
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	fault := s.fault
	s.mu.Unlock()
	archive := strings.HasSuffix(file, "-linux-x64.tar.gz") || strings.HasSuffix(file, "-linux-arm64.tar.gz")
	switch {
	case fault == "flip" && archive:
		body[len(body)/2] ^= 0xff
	case fault == "truncate" && archive:
		body = body[:len(body)/2]
	case fault == "500" && file == layout.Sums:
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case fault == "cut" && archive:
		// Promise the whole body, send half, hang up.
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	case fault == "sums-wrong" && file == layout.Sums:
		body = regexpReplaceSum(body, "-linux-", strings.Repeat("0", 64))
	case fault == "sums-missing" && file == layout.Sums:
		body = dropLines(body, "-linux-")
	case fault == "bundle" && file == layout.SumsBundle:
		body = bytes.Replace(body, []byte(`"signature":"M`), []byte(`"signature":"N`), 1)
	case fault == "redirect" && archive:
		s.mu.Lock()
		to := s.redirectTo
		s.mu.Unlock()
		http.Redirect(w, r, to+r.URL.Path, http.StatusFound)
		return
	case fault == "swapped" && archive:
		body = swappedArchive(strings.TrimSuffix(file, ".tar.gz"), ver)
	case fault == "swapped" && file == layout.Sums:
		// A mirror that swaps the archive swaps SHA256SUMS to match; only the
		// signature, over the original SHA256SUMS, can tell.
		for _, t := range []string{"linux-x64", "linux-arm64"} {
			name := fmt.Sprintf("tern-%s-%s", ver, t)
			body = regexpReplaceSum(body, name+".tar.gz", sha256Hex(swappedArchive(name, ver)))
		}
	case fault == "hostile" && archive:
		body = hostileArchive(strings.TrimSuffix(file, ".tar.gz"))
	case fault == "hostile" && file == layout.Sums:
		// An attacker who controls the mirror controls SHA256SUMS too; only
		// a signature (not required here) would catch it, so the unpacking
		// guard must.
		for _, t := range []string{"linux-x64", "linux-arm64"} {
			name := fmt.Sprintf("tern-%s-%s", ver, t)
			body = regexpReplaceSum(body, name+".tar.gz", sha256Hex(hostileArchive(name)))
		}
	}
	w.Write(body)
}

func regexpReplaceSum(sums []byte, nameContains, sum string) []byte {
	var out []string
	for _, line := range strings.Split(strings.TrimRight(string(sums), "\n"), "\n") {
		if strings.Contains(line, nameContains) {
			line = sum + line[64:]
		}
		out = append(out, line)
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

func dropLines(sums []byte, nameContains string) []byte {
	var out []string
	for _, line := range strings.Split(strings.TrimRight(string(sums), "\n"), "\n") {
		if !strings.Contains(line, nameContains) {
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

func hostileArchive(prefix string) []byte {
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, name := range []string{prefix + "/bin/tern", prefix + "/../../../.bashrc"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: 3, Typeflag: tar.TypeReg})
		tw.Write([]byte("x\n"[:2]))
		tw.Write([]byte{'\n'})
	}
	tw.Close()
	gz.Close()
	return b.Bytes()
}

// installerFixture is two signed releases, A and B (the latest), served
// on 127.0.0.1, with the cosign public key that signed them.
type installerFixture struct {
	srv    *releaseServer
	a, b   string // versions
	pubKey string
}

var (
	installerOnce sync.Once
	installerFix  installerFixture
	installerErr  error
)

func newInstallerFixture(t *testing.T) installerFixture {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the fixture releases' binaries are run on linux")
	}
	keyPEM, priv := testKey(t)
	pub, _ := sign.PublicKeyPEM(&priv.PublicKey)
	pubPath := filepath.Join(t.TempDir(), "cosign.pub")
	writeFile(t, pubPath, string(pub))
	signWith := sign.Options{Key: keyPEM, Password: []byte("secret")}

	relA := copyDir(t, mustRelease(t, newRepo(t), Options{Snapshot: true, Sign: signWith}))

	// Release B: one more commit, its own snapshot version and binaries.
	repoB := newRepo(t)
	for _, args := range [][]string{
		{"-c", "user.name=fixture", "-c", "user.email=fixture@example.com", "commit", "-q", "--allow-empty", "-m", "B"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repoB
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+fixtureCommitDate, "GIT_COMMITTER_DATE="+fixtureCommitDate)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git: %v\n%s", err, out)
		}
	}
	infoB, err := version.FromGit(repoB, true)
	if err != nil {
		t.Fatal(err)
	}
	bins := filepath.Join(t.TempDir(), "bins")
	copyFile(t, filepath.Join(fixtureBins, "src", "main.go"), filepath.Join(bins, "src", "main.go"))
	copyFile(t, filepath.Join(fixtureBins, "src", "go.mod"), filepath.Join(bins, "src", "go.mod"))
	for _, tg := range cfg(t).Targets {
		rel := filepath.Join("dist", "build", "tern_"+tg.GOOS+"_"+tg.GOARCH, cfg(t).BinaryName(tg))
		if err := buildFixture(filepath.Join(bins, "src"), filepath.Join(repoB, rel), tg, infoB.String(), infoB.Commit); err != nil {
			t.Fatal(err)
		}
	}
	relB := copyDir(t, mustRelease(t, repoB, Options{Snapshot: true, Sign: signWith}))

	s := &releaseServer{dirs: map[string]string{fixtureVersion: relA, infoB.String(): relB}, latest: infoB.String()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(s.serve)}}
	s.Start()
	t.Cleanup(s.Close)
	return installerFixture{srv: s, a: fixtureVersion, b: infoB.String(), pubKey: pubPath}
}

// toolDir makes a PATH of links to the tools install.sh may use: one
// downloader, and the hashers and cosign unless left out.
func toolDir(t *testing.T, downloader string, without ...string) string {
	t.Helper()
	dir := t.TempDir()
	tools := []string{downloader, "uname", "mktemp", "tar", "gzip", "rm", "mv", "ln", "mkdir", "rmdir", "cat",
		"grep", "sed", "awk", "head", "cut", "readlink", "dirname", "sort", "sha256sum", "cosign"}
	for _, tool := range tools {
		if slices.Contains(without, tool) {
			continue
		}
		p := ""
		if tool == "cosign" {
			p = os.Getenv("COSIGN")
		} else if found, err := exec.LookPath(tool); err == nil {
			p = found
		}
		if p == "" {
			if tool == "cosign" {
				continue
			}
			t.Fatalf("%s is not installed", tool)
		}
		os.Symlink(p, filepath.Join(dir, tool))
	}
	return dir
}

type shell struct{ name, bin string }

func shells(t *testing.T) []shell {
	var out []shell
	for _, s := range []shell{{"dash", "dash"}, {"bash", "bash"}, {"busybox", "busybox"}} {
		p, err := exec.LookPath(s.bin)
		if err != nil {
			if os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
				t.Fatalf("%s is not installed; `make test` installs it", s.bin)
			}
			continue
		}
		out = append(out, shell{s.name, p})
	}
	return out
}

// install runs install.sh under sh with HOME and PATH set, and returns its
// output and exit code.
func (f installerFixture) install(t *testing.T, sh shell, home, path string, args ...string) cmdResult {
	t.Helper()
	return f.installEnv(t, sh, home, path, nil, args...)
}

// installScript is the install.sh under test. TERN_TEST_INSTALL_SH points
// the tests at another copy, e.g. an older one, to see a regression test
// fail against it.
func installScript() string {
	if p := os.Getenv("TERN_TEST_INSTALL_SH"); p != "" {
		return p
	}
	return filepath.Join(filepath.Dir(realConfig), "installers", "install.sh")
}

// installEnv is install with env added (and overriding) last.
func (f installerFixture) installEnv(t *testing.T, sh shell, home, path string, env []string, args ...string) cmdResult {
	t.Helper()
	argv := append([]string{installScript()}, args...)
	if sh.name == "busybox" {
		argv = append([]string{"sh"}, argv...)
	}
	cmd := exec.Command(sh.bin, argv...)
	cmd.Env = []string{"HOME=" + home, "PATH=" + path, "TMPDIR=" + filepath.Join(home, "tmp"),
		"TERN_DOWNLOAD_URL=" + f.srv.URL, "TERN_COSIGN_KEY=" + f.pubKey, "SHELL=/bin/bash"}
	cmd.Env = append(cmd.Env, env...)
	os.MkdirAll(filepath.Join(home, "tmp"), 0o755)
	out, _ := cmd.CombinedOutput()
	return cmdResult{string(out), cmd.ProcessState.ExitCode()}
}

func ternVersion(t *testing.T, home string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(home, ".local", "bin", "tern"), "--version").Output()
	if err != nil {
		return "not runnable: " + err.Error()
	}
	return strings.Fields(string(out))[1]
}

// listing is every path under home but tmp/, for before-and-after checks.
func listing(t *testing.T, home string) string {
	var paths []string
	filepath.Walk(home, func(p string, info os.FileInfo, err error) error {
		rel, _ := filepath.Rel(home, p)
		if rel == "tmp" && info.IsDir() {
			return filepath.SkipDir
		}
		paths = append(paths, rel)
		return nil
	})
	return strings.Join(paths, "\n")
}

func TestInstallSh(t *testing.T) {
	if os.Getenv("COSIGN") == "" && os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
		t.Fatal("COSIGN is not set")
	}
	f := newInstallerFixture(t)
	for _, sh := range shells(t) {
		for _, dl := range []string{"curl", "wget"} {
			t.Run(sh.name+"/"+dl, func(t *testing.T) {
				f.srv.setFault("")
				path := toolDir(t, dl)

				// Success: fresh (latest), downgrade, upgrade, re-install, uninstall.
				home := t.TempDir()
				writeFile(t, filepath.Join(home, ".profile"), "# the user's own profile\n")
				before := listing(t, home)
				if r := f.install(t, sh, home, path); r.code != 0 || ternVersion(t, home) != f.b {
					t.Fatalf("fresh install of latest: exit %d, tern is %s\n%s", r.code, ternVersion(t, home), r.out)
				} else if !strings.Contains(r.out, "checksum verified") || (os.Getenv("COSIGN") != "" && !strings.Contains(r.out, "signature verified")) {
					t.Fatalf("the install must say what it verified:\n%s", r.out)
				}
				if !strings.Contains(readFile(t, filepath.Join(home, ".profile")), ".local/bin") {
					t.Fatal("the install did not put ~/.local/bin on PATH in .profile")
				}
				if r := f.install(t, sh, home, path, "--version", f.a); r.code != 0 || ternVersion(t, home) != f.a {
					t.Fatalf("downgrade to %s: exit %d, tern is %s\n%s", f.a, r.code, ternVersion(t, home), r.out)
				}
				if r := f.install(t, sh, home, path, "--version", "v"+f.b); r.code != 0 || ternVersion(t, home) != f.b {
					t.Fatalf("upgrade to %s: exit %d, tern is %s\n%s", f.b, r.code, ternVersion(t, home), r.out)
				}
				if r := f.install(t, sh, home, path, "--version", f.b); r.code != 0 || !strings.Contains(r.out, "already installed") {
					t.Fatalf("a re-install must be a no-op that says so: exit %d\n%s", r.code, r.out)
				}
				if r := f.install(t, sh, home, path, "--uninstall"); r.code != 0 {
					t.Fatalf("uninstall: exit %d\n%s", r.code, r.out)
				}
				if after := listing(t, home); after != before || readFile(t, filepath.Join(home, ".profile")) != "# the user's own profile\n" {
					t.Fatalf("uninstall left something behind:\nbefore:\n%s\nafter:\n%s\n.profile: %q", before, after, readFile(t, filepath.Join(home, ".profile")))
				}

				// Faults: each on top of a working install of A.
				base := t.TempDir()
				if r := f.install(t, sh, base, path, "--version", f.a, "--no-modify-path"); r.code != 0 {
					t.Fatalf("installing %s: %s", f.a, r.out)
				}
				for _, tc := range []struct {
					fault string
					args  []string
					path  string
					want  string
				}{
					{"flip", nil, path, "SHA256SUMS says"},
					{"truncate", nil, path, "SHA256SUMS says"},
					{"", []string{"--version", "9.9.9"}, path, "download failed"},
					{"500", nil, path, "download failed"},
					{"cut", nil, path, "download failed"},
					{"sums-wrong", nil, path, "SHA256SUMS says " + strings.Repeat("0", 64)},
					{"sums-missing", nil, path, "SHA256SUMS lists no"},
					{"bundle", []string{"--require-signature"}, path, "does not verify over SHA256SUMS"},
					{"", []string{"--require-signature"}, toolDir(t, dl, "cosign"), "--require-signature needs cosign"},
					{"", nil, toolDir(t, dl, "sha256sum"), "no sha256sum, shasum or openssl"},
					{"hostile", nil, toolDir(t, dl, "cosign"), "unsafe entry"},
				} {
					name := tc.fault
					if name == "" {
						name = strings.Join(tc.args, " ")
					}
					t.Run(name, func(t *testing.T) {
						if tc.fault == "bundle" && os.Getenv("COSIGN") == "" {
							t.Skip("COSIGN is not set")
						}
						home := t.TempDir()
						if out, err := exec.Command("cp", "-a", base+"/.", home).CombinedOutput(); err != nil {
							t.Fatalf("cp: %v %s", err, out)
						}
						before := listing(t, home)
						f.srv.setFault(tc.fault)
						defer f.srv.setFault("")
						args := tc.args
						if !slices.Contains(args, "--version") {
							args = append(args, "--version", f.b)
						}
						r := f.install(t, sh, home, tc.path, append(args, "--no-modify-path")...)
						if r.code == 0 || !strings.Contains(r.out, tc.want) {
							t.Fatalf("exit %d, want a failure saying %q:\n%s", r.code, tc.want, r.out)
						}
						if after := listing(t, home); after != before {
							t.Fatalf("a failed install changed the install dirs:\nbefore:\n%s\nafter:\n%s", before, after)
						}
						if v := ternVersion(t, home); v != f.a {
							t.Fatalf("the previous version no longer runs: %s", v)
						}
					})
				}
			})
		}
	}
}

func TestInstallShPassesShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
			t.Fatal("shellcheck is not installed; `make test` installs it")
		}
		t.Skip("shellcheck is not installed")
	}
	if out, err := exec.Command(sc, "--shell=sh", installScript()).CombinedOutput(); err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}

// The script's built-in release facts must be release.yaml's.
func TestInstallShMatchesTheReleaseConfig(t *testing.T) {
	c := cfg(t)
	script := readFile(t, filepath.Join(filepath.Dir(realConfig), "installers", "install.sh"))
	var unix []string
	for _, tg := range c.Targets {
		if tg.GOOS != "windows" {
			unix = append(unix, tg.Name)
		}
	}
	for _, want := range []string{
		"PRODUCT=" + c.Product + "\n",
		"BINARY=" + c.Binary + "\n",
		"DEFAULT_DOWNLOAD_URL=" + c.Repository + "/releases\n",
		`SUPPORTED_TARGETS="` + strings.Join(unix, " ") + `"`,
		"CERT_IDENTITY_REGEXP='" + c.Signing.CertificateIdentityRegexp + "'",
		"CERT_OIDC_ISSUER=" + c.Signing.CertificateOIDCIssuer + "\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("install.sh lacks %q from release.yaml", want)
		}
	}
}

func TestInstallPs1MatchesTheReleaseConfig(t *testing.T) {
	c := cfg(t)
	script := readFile(t, filepath.Join(filepath.Dir(realConfig), "installers", "install.ps1"))
	var windows []string
	for _, tg := range c.Targets {
		if tg.GOOS == "windows" {
			windows = append(windows, tg.Name)
		}
	}
	for _, want := range []string{
		"$Product = '" + c.Product + "'",
		"$Binary = '" + c.Binary + "'",
		"$DefaultDownloadUrl = '" + c.Repository + "/releases'",
		"$SupportedTargets = '" + strings.Join(windows, " ") + "'",
		"$CertIdentityRegexp = '" + c.Signing.CertificateIdentityRegexp + "'",
		"$CertOidcIssuer = '" + c.Signing.CertificateOIDCIssuer + "'",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("install.ps1 lacks %q from release.yaml", want)
		}
	}
}

// acmeRelease is release.yaml of a product whose command has another name
// and states its version its own way: `acmectl version --short` prints
// "acmectl v1.2.3 (…)".
const acmeRelease = `product: acme
binary: acmectl
repository: https://git.example.org/acme-corp/acme
license_file: LICENSE
doors: {npm: false}
version_check: {args: [version, --short], contains: "acmectl v{{.Version}}"}
targets:
  - {name: linux-x64,   goos: linux,   goarch: amd64}
  - {name: linux-arm64, goos: linux,   goarch: arm64}
  - {name: win-x64,     goos: windows, goarch: amd64}
signing:
  certificate_identity_regexp: ^https://git\.example\.org/acme-corp/acme/release@refs/tags/v
  certificate_oidc_issuer: https://issuer.example.org
`

// acmeArchive is the tree of acme for target at version, whose acmectl
// answers `version --short` with reported, and anything else with a usage
// error.
func acmeArchive(version, target, reported string) []byte {
	script := "#!/bin/sh\n[ \"$*\" = 'version --short' ] || { echo 'usage: acmectl version --short' >&2; exit 2; }\necho 'acmectl v" + reported + " (linux)'\n"
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	prefix := "acme-" + version + "-" + target
	tw.WriteHeader(&tar.Header{Name: prefix + "/", Mode: 0o755, Typeflag: tar.TypeDir})
	tw.WriteHeader(&tar.Header{Name: prefix + "/bin/", Mode: 0o755, Typeflag: tar.TypeDir})
	tw.WriteHeader(&tar.Header{Name: prefix + "/bin/acmectl", Mode: 0o755, Size: int64(len(script)), Typeflag: tar.TypeReg})
	tw.Write([]byte(script))
	tw.Close()
	gz.Close()
	return b.Bytes()
}

// install.sh of a product whose binary is named otherwise installs that
// binary under its own name, from the product's archives into the
// product's data directory, and asks it its version as release.yaml's
// version_check says, refusing one that states a longer version.
func TestInstallShInstallsTheBinaryByItsName(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the release made here has a linux-x64 archive only")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "release.yaml"), acmeRelease)
	c, err := config.Load(filepath.Join(dir, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := templates.Render(c, dir, "install.sh")
	if err != nil {
		t.Fatal(err)
	}
	installSh := filepath.Join(dir, "install.sh")
	writeFile(t, installSh, string(script))

	// A release of one archive, SHA256SUMS, and a signature that openssl
	// checks against the key given with --public-key.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubKey := filepath.Join(dir, "cosign.pub")
	writeFile(t, pubKey, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	release := func(reported string) string {
		rel := t.TempDir()
		archive := acmeArchive("1.2.3", "linux-x64", reported)
		writeFile(t, filepath.Join(rel, "acme-1.2.3-linux-x64.tar.gz"), string(archive))
		sums := sha256Hex(archive) + "  acme-1.2.3-linux-x64.tar.gz\n"
		writeFile(t, filepath.Join(rel, layout.Sums), sums)
		digest := sha256.Sum256([]byte(sums))
		sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(rel, layout.SumsBundle), `{"messageSignature":{"signature":"`+base64.StdEncoding.EncodeToString(sig)+`"}}`)
		return rel
	}
	serve := func(reported string) *releaseServer {
		srv := &releaseServer{dirs: map[string]string{"1.2.3": release(reported)}, latest: "1.2.3"}
		srv.Server = httptest.NewServer(http.HandlerFunc(srv.serve))
		t.Cleanup(srv.Close)
		return srv
	}
	good, longer := serve("1.2.3"), serve("1.2.30")
	path := linkTools(t, toolDir(t, "curl", "cosign"), "openssl")

	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) {
			run := func(srv *releaseServer, home string, args ...string) cmdResult {
				argv := append([]string{installSh}, args...)
				if sh.name == "busybox" {
					argv = append([]string{"sh"}, argv...)
				}
				cmd := exec.Command(sh.bin, argv...)
				cmd.Env = []string{"HOME=" + home, "PATH=" + path, "TMPDIR=" + home, "SHELL=/bin/sh",
					"ACMECTL_DOWNLOAD_URL=" + srv.URL, "ACMECTL_PUBLIC_KEY=" + pubKey}
				out, _ := cmd.CombinedOutput()
				return cmdResult{string(out), cmd.ProcessState.ExitCode()}
			}
			home := t.TempDir()
			r := run(good, home, "--no-modify-path")
			if r.code != 0 || !strings.Contains(r.out, "signature verified (openssl, with the public key") {
				t.Fatalf("exit %d:\n%s", r.code, r.out)
			}
			link := filepath.Join(home, ".local", "bin", "acmectl")
			want := filepath.Join(home, ".local", "share", "acme", "versions", "1.2.3", "bin", "acmectl")
			if got, err := os.Readlink(link); err != nil || got != want {
				t.Fatalf("%s links to %q (%v), want %s:\n%s", link, got, err, want, r.out)
			}
			if out, err := exec.Command(link, "version", "--short").Output(); err != nil || string(out) != "acmectl v1.2.3 (linux)\n" {
				t.Fatalf("the installed acmectl: %q, %v", out, err)
			}
			if r := run(good, home, "--uninstall"); r.code != 0 || pathExists(link) || pathExists(filepath.Join(home, ".local", "share", "acme")) {
				t.Fatalf("uninstall: exit %d:\n%s\n%s", r.code, r.out, listing(t, home))
			}

			// A binary that states a longer version is not this release's.
			home = t.TempDir()
			r = run(longer, home, "--version", "1.2.3", "--no-modify-path")
			const refusal = "acme-install: error: the unpacked acmectl does not report version 1.2.3: its output should hold 'acmectl v1.2.3' (release.yaml's version_check), and begins 'acmectl v1.2.30 (linux)'; not installing"
			if r.code == 0 || !strings.Contains(r.out, refusal) {
				t.Fatalf("exit %d, want %q:\n%s", r.code, refusal, r.out)
			}
			if pathExists(filepath.Join(home, ".local")) {
				t.Fatalf("a refused install left %s", listing(t, home))
			}
		})
	}
}

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
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The red team's findings against install.sh, one test each: an unchecked
// release was installed silently and its binary run; downloads followed
// plain http; paths went into ~/.profile and the receipt unquoted; a cut
// download ran its prefix.

// ranMarker is the file a swapped release's binary makes when it is run.
const ranMarker = "ran-unchecked-binary"

// swappedArchive is a release archive whose binary, when run, leaves a mark
// in $HOME and then claims to be the right version.
func swappedArchive(prefix, ver string) []byte {
	script := "#!/bin/sh\n: >\"$HOME/" + ranMarker + "\"\necho \"tern " + ver + " (swapped)\"\n"
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: prefix + "/bin/tern", Mode: 0o755, Size: int64(len(script)), Typeflag: tar.TypeReg})
	tw.Write([]byte(script))
	tw.Close()
	gz.Close()
	return b.Bytes()
}

// linkTools adds links to more tools to a toolDir.
func linkTools(t *testing.T, dir string, tools ...string) string {
	t.Helper()
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is not installed", tool)
		}
		os.Symlink(p, filepath.Join(dir, tool))
	}
	return dir
}

func pathExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// Finding 1: without cosign, a swapped release (archive and SHA256SUMS both
// replaced) was installed without a word, and its binary run for --version.
func TestInstallShWithoutCosign(t *testing.T) {
	f := newInstallerFixture(t)
	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) {
			noCheckers := toolDir(t, "curl", "cosign")
			withOpenSSL := linkTools(t, toolDir(t, "curl", "cosign"), "openssl")

			t.Run("no cosign, no openssl: says so, runs nothing", func(t *testing.T) {
				f.srv.setFault("swapped")
				defer f.srv.setFault("")
				home := t.TempDir()
				r := f.install(t, sh, home, noCheckers, "--version", f.b, "--no-modify-path")
				if !strings.Contains(r.out, "the signature is NOT checked") || !strings.Contains(r.out, "neither cosign nor openssl") {
					t.Errorf("exit %d: an install whose signature is not checked must say so, and why:\n%s", r.code, r.out)
				}
				if pathExists(filepath.Join(home, ranMarker)) {
					t.Errorf("the installer ran a binary whose signature it had not checked:\n%s", r.out)
				}
			})
			t.Run("no cosign, no openssl, --require-signature", func(t *testing.T) {
				home := t.TempDir()
				r := f.install(t, sh, home, noCheckers, "--version", f.b, "--require-signature")
				if r.code == 0 || !strings.Contains(r.out, "--require-signature needs cosign or openssl") {
					t.Errorf("exit %d:\n%s", r.code, r.out)
				}
			})
			t.Run("openssl catches the swap", func(t *testing.T) {
				f.srv.setFault("swapped")
				defer f.srv.setFault("")
				home := t.TempDir()
				before := listing(t, home)
				r := f.install(t, sh, home, withOpenSSL, "--version", f.b, "--no-modify-path")
				if r.code == 0 || !strings.Contains(r.out, "does not verify over SHA256SUMS") {
					t.Errorf("exit %d, want a refusal:\n%s", r.code, r.out)
				}
				if pathExists(filepath.Join(home, ranMarker)) || listing(t, home) != before {
					t.Errorf("a refused install ran or left something:\n%s", r.out)
				}
			})
			t.Run("openssl checks a good release, then the binary is run", func(t *testing.T) {
				home := t.TempDir()
				r := f.install(t, sh, home, withOpenSSL, "--version", f.b, "--no-modify-path")
				if r.code != 0 || !strings.Contains(r.out, "signature verified (openssl, with the public key") || ternVersion(t, home) != f.b {
					t.Errorf("exit %d, tern is %s:\n%s", r.code, ternVersion(t, home), r.out)
				}
			})
			t.Run("a pinned key, filled in by the packager", func(t *testing.T) {
				script := readFile(t, installScript())
				pub := strings.TrimSpace(readFile(t, f.pubKey))
				if !strings.Contains(script, "\nPUBLIC_KEY_PEM=''\n") {
					t.Fatal("install.sh has no PUBLIC_KEY_PEM='' line for the packager to fill")
				}
				pinned := filepath.Join(t.TempDir(), "install.sh")
				writeFile(t, pinned, strings.Replace(script, "\nPUBLIC_KEY_PEM=''\n", "\nPUBLIC_KEY_PEM='"+pub+"'\n", 1))
				t.Setenv("TERN_TEST_INSTALL_SH", pinned)
				home := t.TempDir()
				r := f.installEnv(t, sh, home, withOpenSSL, []string{"TERN_COSIGN_KEY="}, "--version", f.b, "--no-modify-path")
				if r.code != 0 || !strings.Contains(r.out, "signature verified (openssl") {
					t.Errorf("exit %d:\n%s", r.code, r.out)
				}
				f.srv.setFault("swapped")
				defer f.srv.setFault("")
				home = t.TempDir()
				r = f.installEnv(t, sh, home, withOpenSSL, []string{"TERN_COSIGN_KEY="}, "--version", f.b, "--no-modify-path")
				if r.code == 0 || !strings.Contains(r.out, "does not verify") || pathExists(filepath.Join(home, ranMarker)) {
					t.Errorf("exit %d, want a refusal:\n%s", r.code, r.out)
				}
			})
		})
	}
}

// testFulcio is a CA that stands in for Fulcio: a root, an intermediate,
// and leaves with Fulcio's extensions.
type testFulcio struct {
	rootsPEM string // root and intermediate, for TERN_INSECURE_FULCIO_ROOTS
	inter    *x509.Certificate
	interKey *ecdsa.PrivateKey
}

func newTestFulcio(t *testing.T) testFulcio {
	t.Helper()
	now := time.Now()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-fulcio-root"},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	interKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	interTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "test-fulcio-intermediate"},
		NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	interDER, err := x509.CreateCertificate(rand.Reader, interTmpl, root, &interKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	inter, _ := x509.ParseCertificate(interDER)
	pems := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: interDER}))
	return testFulcio{rootsPEM: pems, inter: inter, interKey: interKey}
}

// keylessBundle signs sums as the release workflow would, with a leaf for
// identity and issuer valid 10 minutes around logged, and returns a v0.3
// bundle as sigstore-go writes it (compact) or pretty-printed.
func (c testFulcio) keylessBundle(t *testing.T, sums []byte, identity, issuer string, logged time.Time, pretty bool) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	san, _ := url.Parse(identity)
	issuerV2, _ := asn1.MarshalWithParams(issuer, "utf8")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		NotBefore: logged.Add(-5 * time.Minute), NotAfter: logged.Add(5 * time.Minute),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		URIs: []*url.URL{san},
		ExtraExtensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}, Value: []byte(issuer)},
			{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}, Value: issuerV2},
		}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.inter, &key.PublicKey, c.interKey)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(sums)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	bundle := map[string]any{
		"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
		"verificationMaterial": map[string]any{
			"certificate": map[string]any{"rawBytes": b64(der)},
			"tlogEntries": []any{map[string]any{
				"logIndex": "12345", "logId": map[string]any{"keyId": b64([]byte("test-log"))},
				"kindVersion":       map[string]any{"kind": "hashedrekord", "version": "0.0.1"},
				"integratedTime":    fmt.Sprint(logged.Unix()),
				"inclusionPromise":  map[string]any{"signedEntryTimestamp": b64([]byte("not checked without cosign"))},
				"canonicalizedBody": b64([]byte("{}")),
			}},
		},
		"messageSignature": map[string]any{
			"messageDigest": map[string]any{"algorithm": "SHA2_256", "digest": b64(digest[:])},
			"signature":     b64(sig),
		},
	}
	var out []byte
	if pretty {
		out, err = json.MarshalIndent(bundle, "", "  ")
	} else {
		out, err = json.Marshal(bundle)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Finding 1(b): a keyless release is checked without cosign: Fulcio's chain
// at the logged time, the identity, the OIDC issuer, the signature.
func TestInstallShChecksKeylessWithOpenSSL(t *testing.T) {
	f := newInstallerFixture(t)
	ca := newTestFulcio(t)
	roots := filepath.Join(t.TempDir(), "roots.pem")
	writeFile(t, roots, ca.rootsPEM)
	relB := f.srv.dirs[f.b]
	sums := []byte(readFile(t, filepath.Join(relB, "SHA256SUMS")))
	const good = "https://github.com/tern-agent/tern/.github/workflows/release.yml@refs/tags/v1.2.3"
	const issuer = "https://token.actions.githubusercontent.com"
	now := time.Now()
	sh := shells(t)[0]
	path := linkTools(t, toolDir(t, "curl", "cosign"), "openssl")
	for _, tc := range []struct {
		name, identity, issuer string
		logged                 time.Time
		pretty, noRoots        bool
		want                   string // "" for success
	}{
		{"compact", good, issuer, now, false, false, ""},
		{"pretty-printed", good, issuer, now, true, false, ""},
		{"another workflow", "https://github.com/tern-agent/tern/.github/workflows/other.yml@refs/tags/v1.2.3", issuer, now, false, false, "not by ^https://github"},
		{"another repository", "https://github.com/evil/tern/.github/workflows/release.yml@refs/tags/v1.2.3", issuer, now, false, false, "not by ^https://github"},
		{"another issuer", good, "https://accounts.google.com", now, false, false, "OIDC issuer is 'https://accounts.google.com'"},
		{"not Fulcio", good, issuer, now, false, true, "not Fulcio's"},
		{"logged outside the certificate", good, issuer, now.Add(-30 * time.Minute), false, false, "not Fulcio's, or was not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := ca.keylessBundle(t, sums, tc.identity, tc.issuer, tc.logged, tc.pretty)
			if tc.name == "logged outside the certificate" {
				// The certificate is valid around tc.logged; claim a later time.
				bundle = bytes.Replace(bundle, []byte(fmt.Sprint(tc.logged.Unix())), []byte(fmt.Sprint(now.Unix())), 1)
			}
			rel := copyDir(t, relB)
			writeFile(t, filepath.Join(rel, "SHA256SUMS.sigstore.json"), string(bundle))
			srv := &releaseServer{dirs: map[string]string{f.b: rel}, latest: f.b}
			srv.Server = httptest.NewServer(http.HandlerFunc(srv.serve))
			defer srv.Close()
			g := f
			g.srv = srv
			env := []string{"TERN_COSIGN_KEY=", "TERN_INSECURE_FULCIO_ROOTS=" + roots}
			if tc.noRoots {
				env[1] = "TERN_INSECURE_FULCIO_ROOTS="
			}
			home := t.TempDir()
			r := g.installEnv(t, sh, home, path, env, "--version", f.b, "--no-modify-path")
			if tc.want == "" {
				if r.code != 0 || !strings.Contains(r.out, "signature verified (openssl): signed by "+good) ||
					!strings.Contains(r.out, "transparency log is not checked") || !strings.Contains(r.out, "WARNING: TERN_INSECURE_FULCIO_ROOTS") {
					t.Fatalf("exit %d:\n%s", r.code, r.out)
				}
				if ternVersion(t, home) != f.b {
					t.Fatalf("tern is %s", ternVersion(t, home))
				}
				return
			}
			if r.code == 0 || !strings.Contains(r.out, tc.want) {
				t.Fatalf("exit %d, want a refusal saying %q:\n%s", r.code, tc.want, r.out)
			}
			if pathExists(filepath.Join(home, ".local")) {
				t.Fatalf("a refused install left %s", listing(t, home))
			}
		})
	}
}

// Finding 2: plain http and file:// download roots, and a redirect from the
// (loopback) release server to plain http elsewhere.
func TestInstallShTransport(t *testing.T) {
	f := newInstallerFixture(t)
	// A second server on another loopback address: it must never be asked.
	var hits atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	other := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	})}}
	other.Start()
	defer other.Close()

	for _, sh := range shells(t) {
		for _, dl := range []string{"curl", "wget"} {
			t.Run(sh.name+"/"+dl, func(t *testing.T) {
				path := toolDir(t, dl, "cosign")
				for _, tc := range []struct {
					name, root, redirect, want string
				}{
					{"file://", "file:///etc", "", "only https:// URLs"},
					{"http elsewhere", "http://example.invalid/releases", "", "refusing TERN_DOWNLOAD_URL over plain http"},
					{"a loopback look-alike", "http://127.0.0.1.example.invalid/releases", "", "over plain http"},
					{"userinfo", "http://127.0.0.1@example.invalid/releases", "", "over plain http"},
					{"redirect to a non-loopback http host", "", "http://192.0.2.1", "download failed"},
					{"redirect to plain http", "", other.URL, "download failed"},
				} {
					t.Run(tc.name, func(t *testing.T) {
						f.srv.mu.Lock()
						f.srv.redirectTo = tc.redirect
						f.srv.mu.Unlock()
						if tc.redirect != "" {
							f.srv.setFault("redirect")
							defer f.srv.setFault("")
						}
						var env []string
						if tc.root != "" {
							env = append(env, "TERN_DOWNLOAD_URL="+tc.root)
						}
						home := t.TempDir()
						before := listing(t, home)
						hits.Store(0)
						r := f.installEnv(t, sh, home, path, env, "--version", f.b)
						if r.code == 0 || !strings.Contains(r.out, tc.want) {
							t.Fatalf("exit %d, want a refusal saying %q:\n%s", r.code, tc.want, r.out)
						}
						if strings.Contains(r.out, "192.0.2.1:80") {
							t.Fatalf("the refused redirect was tried:\n%s", r.out)
						}
						if n := hits.Load(); n != 0 {
							t.Fatalf("a redirect to plain http was followed (%d requests):\n%s", n, r.out)
						}
						if after := listing(t, home); after != before {
							t.Fatalf("a refused install left files:\n%s", after)
						}
					})
				}
			})
		}
	}
}

// Finding 3: the install dir went into ~/.profile unquoted, and the
// receipt was word-split, so --uninstall removed another directory.
func TestInstallShQuotesPaths(t *testing.T) {
	f := newInstallerFixture(t)
	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) {
			path := toolDir(t, "curl")
			home := t.TempDir()
			writeFile(t, filepath.Join(home, ".profile"), "# the user's own profile\n")
			sibling := filepath.Join(home, "x", "my")
			if err := os.MkdirAll(sibling, 0o755); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(home, "x", "my $(touch pwned) it's", "bin")
			before := listing(t, home)
			r := f.installEnv(t, sh, home, path, nil, "--install-dir", dir, "--version", f.b)
			if r.code != 0 {
				t.Fatalf("install into %q: exit %d\n%s", dir, r.code, r.out)
			}
			if _, err := os.Stat(filepath.Join(dir, "tern")); err != nil {
				t.Fatalf("no tern in %q: %v", dir, err)
			}
			src := exec.Command(sh.bin, "-c", `. "$HOME/.profile"; printf '%s' "$PATH"`)
			if sh.name == "busybox" {
				src = exec.Command(sh.bin, "sh", "-c", `. "$HOME/.profile"; printf '%s' "$PATH"`)
			}
			src.Dir = home
			// With the system's PATH, so that an injected command would run.
			src.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
			out, err := src.CombinedOutput()
			if err != nil {
				t.Errorf("sourcing .profile: %v\n%s", err, out)
			}
			if pathExists(filepath.Join(home, "pwned")) {
				t.Errorf("sourcing .profile ran a command from the install dir's name:\n%s", readFile(t, filepath.Join(home, ".profile")))
				os.Remove(filepath.Join(home, "pwned"))
			}
			if !strings.HasPrefix(string(out), dir+":") {
				t.Errorf("sourcing .profile put %q on PATH, not %q", out, dir)
			}
			r = f.installEnv(t, sh, home, path, nil, "--install-dir", dir, "--uninstall")
			if r.code != 0 {
				t.Fatalf("uninstall: exit %d\n%s", r.code, r.out)
			}
			if after := listing(t, home); after != before || readFile(t, filepath.Join(home, ".profile")) != "# the user's own profile\n" {
				t.Fatalf("uninstall did not remove exactly what it installed:\nbefore:\n%s\nafter:\n%s\n%s", before, after, r.out)
			}
		})
	}
}

// Finding 4: `curl | sh` cut short must run nothing, wherever it is cut;
// and --help works when the script is piped.
func TestInstallShCutShortRunsNothing(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	script := []byte(readFile(t, installScript()))

	// Cut at every line end, in the middle of every line, and at every byte
	// of the last 300.
	cuts := map[int]bool{}
	start := 0
	for i, c := range script {
		if c == '\n' {
			cuts[i+1] = true
			cuts[(start+i)/2] = true
			start = i + 1
		}
	}
	for i := max(0, len(script)-300); i < len(script); i++ {
		cuts[i] = true
	}
	// The whole script, and the whole script but its final newline, are no cuts.
	delete(cuts, len(script))
	delete(cuts, len(script)-1)

	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) {
			argv := []string{"-s", "--", "--version", "1.2.3"}
			if sh.name == "busybox" {
				argv = append([]string{"sh"}, argv...)
			}
			run := func(home string, body []byte) string {
				cmd := exec.Command(sh.bin, argv...)
				cmd.Dir = home
				cmd.Stdin = bytes.NewReader(body)
				cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "TMPDIR=" + home, "TERN_DOWNLOAD_URL=" + srv.URL}
				out, _ := cmd.CombinedOutput()
				return string(out)
			}
			// The whole script does reach the server: the check below can see.
			hits.Store(0)
			if out := run(t.TempDir(), script); hits.Load() == 0 {
				t.Fatalf("the whole script made no request:\n%s", out)
			}
			var mu sync.Mutex
			var failures []string
			var wg sync.WaitGroup
			sem := make(chan struct{}, 4)
			hits.Store(0)
			for cut := range cuts {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					home, err := os.MkdirTemp(t.TempDir(), "cut")
					if err != nil {
						panic(err)
					}
					out := run(home, script[:cut])
					entries, _ := os.ReadDir(home)
					if len(entries) > 0 {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("cut at byte %d (…%q) left %s:\n%s", cut, script[max(0, cut-30):cut], entries[0].Name(), out))
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if n := hits.Load(); n > 0 {
				failures = append(failures, fmt.Sprintf("cut scripts made %d requests", n))
			}
			if len(failures) > 0 {
				t.Fatalf("%d of %d cuts did something; the first:\n%s", len(failures), len(cuts), failures[0])
			}
		})
	}
}

func TestInstallShHelpWhenPiped(t *testing.T) {
	script := readFile(t, installScript())
	for _, sh := range shells(t) {
		argv := []string{"-s", "--", "--help"}
		if sh.name == "busybox" {
			argv = append([]string{"sh"}, argv...)
		}
		cmd := exec.Command(sh.bin, argv...)
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "--install-dir DIR") || !strings.Contains(string(out), "--insecure-allow-http") {
			t.Errorf("%s: `curl … | sh -s -- --help`: %v\n%s", sh.name, err, out)
		}
	}
}

//go:build unix

package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/publish"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/verify"
	"github.com/tern-agent/tern/packager/internal/version"
)

// npmTools returns verdaccio and pnpm as `make test` installs them; a bare
// `go test` skips.
func npmTools(t *testing.T) (verdaccio, pnpm string) {
	t.Helper()
	verdaccio, pnpm = os.Getenv("VERDACCIO"), os.Getenv("PNPM")
	if verdaccio == "" || pnpm == "" {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
			t.Fatal("VERDACCIO and PNPM are not set; `make test` installs them")
		}
		t.Skip("VERDACCIO and PNPM are not set (run `make test`, which installs verdaccio 5 and pnpm)")
	}
	return verdaccio, pnpm
}

// registry is a verdaccio on 127.0.0.1 with its own storage, stopped when
// the test ends, and an npm user config that can publish to it.
type registry struct {
	url, npmrc string
}

func startVerdaccio(t *testing.T, bin string) registry {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := fmt.Sprintf(`storage: %s
auth:
  htpasswd:
    file: %s
    max_users: 10
uplinks: {}
packages:
  '@*/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    publish: $authenticated
server:
  keepAliveTimeout: 0
log: {type: stdout, format: pretty, level: warn}
`, filepath.Join(dir, "storage"), filepath.Join(dir, "htpasswd"))
	cfgPath := filepath.Join(dir, "config.yaml")
	writeFile(t, cfgPath, cfg)
	cmd := exec.Command(bin, "--config", cfgPath, "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "-/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("verdaccio did not start:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A user, for a token npm publish can use.
	body := strings.NewReader(`{"name":"tern","password":"tern-test-password"}`)
	req, _ := http.NewRequest(http.MethodPut, base+"-/user/org.couchdb.user:tern", body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.Token == "" {
		t.Fatalf("verdaccio gave no token (%s)", resp.Status)
	}
	npmrc := filepath.Join(dir, "npmrc")
	hostPath := strings.TrimPrefix(base, "http:")
	writeFile(t, npmrc, fmt.Sprintf("registry=%s\n%s:_authToken=%s\nfund=false\naudit=false\nupdate-notifier=false\n", base, hostPath, tok.Token))
	return registry{url: base, npmrc: npmrc}
}

// env is the environment every npm, pnpm and tern call in these tests gets:
// the registry's npmrc, a private cache, nothing from the developer's setup.
func (r registry) env(t *testing.T) []string {
	return []string{
		"NPM_CONFIG_USERCONFIG=" + r.npmrc,
		"NPM_CONFIG_CACHE=" + filepath.Join(filepath.Dir(r.npmrc), "npm-cache"),
		"NPM_CONFIG_REGISTRY=" + r.url,
		"npm_config_loglevel=error",
		"NPM_CONFIG_FETCH_RETRIES=0", // the interruption test wants a failure, not a minute of retries
	}
}

func (r registry) publish(t *testing.T, dir string, client *http.Client, registryURL string) (string, error) {
	t.Helper()
	var log bytes.Buffer
	for _, kv := range r.env(t) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	err := publish.NPM(context.Background(), cfg(t), publish.NPMOptions{
		Registry: registryURL, Dir: dir, NPM: "npm", Log: &log, Client: client,
	})
	return log.String(), err
}

type cmdResult struct {
	out  string
	code int
}

func runEnv(t *testing.T, dir string, env []string, name string, args ...string) cmdResult {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return cmdResult{string(out), cmd.ProcessState.ExitCode()}
}

func TestNPMPublishAndInstall(t *testing.T) {
	verdaccio, pnpm := npmTools(t)
	reg := startVerdaccio(t, verdaccio)
	dir := mustRelease(t, newRepo(t), Options{Snapshot: true})
	meta := "@tern-agent/cli@" + fixtureVersion

	log, err := reg.publish(t, dir, nil, reg.url)
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, log)
	}
	if strings.Index(log, "@tern-agent/cli-win32-x64@") > strings.Index(log, "@tern-agent/cli@") {
		t.Fatalf("the meta package must be published last:\n%s", log)
	}

	t.Run("npm install -g", func(t *testing.T) {
		prefix := t.TempDir()
		r := runEnv(t, prefix, reg.env(t), "npm", "install", "-g", "--prefix", prefix, meta)
		if r.code != 0 {
			t.Fatalf("npm install -g: %s", r.out)
		}
		tern := filepath.Join(prefix, "bin", "tern")
		shim := filepath.Join(prefix, "lib", "node_modules", "@tern-agent", "cli", "bin", "tern.js")
		if selfLinked(t, shim) {
			t.Fatalf("the JS launcher must be in place until the first run (the package has no install script)")
		}
		if v := runEnv(t, prefix, nil, tern, "--version"); v.code != 0 || !strings.Contains(v.out, "version="+fixtureVersion) {
			t.Fatalf("tern --version: exit %d, %q", v.code, v.out)
		}
		if e := runEnv(t, prefix, nil, tern, "exit", "7"); e.code != 7 {
			t.Fatalf("tern exit 7 exited %d", e.code)
		}
		if !selfLinked(t, shim) {
			t.Fatalf("the first run did not replace the JS shim with the sh launcher that execs the binary")
		}
	})

	// npm omits optional dependencies in projects; a global install keeps
	// them. The first run fetches the package; where it cannot (here the
	// registry is unreachable), it says what is missing and the fix.
	t.Run("omitted optional dependencies without scripts", func(t *testing.T) {
		project := newProject(t)
		r := runEnv(t, project, reg.env(t), "npm", "install", "--omit=optional", "--ignore-scripts", meta)
		if r.code != 0 {
			t.Fatalf("npm install: %s", r.out)
		}
		v := runEnv(t, project, []string{"npm_config_registry=http://127.0.0.1:1/"}, filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
		for _, want := range []string{"@tern-agent/cli-linux-x64 is not installed", "--omit=optional", "npm/cli#4828",
			"npm install -g @tern-agent/cli@" + fixtureVersion + " --include=optional"} {
			if v.code != 1 || !strings.Contains(v.out, want) {
				t.Errorf("the missing-package diagnostic lacks %q (exit %d):\n%s", want, v.code, v.out)
			}
		}
	})

	t.Run("omitted optional dependencies with scripts", func(t *testing.T) {
		project := newProject(t)
		r := runEnv(t, project, reg.env(t), "npm", "install", "--omit=optional", meta)
		if r.code != 0 {
			t.Fatalf("npm install: %s", r.out)
		}
		if _, err := os.Stat(filepath.Join(project, "node_modules", "@tern-agent", "cli-linux-x64")); err == nil {
			t.Fatal("npm installed the optional dependency after all; this case tests nothing")
		}
		bin := filepath.Join(project, "node_modules", ".bin", "tern")
		v := runEnv(t, project, reg.env(t), bin, "--version")
		if v.code != 0 || !strings.Contains(v.out, "version="+fixtureVersion) {
			t.Fatalf("the first run did not fetch the binary: exit %d\n%s\ninstall said:\n%s", v.code, v.out, r.out)
		}
		if _, err := os.Stat(filepath.Join(project, "node_modules", "@tern-agent", "cli", "vendor", "@tern-agent", "cli-linux-x64", "bin", "tern")); err != nil {
			t.Errorf("the first run did not fetch into vendor/: %v", err)
		}
		// The second run needs no registry: the link runs the fetched binary.
		if v := runEnv(t, project, []string{"npm_config_registry=http://127.0.0.1:1/"}, bin, "--version"); v.code != 0 || !strings.Contains(v.out, "version="+fixtureVersion) {
			t.Fatalf("the second run: exit %d\n%s", v.code, v.out)
		}
		if !selfLinked(t, filepath.Join(project, "node_modules", "@tern-agent", "cli", "bin", "tern.js")) {
			t.Errorf("the first run did not link the fetched binary")
		}
	})

	t.Run("pnpm", func(t *testing.T) {
		project := newProject(t)
		writeFile(t, filepath.Join(project, ".npmrc"), "registry="+reg.url+"\n")
		r := runEnv(t, project, reg.env(t), pnpm, "add", "--store-dir", filepath.Join(project, ".store"), meta)
		if r.code != 0 {
			t.Fatalf("pnpm add: %s", r.out)
		}
		v := runEnv(t, project, nil, filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
		if v.code != 0 || !strings.Contains(v.out, "version="+fixtureVersion) {
			t.Fatalf("tern through pnpm: exit %d\n%s", v.code, v.out)
		}
		if e := runEnv(t, project, nil, filepath.Join(project, "node_modules", ".bin", "tern"), "exit", "3"); e.code != 3 {
			t.Fatalf("tern exit 3 through pnpm exited %d", e.code)
		}
	})

	t.Run("publishing twice is a no-op", func(t *testing.T) {
		log, err := reg.publish(t, dir, nil, reg.url)
		if err != nil || strings.Count(log, "already published, skipped") != 7 || strings.Contains(log, ": published") {
			t.Fatalf("a second publish: %v\n%s", err, log)
		}
	})
}

// failingProxy forwards to the registry but fails every publish (PUT) after
// the first n, as a network that dies halfway would.
func failingProxy(t *testing.T, target string, n int32) *httptest.Server {
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var puts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && puts.Add(1) > n {
			http.Error(w, "connection lost", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestNPMPublishInterruptedCompletesWhenRunAgain(t *testing.T) {
	verdaccio, _ := npmTools(t)
	reg := startVerdaccio(t, verdaccio)
	dir := mustRelease(t, newRepo(t), Options{Snapshot: true})

	proxy := failingProxy(t, reg.url, 2)
	// npm must authenticate to the proxy's address with the registry's token.
	token := strings.SplitN(readFile(t, reg.npmrc), "_authToken=", 2)[1]
	token = strings.SplitN(token, "\n", 2)[0]
	f, _ := os.OpenFile(reg.npmrc, os.O_APPEND|os.O_WRONLY, 0o644)
	fmt.Fprintf(f, "%s/:_authToken=%s\n", strings.TrimPrefix(proxy.URL, "http:"), token)
	f.Close()

	log, err := reg.publish(t, dir, nil, proxy.URL+"/")
	if err == nil || strings.Count(log, ": published") != 2 || !strings.Contains(err.Error(), "run the same command again to finish") {
		t.Fatalf("the interrupted publish: %v\n%s", err, log)
	}
	log, err = reg.publish(t, dir, nil, reg.url)
	if err != nil || strings.Count(log, "already published, skipped") != 2 || strings.Count(log, ": published") != 5 {
		t.Fatalf("the second run must skip the two and publish the other five: %v\n%s", err, log)
	}
}

// The first run's fetch refuses a tampered platform package, and runs
// nothing. (It was postinstall's refusal at install time; the package has
// no install script now.)
func TestFirstRunRefusesATamperedPlatformPackage(t *testing.T) {
	verdaccio, _ := npmTools(t)
	reg := startVerdaccio(t, verdaccio)
	dir := copyDir(t, mustRelease(t, newRepo(t), Options{Snapshot: true}))

	// An attacker who controls the registry swaps linux-x64's binary.
	platform := filepath.Join(dir, "tern-agent-cli-linux-x64-"+fixtureVersion+".tgz")
	tamperTgz(t, platform, "package/bin/tern")
	for _, kv := range reg.env(t) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "tern-agent-cli-*.tgz"))
	for _, tgz := range entries {
		if r := runEnv(t, dir, reg.env(t), "npm", "publish", tgz, "--registry", reg.url, "--tag", "snapshot"); r.code != 0 {
			t.Fatalf("npm publish %s: %s", tgz, r.out)
		}
	}
	project := newProject(t)
	r := runEnv(t, project, reg.env(t), "npm", "install", "--omit=optional", "--foreground-scripts", "@tern-agent/cli@"+fixtureVersion)
	if r.code != 0 {
		t.Fatalf("npm install: exit %d\n%s", r.code, r.out)
	}
	for run := 1; run <= 2; run++ {
		v := runEnv(t, project, reg.env(t), filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
		if v.code != 1 || !strings.Contains(v.out, "refusing @tern-agent/cli-linux-x64@"+fixtureVersion) || !strings.Contains(v.out, "sha256") {
			t.Fatalf("run %d must refuse the tampered package: exit %d\n%s", run, v.code, v.out)
		}
		if !strings.Contains(v.out, "is not installed") {
			t.Fatalf("after the refusal tern must say the binary is missing: exit %d\n%s", v.code, v.out)
		}
	}
}

// newProject is an empty npm project.
func newProject(t *testing.T) string {
	t.Helper()
	project := t.TempDir()
	writeFile(t, filepath.Join(project, "package.json"), `{"name":"p","version":"1.0.0","private":true}`)
	return project
}

// tamperTgz flips a byte of one member of a .tgz.
func tamperTgz(t *testing.T, path, member string) {
	t.Helper()
	editTarGz(t, path, func(ms []tarMember) []tarMember {
		for i := range ms {
			if ms[i].hdr.Name == member {
				ms[i].data[len(ms[i].data)/2] ^= 0xff
			}
		}
		return ms
	})
}

// acmeYAML is another product's release: its command is not its name, ARM
// twice (armv6 by archive alone, armv7 on npm too), a BSD, 32-bit Windows,
// and extra files. doors is added as given.
const acmeYAML = `product: acme
binary: acme-cli
repository: https://git.example.org/acme-corp/acme
license_file: LICENSE
targets:
  - {name: linux-x64,   goos: linux,   goarch: amd64, npm_os: linux,   npm_cpu: x64}
  - {name: linux-armv6, goos: linux,   goarch: arm,   goarm: "6"}
  - {name: linux-armv7, goos: linux,   goarch: arm,   goarm: "7", npm_os: linux, npm_cpu: arm}
  - {name: freebsd-x64, goos: freebsd, goarch: amd64, npm_os: freebsd, npm_cpu: x64}
  - {name: windows-x86, goos: windows, goarch: "386", npm_os: win32,   npm_cpu: ia32}
files:
  - {src: doc/acme-cli.1, dst: share/man/man1/acme-cli.1}
signing:
  certificate_identity_regexp: ^https://git\.example\.org/acme-corp/acme/release@refs/tags/v
  certificate_oidc_issuer: https://issuer.example.org
`

const acmeNPM = "npm: {scope: \"@acme\", package: cli}\n"

const acmeMan = ".TH ACME-CLI 1\n"

// acmeRepo is the fixture repository declaring yaml instead of tern's
// release.yaml, with a stamped fixture binary for each of its targets in
// dist/build, as GoReleaser would have built them.
func acmeRepo(t *testing.T, yaml string) (repo string, c *config.Config) {
	t.Helper()
	repo = newRepo(t)
	writeFile(t, filepath.Join(repo, "release.yaml"), yaml)
	writeFile(t, filepath.Join(repo, "doc", "acme-cli.1"), acmeMan)
	c, err := config.Load(filepath.Join(repo, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := version.FromGit(repo, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(repo, "dist")); err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, tg := range c.Targets {
		rel := filepath.Join("dist", "build", "acme_"+strings.ReplaceAll(tg.GoReleaserTarget(), "/", "_"), c.BinaryName(tg))
		t.Setenv("GOARM", tg.GOARM)
		if err := buildFixture(filepath.Join(fixtureBins, "src"), filepath.Join(repo, rel), tg, info.String(), info.Commit); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, fmt.Sprintf(`{"name":%q,"path":%q,"goos":%q,"goarch":%q,"goarm":%q,"type":"Binary"}`,
			c.BinaryName(tg), filepath.ToSlash(rel), tg.GOOS, tg.GOARCH, tg.GOARM))
	}
	writeFile(t, filepath.Join(repo, "dist", "build", "artifacts.json"), "["+strings.Join(entries, ",")+"]")
	return repo, c
}

// npmNames are the npm tarballs of a release directory.
func npmNames(t *testing.T, dir string) []string {
	t.Helper()
	m, err := manifest.Read(filepath.Join(dir, layout.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range m.Artifacts {
		if a.Kind == artifact.NPM {
			names = append(names, a.Name)
		}
	}
	slices.Sort(names)
	return names
}

// Another product's release: npm packages for the targets with npm names
// only, each shipping its whole tree; verify refuses a package that differs
// from its archive's tree or that a target without npm names should not
// have; and the launcher refuses an ARMv7 build on an ARMv6 machine.
func TestNPMPackagesOfAnotherProduct(t *testing.T) {
	repo, c := acmeRepo(t, acmeYAML+acmeNPM)
	keyPEM, priv := testKey(t)
	good := mustRelease(t, repo, Options{Snapshot: true, Sign: sign.Options{Key: keyPEM, Password: []byte("secret")}})
	ver := fixtureVersion
	want := []string{"acme-cli-" + ver + ".tgz", "acme-cli-freebsd-x64-" + ver + ".tgz", "acme-cli-linux-arm-" + ver + ".tgz", "acme-cli-linux-x64-" + ver + ".tgz", "acme-cli-win32-ia32-" + ver + ".tgz"}
	if got := npmNames(t, good); !slices.Equal(got, want) {
		t.Fatalf("npm packages:\n got %v\nwant %v", got, want)
	}
	platform := func(dir, key string) string { return filepath.Join(dir, "acme-cli-"+key+"-"+ver+".tgz") }
	man := ""
	for _, m := range readTgz(t, platform(good, "linux-arm")) {
		if m.hdr.Name == "package/share/man/man1/acme-cli.1" {
			man = string(m.data)
		}
	}
	if man != acmeMan {
		t.Errorf("the linux-arm package lacks the extra file share/man/man1/acme-cli.1")
	}

	opts := verify.Options{Config: c, PublicKey: &priv.PublicKey}
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, dir string) func(*manifest.Manifest)
		want []string
	}{
		{"an extra file changed", func(t *testing.T, dir string) func(*manifest.Manifest) {
			tamperTgz(t, platform(dir, "freebsd-x64"), "package/share/man/man1/acme-cli.1")
			return nil
		}, []string{"acme-cli-freebsd-x64-" + ver + ".tgz: its share/man/man1/acme-cli.1 (sha256 ", "is not byte-identical to the freebsd-x64 archive's"}},
		{"an extra file left out", func(t *testing.T, dir string) func(*manifest.Manifest) {
			editTarGz(t, platform(dir, "win32-ia32"), func(ms []tarMember) []tarMember {
				return slices.DeleteFunc(ms, func(m tarMember) bool { return m.hdr.Name == "package/share/man/man1/acme-cli.1" })
			})
			return nil
		}, []string{"acme-cli-win32-ia32-" + ver + ".tgz: lacks share/man/man1/acme-cli.1, which the windows-x86 archive holds"}},
		{"a file the tree lacks", func(t *testing.T, dir string) func(*manifest.Manifest) {
			editTarGz(t, platform(dir, "linux-x64"), func(ms []tarMember) []tarMember {
				return append(ms, tarMember{tar.Header{Name: "package/bin/extra", Mode: 0o755, Size: 2, Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, []byte("x\n")})
			})
			return nil
		}, []string{"acme-cli-linux-x64-" + ver + ".tgz: holds bin/extra, which the linux-x64 archive does not"}},
		{"a package for a target without npm names", func(t *testing.T, dir string) func(*manifest.Manifest) {
			name := "acme-cli-linux-armv6-" + ver + ".tgz"
			copyFile(t, platform(dir, "linux-arm"), filepath.Join(dir, name))
			return func(m *manifest.Manifest) {
				sum, size, _ := fileutil.SHA256File(filepath.Join(dir, name))
				m.Artifacts = append(m.Artifacts, manifest.Artifact{Name: name, Kind: artifact.NPM, Target: "linux-armv6", SHA256: sum, Size: size})
			}
		}, []string{"acme-cli-linux-armv6-" + ver + ".tgz: is an npm platform package for target linux-armv6, which has no npm_os and npm_cpu in release.yaml"}},
		{"a platform table entry too many, with a wrong goarm", func(t *testing.T, dir string) func(*manifest.Manifest) {
			editTarGz(t, filepath.Join(dir, "acme-cli-"+ver+".tgz"), editJSON("package/lib/platforms.json", func(table map[string]any) {
				table["linux-armv6"] = table["linux-arm"]
				table["linux-arm"].(map[string]any)["goarm"] = "6"
			}))
			return nil
		}, []string{"lib/platforms.json has an entry for linux-armv6, which no target of release.yaml has as npm_os-npm_cpu",
			`lib/platforms.json records goarm "6" for linux-armv7, which is built with GOARM "7"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, good)
			reseal(t, dir, priv, tc.edit(t, dir))
			err := verify.Release(dir, opts)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("verify must say %q:\n%v", w, err)
				}
			}
		})
	}

	t.Run("publish refuses a package for a target without npm names", func(t *testing.T) {
		dir := copyDir(t, good)
		name := "acme-cli-linux-armv6-" + ver + ".tgz"
		copyFile(t, platform(dir, "linux-arm"), filepath.Join(dir, name))
		reseal(t, dir, priv, func(m *manifest.Manifest) {
			sum, size, _ := fileutil.SHA256File(filepath.Join(dir, name))
			m.Artifacts = append(m.Artifacts, manifest.Artifact{Name: name, Kind: artifact.NPM, Target: "linux-armv6", SHA256: sum, Size: size})
		})
		err := publish.NPM(context.Background(), c, publish.NPMOptions{Registry: "http://127.0.0.1:1/", Dir: dir, NPM: "false", Log: io.Discard})
		if err == nil || !strings.Contains(err.Error(), name+" is for target linux-armv6, which has no npm_os and npm_cpu in release.yaml") {
			t.Errorf("publish: %v", err)
		}
	})

	t.Run("the launcher", func(t *testing.T) {
		if _, err := exec.LookPath("node"); err != nil {
			t.Skip("node is not installed")
		}
		project, launcher := installAcme(t, good, "linux-x64")
		if filepath.Base(launcher) != "acme-cli.js" {
			t.Fatalf("the launcher is %s", launcher)
		}
		if r := launchAs(t, project, launcher, nil, "--version"); r.code != 0 || !strings.Contains(r.out, "version="+ver) {
			t.Fatalf("acme-cli --version through the launcher: exit %d\n%s", r.code, r.out)
		}
		archives := "download the archive for your machine from https://git.example.org/acme-corp/acme/releases/tag/v" + ver +
			" (the release's targets: linux-x64, linux-armv6, linux-armv7, freebsd-x64, windows-x86)."
		installSH := "curl --proto '=https' --tlsv1.2 -fsSL https://git.example.org/acme-corp/acme/releases/download/v" + ver + "/install.sh | sh -s -- --version " + ver
		for _, tc := range []struct {
			name string
			env  []string
			want []string
			not  []string
		}{
			{"an ARMv6 machine", []string{"FAKE_ARCH=arm", "FAKE_MACHINE=armv6l"}, []string{
				"acme-cli: this machine is ARMv6 (the kernel reports armv6l), but @acme/cli-linux-arm holds the linux-armv7 build, for ARMv7 (GOARM=7): it would die here of an illegal instruction (SIGILL), so it is not run.",
				"Install acme-cli " + ver + " without npm:", installSH, archives}, nil},
			{"an ARMv6 Node, the machine unknown", []string{"FAKE_ARCH=arm", "FAKE_MACHINE=", "FAKE_ARM_VERSION=6"}, []string{
				"this machine is ARMv6 (Node reports process.config.variables.arm_version 6)", "GOARM=7"}, nil},
			{"an ARMv7 machine whose Node says 6", []string{"FAKE_ARCH=arm", "FAKE_MACHINE=armv7l", "FAKE_ARM_VERSION=6"}, []string{
				"@acme/cli was installed for linux-x64, but this machine is linux-arm."}, []string{"SIGILL"}},
			{"a 64-bit ARM kernel", []string{"FAKE_ARCH=arm", "FAKE_MACHINE=aarch64", "FAKE_ARM_VERSION=6"}, []string{
				"@acme/cli was installed for linux-x64, but this machine is linux-arm."}, []string{"SIGILL"}},
			{"linux on riscv64, which has no package", []string{"FAKE_ARCH=riscv64"}, []string{
				"@acme/cli has no native binary for linux on riscv64.", "Supported platforms: freebsd-x64, linux-arm, linux-x64, win32-ia32.", installSH, archives}, nil},
			{"openbsd, which has none", []string{"FAKE_PLATFORM=openbsd", "FAKE_ARCH=x64"}, []string{
				"has no native binary for openbsd on x64.", "Install acme-cli " + ver + " without npm:\n" + archives}, []string{"install.sh"}},
			{"32-bit Windows on arm64", []string{"FAKE_PLATFORM=win32", "FAKE_ARCH=arm64"}, []string{
				"has no native binary for win32 on arm64.", "$env:ACME_CLI_VERSION = '" + ver + "'; irm https://git.example.org/acme-corp/acme/releases/download/v" + ver + "/install.ps1 | iex"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := launchAs(t, project, launcher, tc.env, "--version")
				if r.code != 1 {
					t.Errorf("exit %d, want 1", r.code)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.out, w) {
						t.Errorf("the diagnosis lacks %q:\n%s", w, r.out)
					}
				}
				for _, w := range tc.not {
					if strings.Contains(r.out, w) {
						t.Errorf("the diagnosis says %q:\n%s", w, r.out)
					}
				}
			})
		}

		// The first run on an ARMv6 machine fetches nothing: no package
		// fits it. (This was postinstall's check; there is none now.)
		r := launchAs(t, project, launcher, []string{"FAKE_ARCH=arm", "FAKE_MACHINE=armv6l", "npm_config_registry=http://127.0.0.1:1/"}, "--version")
		if !strings.Contains(r.out, "acme-cli: this machine is ARMv6") || strings.Contains(r.out, "GET ") || strings.Contains(r.out, "could not fetch") {
			t.Errorf("the first run on an ARMv6 machine (exit %d):\n%s", r.code, r.out)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(launcher)), "vendor")); err == nil {
			t.Errorf("the first run on an ARMv6 machine made vendor/")
		}
	})
}

// With doors.npm false the release has no npm package and verify accepts
// that, refuses one added, and publish skips npm saying so.
func TestTheNPMDoorOff(t *testing.T) {
	repo, c := acmeRepo(t, acmeYAML+"doors: {npm: false}\n")
	keyPEM, priv := testKey(t)
	good := mustRelease(t, repo, Options{Snapshot: true, Sign: sign.Options{Key: keyPEM, Password: []byte("secret")}})
	if got := npmNames(t, good); len(got) != 0 {
		t.Fatalf("the release holds npm packages %v", got)
	}
	if tgz, _ := filepath.Glob(filepath.Join(good, "*.tgz")); len(tgz) != 0 {
		t.Fatalf("the release holds %v", tgz)
	}

	var log bytes.Buffer
	if err := publish.NPM(context.Background(), c, publish.NPMOptions{Registry: "http://127.0.0.1:1/", Dir: good, NPM: "false", Log: &log}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if log.String() != "npm skipped: doors.npm is false in release.yaml, so the release has no npm packages to publish\n" {
		t.Errorf("publish said %q", log.String())
	}

	dir := copyDir(t, good)
	name := "acme-cli-" + fixtureVersion + ".tgz"
	writeFile(t, filepath.Join(dir, name), "not a package")
	reseal(t, dir, priv, func(m *manifest.Manifest) {
		sum, size, _ := fileutil.SHA256File(filepath.Join(dir, name))
		m.Artifacts = append(m.Artifacts, manifest.Artifact{Name: name, Kind: artifact.NPM, SHA256: sum, Size: size})
	})
	want := name + ": is an npm package, but release.yaml's doors.npm is false"
	if err := verify.Release(dir, verify.Options{Config: c, PublicKey: &priv.PublicKey}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("verify must say %q:\n%v", want, err)
	}
}

// fakeMachine makes os.machine() and Node's arm_version what a test says.
const fakeMachine = `
if ('FAKE_MACHINE' in process.env) require('os').machine = () => process.env.FAKE_MACHINE;
if (process.env.FAKE_ARM_VERSION) {
  Object.defineProperty(process, 'config', { value: { variables: { ...process.config.variables, arm_version: process.env.FAKE_ARM_VERSION } } });
}
`

// installAcme installs acme's meta package and the named platform packages
// into a project's node_modules by hand, as npm would, and returns the
// launcher.
func installAcme(t *testing.T, release string, platforms ...string) (project, launcher string) {
	t.Helper()
	project = t.TempDir()
	extract := func(tgz, into string) {
		if err := os.MkdirAll(into, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("tar", "-xzf", tgz, "-C", into, "--strip-components=1").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
	}
	mods := filepath.Join(project, "node_modules", "@acme")
	extract(filepath.Join(release, "acme-cli-"+fixtureVersion+".tgz"), filepath.Join(mods, "cli"))
	for _, p := range platforms {
		extract(filepath.Join(release, "acme-cli-"+p+"-"+fixtureVersion+".tgz"), filepath.Join(mods, "cli-"+p))
	}
	writeFile(t, filepath.Join(project, "fake-platform.js"), fakePlatform+fakeMachine)
	return project, filepath.Join(mods, "cli", "bin", "acme-cli.js")
}

func launchAs(t *testing.T, project, launcher string, env []string, args ...string) cmdResult {
	t.Helper()
	env = append([]string{"npm_config_registry=http://127.0.0.1:1/"}, env...)
	return runEnv(t, project, env, "node", append([]string{"--require", filepath.Join(project, "fake-platform.js"), launcher}, args...)...)
}

// readTgz reads every member of a .tgz.
func readTgz(t *testing.T, p string) []tarMember {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return readTar(t, zr)
}

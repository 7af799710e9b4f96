//go:build unix

package release

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/publish"
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
		if v := runEnv(t, prefix, nil, tern, "--version"); v.code != 0 || !strings.Contains(v.out, "version="+fixtureVersion) {
			t.Fatalf("tern --version: exit %d, %q", v.code, v.out)
		}
		if e := runEnv(t, prefix, nil, tern, "exit", "7"); e.code != 7 {
			t.Fatalf("tern exit 7 exited %d", e.code)
		}
		shim := filepath.Join(prefix, "lib", "node_modules", "@tern-agent", "cli", "bin", "tern.js")
		if st, err := os.Lstat(shim); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("postinstall did not replace the JS shim with a link to the binary: %v", err)
		}
	})

	// npm omits optional dependencies in projects; a global install keeps them.
	t.Run("omitted optional dependencies without scripts", func(t *testing.T) {
		project := newProject(t)
		r := runEnv(t, project, reg.env(t), "npm", "install", "--omit=optional", "--ignore-scripts", meta)
		if r.code != 0 {
			t.Fatalf("npm install: %s", r.out)
		}
		v := runEnv(t, project, nil, filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
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
		v := runEnv(t, project, nil, filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
		if v.code != 0 || !strings.Contains(v.out, "version="+fixtureVersion) {
			t.Fatalf("the postinstall fallback did not install the binary: exit %d\n%s\ninstall said:\n%s", v.code, v.out, r.out)
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

func TestPostinstallRefusesATamperedPlatformPackage(t *testing.T) {
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
	if r.code != 0 || !strings.Contains(r.out, "refusing @tern-agent/cli-linux-x64@"+fixtureVersion) || !strings.Contains(r.out, "sha256") {
		t.Fatalf("postinstall must refuse the tampered package (exit %d):\n%s", r.code, r.out)
	}
	v := runEnv(t, project, nil, filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
	if v.code != 1 || !strings.Contains(v.out, "is not installed") {
		t.Fatalf("after the refusal tern must say the binary is missing: exit %d\n%s", v.code, v.out)
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

//go:build unix

package release

import (
	"archive/tar"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// hostileBinary is a stand-in for a swapped tern: it answers --version like
// the real one, and leaves a marker behind, so a test can tell that it ran.
func hostileBinary(marker string) []byte {
	return []byte("#!/bin/sh\ntouch '" + marker + "'\necho \"tern " + fixtureVersion + " (version=" + fixtureVersion + ")\"\n")
}

// platformRegistry serves one platform package, as a registry would: its
// packument and, at the address the packument names, tarball.
func platformRegistry(t *testing.T, pkg, version string, tarball []byte) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/" + pkg:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"name":"` + pkg + `","versions":{"` + version + `":{"dist":{"tarball":"` + srv.URL + `/platform.tgz"}}}}`))
		case "/platform.tgz":
			w.Write(tarball)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// TestFirstRunRefusesAHostilePlatformTarball runs the launcher's first-run
// fetch (the platform package was omitted, so the launcher fetches it from
// the registry; postinstall did this before the package dropped its
// install script) against crafted tarballs. Each must be refused with a
// message that names what is wrong, and leave nothing installed or linked;
// and the launcher must say the package is missing, never run what the
// tarball held.
func TestFirstRunRefusesAHostilePlatformTarball(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	release := mustRelease(t, newRepo(t), Options{Snapshot: true})
	const pkg = "@tern-agent/cli-linux-x64"
	original := filepath.Join(release, "tern-agent-cli-linux-x64-"+fixtureVersion+".tgz")

	member := func(name string, mode int64, data []byte) tarMember {
		return tarMember{tar.Header{Name: name, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, data}
	}
	for _, tc := range []struct {
		name string
		edit func(marker string, ms []tarMember) []tarMember
		want []string
	}{
		{"two bin/tern entries, the first the published binary", func(marker string, ms []tarMember) []tarMember {
			return append(ms, member("package/bin/tern", 0o755, hostileBinary(marker)))
		}, []string{"package/bin/tern appears twice"}},
		{"an entry the package does not have", func(marker string, ms []tarMember) []tarMember {
			return append(ms, member("package/bin/tern-helper", 0o755, hostileBinary(marker)))
		}, []string{"package/bin/tern-helper is not a file of " + pkg}},
		{"a .. entry", func(marker string, ms []tarMember) []tarMember {
			return append(ms, member("package/../tern", 0o755, hostileBinary(marker)))
		}, []string{`package/../tern: a path with "..", "." or an empty part`}},
		{"a symlink entry", func(marker string, ms []tarMember) []tarMember {
			return append(ms, tarMember{tar.Header{Name: "package/bin/sh", Linkname: "/bin/sh", Mode: 0o777, Typeflag: tar.TypeSymlink, Format: tar.FormatUSTAR}, nil})
		}, []string{"package/bin/sh is a symbolic link"}},
		{"a hard link entry", func(marker string, ms []tarMember) []tarMember {
			return append(ms, tarMember{tar.Header{Name: "package/bin/tern2", Linkname: "package/bin/tern", Mode: 0o755, Typeflag: tar.TypeLink, Format: tar.FormatUSTAR}, nil})
		}, []string{"package/bin/tern2 is a hard link"}},
		{"a device entry", func(marker string, ms []tarMember) []tarMember {
			return append(ms, tarMember{tar.Header{Name: "package/bin/null", Mode: 0o666, Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Format: tar.FormatUSTAR}, nil})
		}, []string{"package/bin/null is a character device"}},
		{"a PAX header (a name USTAR cannot hold)", func(marker string, ms []tarMember) []tarMember {
			hostile := hostileBinary(marker)
			return append(ms, tarMember{tar.Header{Name: "package/bin/t\u00e9rn", Mode: 0o755, Size: int64(len(hostile)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}, hostile})
		}, []string{"is a PAX header, not a regular file"}},
		{"an absolute entry", func(marker string, ms []tarMember) []tarMember {
			return append(ms, member("/tmp/tern", 0o755, hostileBinary(marker)))
		}, []string{"/tmp/tern: an absolute path"}},
		{"a swapped helper beside the published binary", func(marker string, ms []tarMember) []tarMember {
			for i := range ms {
				if ms[i].hdr.Name == "package/libexec/tern/bwrap" {
					ms[i].data = hostileBinary(marker)
				}
			}
			return ms
		}, []string{"package/libexec/tern/bwrap has sha256", "was published with"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			project, launcher := installByHand(t, release)
			marker := filepath.Join(project, "hostile-ran")
			tgz := filepath.Join(t.TempDir(), "platform.tgz")
			copyFile(t, original, tgz)
			editTarGz(t, tgz, func(ms []tarMember) []tarMember { return tc.edit(marker, ms) })
			body, err := os.ReadFile(tgz)
			if err != nil {
				t.Fatal(err)
			}
			meta := filepath.Dir(filepath.Dir(launcher))
			bin := binLink(t, project)
			env := []string{"npm_config_registry=" + platformRegistry(t, pkg, fixtureVersion, body), "npm_config_user_agent=npm/11.0.0 node/v20.0.0"}

			r := runEnv(t, project, env, bin, "--version")
			for _, w := range append([]string{"refusing " + pkg + "@" + fixtureVersion}, tc.want...) {
				if !strings.Contains(r.out, w) {
					t.Errorf("the first run's refusal lacks %q (exit %d):\n%s", w, r.code, r.out)
				}
			}
			if r.code != 1 {
				t.Errorf("the first run exited %d, want 1", r.code)
			}
			if left, _ := filepath.Glob(filepath.Join(meta, "vendor", "@tern-agent", "*")); len(left) != 0 {
				t.Errorf("a refused tarball left %v behind", left)
			}
			if selfLinked(t, launcher) {
				t.Errorf("a refused tarball must leave the JS launcher in place, not a link")
			}
			v := launch(t, project, launcher, nil, "--version")
			if v.code != 1 || !strings.Contains(v.out, pkg+" is not installed") {
				t.Errorf("after the refusal the launcher must say the package is missing: exit %d\n%s", v.code, v.out)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("the hostile binary ran")
			}
		})
	}

	// The same path with the published tarball installs, runs, and links
	// where npm made the bin link.
	t.Run("the published tarball", func(t *testing.T) {
		project, launcher := installByHand(t, release)
		body, err := os.ReadFile(original)
		if err != nil {
			t.Fatal(err)
		}
		bin := binLink(t, project)
		env := []string{"npm_config_registry=" + platformRegistry(t, pkg, fixtureVersion, body), "npm_config_user_agent=npm/11.0.0 node/v20.0.0"}
		r := runEnv(t, project, env, bin, "--version")
		if !strings.Contains(r.out, "installed "+pkg+"@"+fixtureVersion) || r.code != 0 || !strings.Contains(r.out, "version="+fixtureVersion) {
			t.Fatalf("the first run did not install and run the published tarball (exit %d):\n%s", r.code, r.out)
		}
		if !selfLinked(t, launcher) {
			t.Fatalf("the first run did not link the verified binary")
		}
		if v := runEnv(t, project, []string{"npm_config_registry=http://127.0.0.1:1/"}, launcher, "--version"); v.code != 0 || !strings.Contains(v.out, "version="+fixtureVersion) {
			t.Fatalf("the linked binary: exit %d\n%s", v.code, v.out)
		}
	})
}

// binLink is node_modules/.bin/tern, a link to the launcher, as npm makes it.
func binLink(t *testing.T, project string) string {
	t.Helper()
	bin := filepath.Join(project, "node_modules", ".bin", "tern")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../@tern-agent/cli/bin/tern.js", bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestNPMRefusesAPlatformTarballWithTwoBinaries serves, from verdaccio, a
// platform package whose tarball holds the published binary and then a
// hostile one under the same name. npm itself unpacks it when optional
// dependencies are installed (the last entry wins), so the launcher must
// refuse it; when they are omitted, the first run's fetch must refuse the
// tarball. The hostile binary never runs. (Both refusals were postinstall's
// at install time; they now come at the first run, and every run after.)
func TestNPMRefusesAPlatformTarballWithTwoBinaries(t *testing.T) {
	verdaccio, _ := npmTools(t)
	reg := startVerdaccio(t, verdaccio)
	dir := copyDir(t, mustRelease(t, newRepo(t), Options{Snapshot: true}))
	const pkg = "@tern-agent/cli-linux-x64"
	marker := filepath.Join(t.TempDir(), "hostile-ran")
	editTarGz(t, filepath.Join(dir, "tern-agent-cli-linux-x64-"+fixtureVersion+".tgz"), func(ms []tarMember) []tarMember {
		hostile := hostileBinary(marker)
		return append(ms, tarMember{tar.Header{Name: "package/bin/tern", Mode: 0o755, Size: int64(len(hostile)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}, hostile})
	})
	tgzs, _ := filepath.Glob(filepath.Join(dir, "tern-agent-cli-*.tgz"))
	for _, tgz := range tgzs {
		if r := runEnv(t, dir, reg.env(t), "npm", "publish", tgz, "--registry", reg.url, "--tag", "snapshot"); r.code != 0 {
			t.Fatalf("npm publish %s: %s", tgz, r.out)
		}
	}
	meta := "@tern-agent/cli@" + fixtureVersion

	t.Run("installed by npm", func(t *testing.T) {
		project := newProject(t)
		r := runEnv(t, project, reg.env(t), "npm", "install", "--foreground-scripts", meta)
		if r.code != 0 {
			t.Errorf("npm install: exit %d\n%s", r.code, r.out)
		}
		v := runEnv(t, project, nil, filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
		shim := filepath.Join(project, "node_modules", "@tern-agent", "cli", "bin", "tern.js")
		if selfLinked(t, shim) {
			t.Errorf("the first run linked an unverified binary")
		}
		for _, w := range []string{"refusing to run", "node_modules/@tern-agent/cli-linux-x64/bin/tern", "sha256 " + sha256Hex(hostileBinary(marker)), "npm install " + meta} {
			if !strings.Contains(v.out, w) {
				t.Errorf("the launcher's refusal lacks %q:\n%s", w, v.out)
			}
		}
		if v.code != 1 {
			t.Errorf("the launcher exited %d, want 1", v.code)
		}
	})

	t.Run("fetched by the first run", func(t *testing.T) {
		project := newProject(t)
		if r := runEnv(t, project, reg.env(t), "npm", "install", "--omit=optional", "--foreground-scripts", meta); r.code != 0 {
			t.Fatalf("npm install: exit %d\n%s", r.code, r.out)
		}
		r := runEnv(t, project, reg.env(t), filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
		for _, w := range []string{"refusing " + pkg + "@" + fixtureVersion, "package/bin/tern appears twice", "Nothing was installed"} {
			if !strings.Contains(r.out, w) {
				t.Errorf("the first run's refusal lacks %q (exit %d):\n%s", w, r.code, r.out)
			}
		}
		if left, _ := filepath.Glob(filepath.Join(project, "node_modules", "@tern-agent", "cli", "vendor", "@tern-agent", "*")); len(left) != 0 {
			t.Errorf("a refused tarball left %v behind", left)
		}
		v := runEnv(t, project, reg.env(t), filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
		if v.code != 1 || !strings.Contains(v.out, pkg+" is not installed") {
			t.Errorf("after the refusal tern must say the binary is missing: exit %d\n%s", v.code, v.out)
		}
	})

	if _, err := os.Stat(marker); err == nil {
		t.Error("the hostile binary ran")
	}
}

// The first run's fetch sends a registry's token to that registry only, as
// npm does: a packument that puts its tarballs on another host, or a
// redirect there, gets that host no credentials unless the user configured
// some for it (then those, and never the registry's).
func TestFirstRunSendsATokenOnlyToItsHost(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	release := mustRelease(t, newRepo(t), Options{Snapshot: true})
	const pkg = "@tern-agent/cli-linux-x64"
	body, err := os.ReadFile(filepath.Join(release, "tern-agent-cli-linux-x64-"+fixtureVersion+".tgz"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string // "server path: authorization"
	record := func(who string, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, who+" "+r.URL.Path+": "+r.Header.Get("Authorization"))
	}
	// The tarball host: another port is another host to npm.
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("cdn", r)
		w.Write(body)
	}))
	t.Cleanup(cdn.Close)
	var reg *httptest.Server
	reg = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("registry", r)
		switch r.URL.Path {
		case "/npm/" + pkg:
			w.Write([]byte(`{"name":"` + pkg + `","versions":{"` + fixtureVersion + `":{"dist":{"tarball":"` + reg.URL + `/npm/redirect.tgz"}}}}`))
		case "/npm/redirect.tgz":
			http.Redirect(w, r, cdn.URL+"/platform.tgz", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(reg.Close)
	hostOf := func(u string) string { return strings.TrimPrefix(u, "http:") }

	for _, tc := range []struct {
		name, npmrc string
		want        []string
	}{
		{"a token for the registry's path only",
			fmt.Sprintf("%s/npm/:_authToken=registry-secret\n", hostOf(reg.URL)),
			[]string{"registry /npm/" + pkg + ": Bearer registry-secret", "registry /npm/redirect.tgz: Bearer registry-secret", "cdn /platform.tgz: "}},
		{"a token for the registry and one for the tarball host",
			fmt.Sprintf("%s/:_authToken=registry-secret\n%s/:_authToken=cdn-secret\n", hostOf(reg.URL), hostOf(cdn.URL)),
			[]string{"registry /npm/" + pkg + ": Bearer registry-secret", "registry /npm/redirect.tgz: Bearer registry-secret", "cdn /platform.tgz: Bearer cdn-secret"}},
		{"a packument whose tarball is on the other host", // the redirect's target, named directly
			fmt.Sprintf("%s/npm/:_authToken=registry-secret\n", hostOf(reg.URL)),
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			project, _ := installByHand(t, release)
			writeFile(t, filepath.Join(project, ".npmrc"), tc.npmrc)
			bin := binLink(t, project)
			registry := reg.URL + "/npm/"
			if tc.want == nil {
				// A registry that serves the packument and points at the cdn.
				direct := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					record("registry", r)
					w.Write([]byte(`{"name":"` + pkg + `","versions":{"` + fixtureVersion + `":{"dist":{"tarball":"` + cdn.URL + `/platform.tgz"}}}}`))
				}))
				t.Cleanup(direct.Close)
				registry = direct.URL + "/npm/"
				writeFile(t, filepath.Join(project, ".npmrc"), fmt.Sprintf("%s/npm/:_authToken=registry-secret\n", hostOf(direct.URL)))
				tc.want = []string{"registry /npm/" + pkg + ": Bearer registry-secret", "cdn /platform.tgz: "}
			}
			env := []string{"npm_config_registry=" + registry, "npm_config_user_agent=npm/11.0.0 node/v20.0.0", "NPM_CONFIG_USERCONFIG=" + filepath.Join(project, "no-user-npmrc")}
			r := runEnv(t, project, env, bin, "--version")
			if r.code != 0 || !strings.Contains(r.out, "installed "+pkg) {
				t.Fatalf("the first run did not fetch the package (exit %d):\n%s", r.code, r.out)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(seen, tc.want) {
				t.Errorf("the requests and their credentials:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// Two first runs fetch at once and the other renames its copy into place
// first: this run keeps that copy and runs, on POSIX (rename answers
// ENOTEMPTY) and on Windows (it answers EPERM, simulated here), and removes
// nothing another run has installed.
func TestFirstRunFetchLosingTheRaceKeepsTheWinnersCopy(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	release := mustRelease(t, newRepo(t), Options{Snapshot: true})
	const pkg = "@tern-agent/cli-linux-x64"
	body, err := os.ReadFile(filepath.Join(release, "tern-agent-cli-linux-x64-"+fixtureVersion+".tgz"))
	if err != nil {
		t.Fatal(err)
	}
	registry := platformRegistry(t, pkg, fixtureVersion, body)
	for _, errno := range []string{"ENOTEMPTY", "EPERM"} {
		t.Run(errno, func(t *testing.T) {
			project, launcher := installByHand(t, release)
			// Just before this run renames its verified copy into place,
			// the other run's lands there.
			preload := filepath.Join(project, "race.js")
			writeFile(t, preload, `
const fs = require('fs');
const real = fs.renameSync;
fs.renameSync = function (from, to) {
  if (/\.partial-/.test(String(from)) && !fs.existsSync(to)) {
    fs.cpSync(from, to, { recursive: true });
    if (process.env.RACE_ERRNO === 'EPERM') {
      const e = new Error('EPERM: operation not permitted, rename'); e.code = 'EPERM'; throw e;
    }
  }
  return real.apply(this, arguments);
};
`)
			bin := binLink(t, project)
			env := []string{"npm_config_registry=" + registry, "npm_config_user_agent=npm/11.0.0 node/v20.0.0",
				"NODE_OPTIONS=--require " + preload, "RACE_ERRNO=" + errno}
			r := runEnv(t, project, env, bin, "--version")
			if r.code != 0 || !strings.Contains(r.out, "version="+fixtureVersion) {
				t.Fatalf("the run that lost the race: exit %d\n%s", r.code, r.out)
			}
			meta := filepath.Dir(filepath.Dir(launcher))
			if left, _ := filepath.Glob(filepath.Join(meta, "vendor", "@tern-agent", "*.*-*")); len(left) != 0 {
				t.Errorf("the losing run left %v behind", left)
			}
			if _, err := os.Stat(filepath.Join(meta, "vendor", pkg, "package.json")); err != nil {
				t.Errorf("the winner's copy is gone: %v", err)
			}
		})
	}
}

// A registry that answers the first run's fetch with more than a packument
// can be is refused, with the size named, rather than read into memory
// without end.
func TestFirstRunRefusesAnEndlessPackument(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	release := mustRelease(t, newRepo(t), Options{Snapshot: true})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"name":"x","padding":"`))
		chunk := []byte(strings.Repeat("x", 1<<20))
		for i := 0; i < 80; i++ { // 80 MiB, chunked: no Content-Length to go by
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		w.Write([]byte(`"}`))
	}))
	t.Cleanup(srv.Close)
	project, _ := installByHand(t, release)
	bin := binLink(t, project)
	env := []string{"npm_config_registry=" + srv.URL + "/", "npm_config_user_agent=npm/11.0.0 node/v20.0.0"}
	r := runEnv(t, project, env, bin, "--version")
	if r.code != 1 || !strings.Contains(r.out, "the answer is longer than 64 MiB, more than it can be; refused") {
		t.Fatalf("exit %d:\n%s", r.code, r.out)
	}
}

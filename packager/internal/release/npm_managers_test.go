//go:build linux

package release

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// managerTools are the package managers `make test` installs (tools/npm):
// pnpm 9 and 12, Yarn 4 (a JS file run with node), bun and deno. A bare
// `go test` skips.
type managerTools struct{ pnpm9, pnpm12, yarn4, bun, deno string }

func packageManagers(t *testing.T) managerTools {
	t.Helper()
	m := managerTools{os.Getenv("PNPM"), os.Getenv("PNPM12"), os.Getenv("YARN4"), os.Getenv("BUN"), os.Getenv("DENO")}
	if m.pnpm9 == "" || m.pnpm12 == "" || m.yarn4 == "" || m.bun == "" || m.deno == "" {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
			t.Fatal("PNPM, PNPM12, YARN4, BUN and DENO must all be set; `make test` installs them (tools/npm)")
		}
		t.Skip("PNPM, PNPM12, YARN4, BUN or DENO is not set (run `make test`, which installs them from tools/npm)")
	}
	return m
}

// managerRegistry is verdaccio with this release published once, for every
// manager's test.
type managerRegistry struct {
	registry
	release string
	meta    string // @tern-agent/cli@<version>
}

func publishForManagers(t *testing.T) managerRegistry {
	t.Helper()
	verdaccio, _ := npmTools(t)
	reg := startVerdaccio(t, verdaccio)
	dir := mustRelease(t, newRepo(t), Options{Snapshot: true})
	tgzs, _ := filepath.Glob(filepath.Join(dir, "tern-agent-cli-*-"+fixtureVersion+".tgz"))
	tgzs = append(tgzs, filepath.Join(dir, "tern-agent-cli-"+fixtureVersion+".tgz")) // the meta package last
	for _, tgz := range tgzs {
		if r := runEnv(t, dir, reg.env(t), "npm", "publish", tgz, "--registry", reg.url, "--tag", "snapshot"); r.code != 0 {
			t.Fatalf("npm publish %s: %s", tgz, r.out)
		}
	}
	return managerRegistry{reg, dir, "@tern-agent/cli@" + fixtureVersion}
}

// home is an empty home directory and the environment that points every
// manager's user config and cache into it, so nothing of the developer's
// setup leaks in, and nothing of the test's leaks out.
func home(t *testing.T) (string, []string) {
	h := t.TempDir()
	return h, []string{
		"HOME=" + h, "XDG_CONFIG_HOME=" + filepath.Join(h, ".config"), "XDG_CACHE_HOME=" + filepath.Join(h, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(h, ".local", "share"), "npm_config_user_agent=",
		"BUN_INSTALL_CACHE_DIR=" + filepath.Join(h, "bun-cache"), "DENO_DIR=" + filepath.Join(h, "deno"),
		"YARN_ENABLE_IMMUTABLE_INSTALLS=false", "YARN_ENABLE_TELEMETRY=false", "CI=",
	}
}

// yarnrc is a Yarn 4 project's .yarnrc.yml against the test registry.
// Yarn 4 quarantines versions younger than a day (npmMinimalAgeGate,
// default 1d); the fixture was published seconds ago, so the project opts
// in the documented way, npmPreapprovedPackages.
func yarnrc(reg string, linker string, scripts bool, extra string) string {
	return fmt.Sprintf("npmRegistryServer: %q\nunsafeHttpWhitelist: [\"127.0.0.1\"]\nenableGlobalCache: false\n"+
		"npmPreapprovedPackages: [\"@tern-agent/*\"]\nnodeLinker: %s\nenableScripts: %t\n%s", reg, linker, scripts, extra)
}

// noneOf fails for output that says any of the words.
func noneOf(t *testing.T, what, out string, words ...string) {
	t.Helper()
	for _, w := range words {
		if strings.Contains(out, w) {
			t.Errorf("%s says %q:\n%s", what, w, out)
		}
	}
}

// A door: a package manager's install of the meta package, and the
// commands that run tern through it.
type door struct {
	name string
	// install installs into project, scripts allowed or blocked, and
	// returns the install's output.
	install func(t *testing.T, project string, env []string, scripts bool) string
	// runs run `tern --version` through the door: the first is the first run.
	runs [][]string
	// launcher is the meta package's bin/tern.js on disk ("" under PnP).
	launcher func(project, home string) string
	linked   bool // the first run replaces the launcher with a link
}

func managerDoors(reg managerRegistry, m managerTools) []door {
	meta := reg.meta
	nodeModulesLauncher := func(project, _ string) string {
		return filepath.Join(project, "node_modules", "@tern-agent", "cli", "bin", "tern.js")
	}
	must := func(t *testing.T, r cmdResult, what string) string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", what, r.code, r.out)
		}
		return r.out
	}
	pnpm := func(bin string) func(t *testing.T, project string, env []string, scripts bool) string {
		return func(t *testing.T, project string, env []string, scripts bool) string {
			writeFile(t, filepath.Join(project, ".npmrc"), "registry="+reg.url+"\n")
			args := []string{"--store-dir", filepath.Join(project, ".store")}
			if !scripts {
				args = append(args, "--ignore-scripts")
			}
			out := must(t, runEnv(t, project, env, bin, append([]string{"add", meta}, args...)...), "pnpm add")
			// pnpm 12 fails every later install too when it ignored a build.
			out += must(t, runEnv(t, project, env, bin, append([]string{"install"}, args...)...), "a second pnpm install")
			noneOf(t, "pnpm", out, "ERR_PNPM_IGNORED_BUILDS", "Ignored build scripts")
			return out
		}
	}
	yarn := func(linker string) func(t *testing.T, project string, env []string, scripts bool) string {
		return func(t *testing.T, project string, env []string, scripts bool) string {
			writeFile(t, filepath.Join(project, ".yarnrc.yml"), yarnrc(reg.url, linker, scripts, ""))
			writeFile(t, filepath.Join(project, "yarn.lock"), "")
			return must(t, runEnv(t, project, env, "node", m.yarn4, "add", meta), "yarn add")
		}
	}
	npmProject := func(t *testing.T, project string, env []string, scripts bool) string {
		args := []string{"install", meta}
		if !scripts {
			args = append(args, "--ignore-scripts")
		}
		return must(t, runEnv(t, project, env, "npm", args...), "npm install")
	}
	bin := filepath.Join("node_modules", ".bin", "tern")
	// The launcher in deno's npm cache, where deno runs it from.
	denoCached := func(_, home string) string {
		m, _ := filepath.Glob(filepath.Join(home, "deno", "npm", "*", "@tern-agent", "cli", fixtureVersion, "bin", "tern.js"))
		if len(m) != 1 {
			return filepath.Join(home, "deno", "npm", "(no tern.js in deno's cache)")
		}
		return m[0]
	}
	return []door{
		{"npm global", func(t *testing.T, project string, env []string, scripts bool) string {
			args := []string{"install", "-g", "--prefix", filepath.Join(project, "prefix"), meta}
			if !scripts {
				args = append(args, "--ignore-scripts")
			}
			return must(t, runEnv(t, project, env, "npm", args...), "npm install -g")
		}, [][]string{{"prefix/bin/tern", "--version"}, {"prefix/bin/tern", "--version"}},
			func(project, _ string) string {
				return filepath.Join(project, "prefix", "lib", "node_modules", "@tern-agent", "cli", "bin", "tern.js")
			}, true},
		{"npm project with npx", npmProject, [][]string{{"npx", "--no-install", "tern", "--version"}, {bin, "--version"}, {"npx", "--no-install", "tern", "--version"}}, nodeModulesLauncher, true},
		{"pnpm 9", pnpm(m.pnpm9), [][]string{{bin, "--version"}, {m.pnpm9, "exec", "tern", "--version"}}, nodeModulesLauncher, false},
		{"pnpm 12", pnpm(m.pnpm12), [][]string{{bin, "--version"}, {m.pnpm12, "exec", "tern", "--version"}}, nodeModulesLauncher, false},
		{"yarn 4 pnp", yarn("pnp"), [][]string{{"node", m.yarn4, "tern", "--version"}, {"node", m.yarn4, "tern", "--version"}},
			func(string, string) string { return "" }, false},
		// Yarn runs bins with node (`yarn tern` is `node …/tern.js`): the sh
		// launcher is JavaScript to it, so the link is safe here too.
		{"yarn 4 node-modules", yarn("node-modules"), [][]string{{bin, "--version"}, {"node", m.yarn4, "tern", "--version"}, {bin, "--version"}}, nodeModulesLauncher, true},
		{"bun", func(t *testing.T, project string, env []string, scripts bool) string {
			writeFile(t, filepath.Join(project, "bunfig.toml"), "[install]\nregistry = \""+reg.url+"\"\n")
			args := []string{"add", meta}
			if !scripts {
				args = append(args, "--ignore-scripts")
			}
			out := must(t, runEnv(t, project, env, m.bun, args...), "bun add")
			noneOf(t, "bun add", out, "SyntaxError")
			return out
		}, [][]string{{bin, "--version"}, {m.bun, "run", "tern", "--version"}, {m.bun, "x", "tern", "--version"}}, nodeModulesLauncher, true},
		// deno install -g writes a sh wrapper that runs `deno run …`.
		{"deno install -g", func(t *testing.T, project string, env []string, scripts bool) string {
			args := []string{"install", "-g", "-A", "-n", "tern", "--root", filepath.Join(project, "root"), "--min-dep-age=0"}
			if scripts {
				args = append(args, "--allow-scripts")
			}
			return must(t, runEnv(t, project, env, m.deno, append(args, "npm:"+meta)...), "deno install -g")
		}, [][]string{{"root/bin/tern", "--version"}, {"root/bin/tern", "--version"}}, denoCached, false},
		{"deno", func(t *testing.T, project string, env []string, scripts bool) string { return "" },
			nil, denoCached, false},
	}
}

// denoRun is `deno run npm:…` with scripts allowed or not. Deno quarantines
// versions younger than a day (minimumDependencyAge, 24 hours by default);
// --min-dep-age=0 is the documented opt-in.
func denoRun(deno, meta string, scripts bool) []string {
	args := []string{deno, "run", "-A", "--min-dep-age=0"}
	if scripts {
		args = append(args, "--allow-scripts")
	}
	return append(args, "npm:"+meta, "--version")
}

// TestNPMManagers installs the meta package with every package manager
// (issue 17), scripts allowed and blocked, and runs tern through each door
// twice: no manager fails for a build script (the package has none), tern
// prints its version both times, and the first run links the launcher to
// the binary exactly where that is safe.
func TestNPMManagers(t *testing.T) {
	tools := packageManagers(t)
	reg := publishForManagers(t)

	t.Run("doors", func(t *testing.T) {
		for _, d := range managerDoors(reg, tools) {
			for _, scripts := range []bool{true, false} {
				name := d.name + map[bool]string{true: ", scripts allowed", false: ", scripts blocked"}[scripts]
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					h, env := home(t)
					// deno install's wrapper runs `deno` from PATH.
					env = append(env, append(reg.env(t), "PATH="+filepath.Dir(tools.deno)+string(os.PathListSeparator)+os.Getenv("PATH"))...)
					project := newProject(t)
					out := d.install(t, project, env, scripts)
					noneOf(t, d.name+" install", out, "SyntaxError", "ERR_PNPM")
					runs := d.runs
					if d.name == "deno" {
						runs = [][]string{denoRun(tools.deno, reg.meta, scripts), denoRun(tools.deno, reg.meta, scripts)}
					}
					launcher := d.launcher(project, h)
					if _, err := os.Stat(launcher); err == nil && selfLinked(t, launcher) {
						t.Fatalf("%s is a link before the first run: nothing may run at install", launcher)
					}
					for i, argv := range runs {
						if !filepath.IsAbs(argv[0]) && strings.Contains(argv[0], "/") {
							argv = append([]string{filepath.Join(project, argv[0])}, argv[1:]...)
						}
						r := runEnv(t, project, env, argv[0], argv[1:]...)
						if r.code != 0 || !strings.Contains(r.out, "version="+fixtureVersion) {
							t.Fatalf("run %d, %v: exit %d\n%s", i+1, argv, r.code, r.out)
						}
						noneOf(t, fmt.Sprintf("run %d", i+1), r.out, "SyntaxError")
					}
					launcher = d.launcher(project, h)
					switch {
					case launcher == "":
						if _, err := os.Stat(filepath.Join(project, "node_modules")); err == nil {
							t.Errorf("Yarn PnP made node_modules")
						}
					case d.linked && !selfLinked(t, launcher):
						t.Errorf("the first run did not link %s to the binary", launcher)
					case !d.linked:
						if selfLinked(t, launcher) {
							t.Errorf("%s must stay the JS launcher under %s", launcher, d.name)
						}
					}
				})
			}
		}
	})

	// Item 2: bun's install ran no script that ran bun as Node; the first
	// run fetches an omitted platform package from bunfig.toml's registry,
	// with no npm setting in sight and no other registry asked.
	t.Run("bun fetches from bunfig.toml's registry", func(t *testing.T) {
		t.Parallel()
		_, env := home(t)
		project := newProject(t)
		writeFile(t, filepath.Join(project, "bunfig.toml"), "[install]\nregistry = \""+reg.url+"\"\n")
		r := runEnv(t, project, env, tools.bun, "add", "--omit=optional", reg.meta)
		if r.code != 0 {
			t.Fatalf("bun add --omit=optional: exit %d\n%s", r.code, r.out)
		}
		if _, err := os.Stat(filepath.Join(project, "node_modules", "@tern-agent", "cli-linux-x64")); err == nil {
			t.Skip("bun installed the optional dependency after all; nothing to fetch")
		}
		// Any https request (the public registry) fails through this proxy.
		env = append(env, "HTTPS_PROXY=http://127.0.0.1:1", "https_proxy=http://127.0.0.1:1")
		v := runEnv(t, project, env, filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
		if v.code != 0 || !strings.Contains(v.out, "installed @tern-agent/cli-linux-x64@"+fixtureVersion+" from "+reg.url) {
			t.Fatalf("the first run under bun: exit %d\n%s", v.code, v.out)
		}
		noneOf(t, "the first run under bun", v.out, "SyntaxError", "registry.npmjs.org")
	})

	// Item 3: an install for another platform is not repaired for the host.
	t.Run("npm install --os=linux --cpu=arm64", func(t *testing.T) {
		t.Parallel()
		_, env := home(t)
		env = append(env, reg.env(t)...)
		project := newProject(t)
		if r := runEnv(t, project, env, "npm", "install", "--os=linux", "--cpu=arm64", reg.meta); r.code != 0 {
			t.Fatalf("npm install: exit %d\n%s", r.code, r.out)
		}
		mods := filepath.Join(project, "node_modules", "@tern-agent")
		entries, _ := os.ReadDir(mods)
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if strings.Join(got, " ") != "cli cli-linux-arm64" {
			t.Fatalf("node_modules/@tern-agent holds %v, want cli and cli-linux-arm64 only", got)
		}
		launcher := filepath.Join(mods, "cli", "bin", "tern.js")
		if selfLinked(t, launcher) {
			t.Fatalf("the install linked %s", launcher)
		}
		// Run on this x64 host: a diagnosis, no fetch, no link.
		v := runEnv(t, project, env, filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
		if v.code != 1 || !strings.Contains(v.out, "was installed for linux-arm64, but this machine is linux-x64") {
			t.Errorf("tern on the x64 host: exit %d\n%s", v.code, v.out)
		}
		noneOf(t, "tern on the x64 host", v.out, "installed @tern-agent/cli-linux-x64", "could not fetch")
		if _, err := os.Stat(filepath.Join(mods, "cli", "vendor")); err == nil || selfLinked(t, launcher) {
			t.Errorf("the host run fetched or linked something (vendor/: %v)", err)
		}
		qemu, err := exec.LookPath("qemu-aarch64-static")
		if err != nil {
			if os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
				t.Fatal("qemu-aarch64-static is not installed (package qemu-user-static)")
			}
			t.Skip("qemu-aarch64-static is not installed (package qemu-user-static)")
		}
		if q := runEnv(t, project, nil, qemu, filepath.Join(mods, "cli-linux-arm64", "bin", "tern"), "--version"); q.code != 0 || !strings.Contains(q.out, "version="+fixtureVersion) {
			t.Errorf("the arm64 binary under qemu: exit %d\n%s", q.code, q.out)
		}
	})

	// Eight first runs at once: each exits 0 with the version, and the
	// launcher ends as one valid link.
	t.Run("concurrent first runs", func(t *testing.T) {
		t.Parallel()
		_, env := home(t)
		env = append(env, reg.env(t)...)
		project := newProject(t)
		if r := runEnv(t, project, env, "npm", "install", reg.meta); r.code != 0 {
			t.Fatalf("npm install: exit %d\n%s", r.code, r.out)
		}
		bin := filepath.Join(project, "node_modules", ".bin", "tern")
		var wg sync.WaitGroup
		results := make([]cmdResult, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, "--version")
				cmd.Env = append(os.Environ(), env...)
				out, _ := cmd.CombinedOutput()
				results[i] = cmdResult{string(out), cmd.ProcessState.ExitCode()}
			}()
		}
		wg.Wait()
		for i, r := range results {
			if r.code != 0 || !strings.Contains(r.out, "version="+fixtureVersion) {
				t.Errorf("concurrent run %d: exit %d\n%s", i, r.code, r.out)
			}
		}
		launcher := filepath.Join(project, "node_modules", "@tern-agent", "cli", "bin", "tern.js")
		if !selfLinked(t, launcher) {
			t.Fatalf("after eight first runs %s is not the sh launcher", launcher)
		}
		if left, _ := filepath.Glob(launcher + ".link-*"); len(left) != 0 {
			t.Errorf("temporary links left behind: %v", left)
		}
		if r := runEnv(t, project, nil, bin, "--version"); r.code != 0 || !strings.Contains(r.out, "version="+fixtureVersion) {
			t.Errorf("the link: exit %d\n%s", r.code, r.out)
		}
	})

	// A global install owned by root, run by an unprivileged user: the
	// launcher cannot write there, so it links nothing and just runs.
	t.Run("root-owned global install run by a user", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("not root: no throw-away user can be made")
		}
		cred := throwawayNPMUser(t)
		_, env := home(t)
		env = append(env, reg.env(t)...)
		prefix, err := os.MkdirTemp("", "tern-npm-global-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(prefix) })
		os.Chmod(prefix, 0o755)
		if r := runEnv(t, prefix, env, "npm", "install", "-g", "--prefix", prefix, reg.meta); r.code != 0 {
			t.Fatalf("npm install -g: exit %d\n%s", r.code, r.out)
		}
		for i := 1; i <= 2; i++ {
			cmd := exec.Command(filepath.Join(prefix, "bin", "tern"), "--version")
			cmd.Dir = prefix
			cmd.Env = append(os.Environ(), "HOME="+prefix)
			cmd.SysProcAttr = cred
			out, _ := cmd.CombinedOutput()
			if cmd.ProcessState.ExitCode() != 0 || !strings.Contains(string(out), "version="+fixtureVersion) {
				t.Fatalf("run %d as an unprivileged user: exit %d\n%s", i, cmd.ProcessState.ExitCode(), out)
			}
		}
		if launcher := filepath.Join(prefix, "lib", "node_modules", "@tern-agent", "cli", "bin", "tern.js"); selfLinked(t, launcher) {
			t.Errorf("an unprivileged run linked root's %s", launcher)
		}
	})
}

// throwawayNPMUser creates a user for this test, removed afterwards, and
// returns the process attributes that run a command as that user.
func throwawayNPMUser(t *testing.T) *syscall.SysProcAttr {
	t.Helper()
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skipf("useradd is missing (package passwd), so no unprivileged user can be made: %v", err)
	}
	name := fmt.Sprintf("tern-n%d", os.Getpid()%100000)
	if _, err := user.Lookup(name); err != nil {
		if out, err := exec.Command("useradd", "--no-create-home", "--shell", "/bin/sh", name).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v\n%s", name, err, out)
		}
		t.Cleanup(func() { exec.Command("userdel", name).Run() })
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}

//go:build linux

package release

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNPMFixesNameTheManager (issue 17, item 4): with this machine's
// platform package missing, under each package manager, the launcher's
// diagnosis names that manager's commands and lockfile, never npm's
// elsewhere, and never node_modules under Yarn PnP. The first run's fetch
// is kept from succeeding (no registry answers) so that the diagnosis is
// what the user sees.
func TestNPMFixesNameTheManager(t *testing.T) {
	tools := packageManagers(t)
	reg := publishForManagers(t)
	noRegistry := "npm_config_registry=http://127.0.0.1:1/"
	// npm's commands, as a fix would print them ("pnpm install" holds
	// "npm install"), and npm's lockfile.
	notNPM := []string{"  npm install", "`npm install", "npm install -g", "npm ci", "package-lock.json"}
	v := fixtureVersion

	for _, tc := range []struct {
		name    string
		install func(t *testing.T, project string, env []string)
		run     []string // relative to the project
		want    []string
		not     []string
	}{
		{"npm", func(t *testing.T, project string, env []string) {
			mustRun(t, project, env, "npm", "install", "--omit=optional", reg.meta)
		}, []string{"node_modules/.bin/tern"}, []string{"@tern-agent/cli-linux-x64 is not installed",
			"npm install -g @tern-agent/cli@" + v + " --include=optional",
			"npm install @tern-agent/cli@" + v + " --package-lock-only --include=optional && npm install --include=optional",
			"package-lock.json", "npm/cli#4828"}, nil},
		{"pnpm 12", func(t *testing.T, project string, env []string) {
			writeFile(t, filepath.Join(project, ".npmrc"), "registry="+reg.url+"\n")
			mustRun(t, project, env, tools.pnpm12, "add", "--no-optional", "--store-dir", filepath.Join(project, ".store"), reg.meta)
		}, []string{"node_modules/.bin/tern"}, []string{"@tern-agent/cli-linux-x64 is not installed",
			"pnpm add -g @tern-agent/cli@" + v, "pnpm add @tern-agent/cli@" + v + " && pnpm install", "pnpm-lock.yaml", "--no-optional"},
			notNPM},
		{"yarn 4 node-modules", func(t *testing.T, project string, env []string) {
			writeFile(t, filepath.Join(project, ".yarnrc.yml"), yarnrc(reg.url, "node-modules", true, "supportedArchitectures: {os: [freebsd], cpu: [x64]}\n"))
			writeFile(t, filepath.Join(project, "yarn.lock"), "")
			mustRun(t, project, env, "node", tools.yarn4, "add", reg.meta)
		}, []string{"node_modules/.bin/tern"}, []string{"@tern-agent/cli-linux-x64 is not installed",
			"yarn add @tern-agent/cli@" + v, "yarn dlx -p @tern-agent/cli@" + v + " tern", "yarn.lock", "supportedArchitectures in .yarnrc.yml",
			"delete yarn.lock and node_modules"},
			notNPM},
		{"yarn 4 pnp", func(t *testing.T, project string, env []string) {
			writeFile(t, filepath.Join(project, ".yarnrc.yml"), yarnrc(reg.url, "pnp", true, "supportedArchitectures: {os: [freebsd], cpu: [x64]}\n"))
			writeFile(t, filepath.Join(project, "yarn.lock"), "")
			mustRun(t, project, env, "node", tools.yarn4, "add", reg.meta)
		}, []string{"node", tools.yarn4, "tern"}, []string{"@tern-agent/cli-linux-x64 is not installed",
			"yarn add @tern-agent/cli@" + v, "yarn.lock", "supportedArchitectures in .yarnrc.yml", "delete yarn.lock and run `yarn install` again",
			"under Yarn PnP it is up to Yarn"},
			append(notNPM, "node_modules")},
		{"bun", func(t *testing.T, project string, env []string) {
			writeFile(t, filepath.Join(project, "bunfig.toml"), "[install]\nregistry = \""+reg.url+"\"\n")
			mustRun(t, project, env, tools.bun, "add", "--omit=optional", reg.meta)
		}, []string{"node_modules/.bin/tern"}, []string{"@tern-agent/cli-linux-x64 is not installed",
			"bun add -g @tern-agent/cli@" + v, "bun add @tern-agent/cli@" + v, "bun.lock", "--omit optional"},
			notNPM},
		// Installed for another platform under PnP: Yarn's fix, no node_modules.
		{"yarn 4 pnp, another platform", func(t *testing.T, project string, env []string) {
			writeFile(t, filepath.Join(project, ".yarnrc.yml"), yarnrc(reg.url, "pnp", true, "supportedArchitectures: {os: [darwin], cpu: [arm64]}\n"))
			writeFile(t, filepath.Join(project, "yarn.lock"), "")
			mustRun(t, project, env, "node", tools.yarn4, "add", reg.meta)
		}, []string{"node", tools.yarn4, "tern"}, []string{
			"@tern-agent/cli was installed for darwin-arm64, but this machine is linux-x64", "Run `yarn install` on the machine that runs it",
			"supportedArchitectures in .yarnrc.yml"},
			append(notNPM, "node_modules", "could not fetch")},
		// deno installs every optional dependency that fits: the launcher
		// is run by deno from a node_modules laid out by hand without one.
		{"deno", func(t *testing.T, project string, env []string) {
			byHand, _ := installByHand(t, reg.release)
			if err := os.Rename(filepath.Join(byHand, "node_modules"), filepath.Join(project, "node_modules")); err != nil {
				t.Fatal(err)
			}
		}, []string{tools.deno, "run", "-A", "node_modules/@tern-agent/cli/bin/tern.js"}, []string{"@tern-agent/cli-linux-x64 is not installed",
			"deno install -g -A -n tern npm:@tern-agent/cli@" + v, "deno add npm:@tern-agent/cli@" + v + " && deno install", "deno.lock"},
			notNPM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, env := home(t)
			env = append(env, reg.env(t)...)
			project := newProject(t)
			tc.install(t, project, env)
			if _, err := os.Stat(filepath.Join(project, "node_modules", "@tern-agent", "cli-linux-x64")); err == nil {
				t.Fatal("the platform package is installed; this case tests nothing")
			}
			if m, _ := filepath.Glob(filepath.Join(project, ".yarn", "unplugged", "@tern-agent-cli-linux-x64-*")); len(m) != 0 {
				t.Fatalf("Yarn unplugged %v; this case tests nothing", m)
			}
			argv := tc.run
			if strings.Contains(argv[0], "/") && !filepath.IsAbs(argv[0]) {
				argv = append([]string{filepath.Join(project, argv[0])}, argv[1:]...)
			}
			r := runEnv(t, project, append(env, noRegistry), argv[0], append(argv[1:], "--version")...)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 and a diagnosis:\n%s", r.code, r.out)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("the diagnosis lacks %q:\n%s", w, r.out)
				}
			}
			noneOf(t, "the diagnosis", r.out, tc.not...)
		})
	}
}

func mustRun(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	r := runEnv(t, dir, env, name, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: exit %d\n%s", name, strings.Join(args, " "), r.code, r.out)
	}
	return r.out
}

// TestNPMProjectFixKeepsOtherPlatforms: a package-lock.json that lost this
// platform's package (npm/cli#4828) is repaired by the project fix the
// diagnosis prints, and the repaired project still installs for another
// platform. The fix this printed before, adding the Linux-only package to
// dependencies, fails there with EBADPLATFORM.
func TestNPMProjectFixKeepsOtherPlatforms(t *testing.T) {
	reg := publishForManagers(t)
	_, env := home(t)
	env = append(env, reg.env(t)...)
	project := newProject(t)
	mustRun(t, project, env, "npm", "install", reg.meta)

	// npm/cli#4828: the lockfile lacks this platform's package.
	lockPath := filepath.Join(project, "package-lock.json")
	var lock map[string]any
	if err := json.Unmarshal([]byte(readFile(t, lockPath)), &lock); err != nil {
		t.Fatal(err)
	}
	delete(lock["packages"].(map[string]any), "node_modules/@tern-agent/cli-linux-x64")
	b, _ := json.MarshalIndent(lock, "", "  ")
	writeFile(t, lockPath, string(b))
	os.RemoveAll(filepath.Join(project, "node_modules"))
	mustRun(t, project, env, "npm", "install", "--no-save")
	os.RemoveAll(filepath.Join(project, "node_modules", "@tern-agent", "cli-linux-x64"))
	broken := copyProject(t, project)

	r := runEnv(t, project, append(env, "npm_config_registry=http://127.0.0.1:1/"), filepath.Join(project, "node_modules", ".bin", "tern"), "--version")
	_, fix, ok := strings.Cut(r.out, "Fix, in a project:\n  ")
	fix, _, _ = strings.Cut(fix, "\n")
	if r.code != 1 || !ok || !strings.HasPrefix(fix, "npm install @tern-agent/cli@") {
		t.Fatalf("no project fix in the diagnosis (exit %d):\n%s", r.code, r.out)
	}

	// Another platform's machine, as npm sees it: npm is a Node program,
	// and decides by process.platform and process.arch. (npm ci --os/--cpu
	// does not refuse a dependency for another platform; a real Mac does.)
	fake := filepath.Join(t.TempDir(), "darwin-arm64.js")
	writeFile(t, fake, "Object.defineProperty(process, 'platform', { value: 'darwin' });\nObject.defineProperty(process, 'arch', { value: 'arm64' });\n")
	otherPlatform := func(t *testing.T, dir string) cmdResult {
		other := copyProject(t, dir)
		os.RemoveAll(filepath.Join(other, "node_modules"))
		r := runEnv(t, other, append(env, "NODE_OPTIONS=--require "+fake), "npm", "ci")
		if _, err := os.Stat(filepath.Join(other, "node_modules", "@tern-agent", "cli-darwin-arm64")); r.code == 0 && err != nil {
			t.Errorf("npm ci on darwin-arm64 did not install cli-darwin-arm64: %v", err)
		}
		return r
	}
	t.Run("the fix", func(t *testing.T) {
		mustRun(t, project, env, "sh", "-c", fix)
		if v := runEnv(t, project, nil, filepath.Join(project, "node_modules", ".bin", "tern"), "--version"); v.code != 0 || !strings.Contains(v.out, "version="+fixtureVersion) {
			t.Fatalf("tern after the fix %q: exit %d\n%s", fix, v.code, v.out)
		}
		if o := otherPlatform(t, project); o.code != 0 {
			t.Fatalf("after the fix, npm ci on darwin-arm64: exit %d\n%s", o.code, o.out)
		}
	})
	t.Run("the fix it replaced", func(t *testing.T) {
		mustRun(t, broken, env, "sh", "-c", "npm install @tern-agent/cli-linux-x64@"+fixtureVersion+" --package-lock-only && npm install")
		if o := otherPlatform(t, broken); o.code == 0 || !strings.Contains(o.out, "EBADPLATFORM") {
			t.Fatalf("the old fix was expected to break other platforms with EBADPLATFORM: exit %d\n%s", o.code, o.out)
		}
	})
}

// copyProject copies a project, node_modules' links and all.
func copyProject(t *testing.T, dir string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", dir, to).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s: %v\n%s", dir, err, out)
	}
	return to
}

package main

// npmDoors prints the start-up of `tern --version` through every package
// manager's door, side by side in one run, after a real install of the
// release's npm packages from a local verdaccio: the native binary; npm's
// bin after the first run replaced the JS launcher (lib/firstrun.js);
// npm's JS launcher itself; pnpm 12; Yarn 4 with PnP and with its
// node-modules linker; bun; deno. Each door has had its first run before it
// is timed: the figures are what every later start costs.
//
// It needs the tools `make npm-tools` installs, by path in VERDACCIO,
// PNPM12, YARN4, BUN and DENO (make bench passes them); without them it
// says so and prints nothing.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type npmTools struct{ verdaccio, pnpm12, yarn4, bun, deno string }

func npmToolsFromEnv() (npmTools, bool) {
	t := npmTools{os.Getenv("VERDACCIO"), os.Getenv("PNPM12"), os.Getenv("YARN4"), os.Getenv("BUN"), os.Getenv("DENO")}
	return t, t.verdaccio != "" && t.pnpm12 != "" && t.yarn4 != "" && t.bun != "" && t.deno != ""
}

// verdaccio runs a registry on 127.0.0.1 with its own storage in dir, and
// returns its URL, an npmrc that can publish to it, and how to stop it.
func verdaccio(bin, dir string) (url, npmrc string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := filepath.Join(dir, "verdaccio.yaml")
	must(os.WriteFile(cfg, []byte(fmt.Sprintf(`storage: %s
auth: {htpasswd: {file: %s, max_users: 10}}
uplinks: {}
packages:
  '@*/*': {access: $all, publish: $authenticated}
  '**': {access: $all, publish: $authenticated}
log: {type: stdout, format: pretty, level: warn}
`, filepath.Join(dir, "storage"), filepath.Join(dir, "htpasswd"))), 0o644))
	cmd := exec.Command(bin, "--config", cfg, "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(cmd.Start())
	stop = func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
	url = fmt.Sprintf("http://127.0.0.1:%d/", port)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url + "-/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			fail("verdaccio did not start at %s", url)
		}
	}
	req, _ := http.NewRequest(http.MethodPut, url+"-/user/org.couchdb.user:bench", strings.NewReader(`{"name":"bench","password":"bench-password"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		stop()
		fail("verdaccio: %v", err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	npmrc = filepath.Join(dir, "npmrc")
	must(os.WriteFile(npmrc, []byte(fmt.Sprintf("registry=%s\n%s:_authToken=%s\nfund=false\naudit=false\nupdate-notifier=false\n",
		url, strings.TrimPrefix(url, "http:"), tok.Token)), 0o644))
	return url, npmrc, stop
}

// inDir runs a command in dir with env added, failing the benchmark if it
// fails, and returns its output.
func inDir(dir string, env []string, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		fail("%s %s (in %s): %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

func (o *npmOptions) doors(key string) {
	tools, ok := npmToolsFromEnv()
	if !ok {
		fmt.Println("\nnpm doors: skipped (VERDACCIO, PNPM12, YARN4, BUN and DENO are not all set; make bench sets them)")
		return
	}
	work := mustTemp("bench-npm-doors-")
	defer os.RemoveAll(work)
	url, npmrc, stop := verdaccio(tools.verdaccio, work)
	defer stop()
	home := filepath.Join(work, "home")
	must(os.MkdirAll(home, 0o755))
	env := []string{
		"NPM_CONFIG_USERCONFIG=" + npmrc, "NPM_CONFIG_CACHE=" + filepath.Join(work, "npm-cache"), "NPM_CONFIG_REGISTRY=" + url,
		"npm_config_loglevel=error", "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"), "BUN_INSTALL_CACHE_DIR=" + filepath.Join(work, "bun-cache"),
		"DENO_DIR=" + filepath.Join(work, "deno"), "YARN_ENABLE_IMMUTABLE_INSTALLS=false", "YARN_ENABLE_TELEMETRY=false", "npm_config_user_agent=",
	}

	// Publish as the release does: every platform package, the meta last.
	release, err := filepath.Abs(o.release) // npm publish runs elsewhere
	must(err)
	meta := glob(filepath.Join(release, "tern-agent-cli-[0-9]*.tgz"))
	version := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(meta), "tern-agent-cli-"), ".tgz")
	all, _ := filepath.Glob(filepath.Join(release, "tern-agent-cli-*.tgz"))
	for _, tgz := range all {
		if tgz != meta {
			inDir(work, env, "npm", "publish", tgz, "--registry", url, "--tag", "bench")
		}
	}
	inDir(work, env, "npm", "publish", meta, "--registry", url, "--tag", "bench")
	spec := "@tern-agent/cli@" + version

	project := func(name string) string {
		dir := filepath.Join(work, name)
		must(os.MkdirAll(dir, 0o755))
		must(os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"p","version":"1.0.0","private":true}`), 0o644))
		return dir
	}
	npmDir := project("npm")
	inDir(npmDir, env, "npm", "install", spec)
	launcherDir := project("npm-launcher")
	inDir(launcherDir, env, "npm", "install", spec)
	pnpmDir := project("pnpm12")
	must(os.WriteFile(filepath.Join(pnpmDir, ".npmrc"), []byte("registry="+url+"\n"), 0o644))
	inDir(pnpmDir, env, tools.pnpm12, "add", "--store-dir", filepath.Join(work, "pnpm-store"), spec)
	yarnrc := func(linker string) string {
		// Yarn 4 quarantines versions younger than a day; opt in.
		return fmt.Sprintf("npmRegistryServer: %q\nunsafeHttpWhitelist: [\"127.0.0.1\"]\nenableGlobalCache: false\nnpmPreapprovedPackages: [\"@tern-agent/*\"]\nnodeLinker: %s\n", url, linker)
	}
	yarnPnP, yarnNM := project("yarn-pnp"), project("yarn-nm")
	for dir, linker := range map[string]string{yarnPnP: "pnp", yarnNM: "node-modules"} {
		must(os.WriteFile(filepath.Join(dir, ".yarnrc.yml"), []byte(yarnrc(linker)), 0o644))
		must(os.WriteFile(filepath.Join(dir, "yarn.lock"), nil, 0o644))
		inDir(dir, env, "node", tools.yarn4, "add", spec)
	}
	bunDir := project("bun")
	must(os.WriteFile(filepath.Join(bunDir, "bunfig.toml"), []byte("[install]\nregistry = \""+url+"\"\n"), 0o644))
	inDir(bunDir, env, tools.bun, "add", spec)
	denoDir := filepath.Join(work, "deno-run")
	must(os.MkdirAll(denoDir, 0o755))

	bin := func(dir string) string { return filepath.Join(dir, "node_modules", ".bin", "tern") }
	type door struct {
		name string
		dir  string
		argv []string
	}
	doors := []door{
		{"native binary", npmDir, []string{filepath.Join(npmDir, "node_modules", "@tern-agent", "cli-"+key, "bin", "tern"), "--version"}},
		{"npm (linked by the first run)", npmDir, []string{bin(npmDir), "--version"}},
		{"npm (JS launcher)", launcherDir, []string{filepath.Join(launcherDir, "node_modules", "@tern-agent", "cli", "bin", "tern.js"), "--version"}},
		{"pnpm 12 (.bin/tern)", pnpmDir, []string{bin(pnpmDir), "--version"}},
		{"yarn 4 PnP (yarn tern)", yarnPnP, []string{"node", tools.yarn4, "tern", "--version"}},
		{"yarn 4 node-modules (.bin/tern)", yarnNM, []string{bin(yarnNM), "--version"}},
		{"yarn 4 node-modules (yarn tern)", yarnNM, []string{"node", tools.yarn4, "tern", "--version"}},
		{"bun (.bin/tern)", bunDir, []string{bin(bunDir), "--version"}},
		{"bun (bun x tern)", bunDir, []string{tools.bun, "x", "tern", "--version"}},
		{"deno (deno run npm:)", denoDir, []string{tools.deno, "run", "-A", "--min-dep-age=0", "npm:" + spec, "--version"}},
	}
	// The first run of each door, untimed: it verifies the binary and,
	// where safe, replaces the launcher.
	for _, d := range doors {
		if out := inDir(d.dir, env, d.argv[0], d.argv[1:]...); !strings.Contains(out, version) {
			fail("%s: %s printed %q", d.name, strings.Join(d.argv, " "), out)
		}
	}
	measure := make([]func() time.Duration, len(doors))
	for j, d := range doors {
		measure[j] = func() time.Duration {
			cmd := exec.Command(d.argv[0], d.argv[1:]...)
			cmd.Dir = d.dir
			cmd.Env = append(os.Environ(), env...)
			return timed(cmd)
		}
	}
	times := interleave(2, o.runs, measure...)
	native := median(times[0])
	fmt.Printf("\nnpm doors after install from a local verdaccio, tern --version (%s, medians of %d runs)\n", key, o.runs)
	for j, d := range doors {
		m := median(times[j])
		fmt.Printf("  %-34s %9.2f ms  %7.1f× native\n", d.name, ms(m), ratio(m, native))
	}
}

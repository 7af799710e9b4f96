//go:build unix

package release

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakePlatform makes Node report another platform and arch, so the
// launcher's diagnoses for other machines run here.
const fakePlatform = `
if (process.env.FAKE_PLATFORM) Object.defineProperty(process, 'platform', { value: process.env.FAKE_PLATFORM });
if (process.env.FAKE_ARCH) Object.defineProperty(process, 'arch', { value: process.env.FAKE_ARCH });
`

// installByHand installs the meta package and the named platform packages into a
// project's node_modules by hand, as npm would, and returns the launcher.
func installByHand(t *testing.T, release string, platforms ...string) (project, launcher string) {
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
	mods := filepath.Join(project, "node_modules", "@tern-agent")
	extract(filepath.Join(release, "tern-agent-cli-"+fixtureVersion+".tgz"), filepath.Join(mods, "cli"))
	for _, p := range platforms {
		extract(filepath.Join(release, "tern-agent-cli-"+p+"-"+fixtureVersion+".tgz"), filepath.Join(mods, "cli-"+p))
	}
	writeFile(t, filepath.Join(project, "fake-platform.js"), fakePlatform)
	return project, filepath.Join(mods, "cli", "bin", "tern.js")
}

// launch runs the launcher with node. Its first run may fetch a missing
// platform package: from nowhere (a closed port) unless env names a
// registry.
// selfLinked says whether the launcher at p is the sh launcher the first run
// puts in its place (lib/firstrun.js): a regular file, sh to the kernel and
// JavaScript to node, that execs the verified binary. It fails the test if p
// is anything else but the JS launcher.
func selfLinked(t *testing.T, p string) bool {
	t.Helper()
	st, err := os.Lstat(p)
	if err != nil || !st.Mode().IsRegular() {
		t.Fatalf("%s is not a regular file: %v", p, err)
	}
	head := readFile(t, p)
	switch {
	case strings.HasPrefix(head, "#!/bin/sh\n':' //; [ -x "):
		return true
	case strings.HasPrefix(head, "#!/usr/bin/env node\n"):
		return false
	}
	t.Fatalf("%s is neither the JS launcher nor the sh launcher:\n%.200s", p, head)
	return false
}

func launch(t *testing.T, project, launcher string, env []string, args ...string) cmdResult {
	t.Helper()
	env = append([]string{"npm_config_registry=http://127.0.0.1:1/"}, env...)
	return runEnv(t, project, env, "node", append([]string{"--require", filepath.Join(project, "fake-platform.js"), launcher}, args...)...)
}

func TestLauncherDiagnoses(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	release := mustRelease(t, newRepo(t), Options{Snapshot: true})

	t.Run("it runs the binary and passes the exit code", func(t *testing.T) {
		project, launcher := installByHand(t, release, "linux-x64")
		if r := launch(t, project, launcher, nil, "--version"); r.code != 0 || !strings.Contains(r.out, "version="+fixtureVersion) {
			t.Fatalf("exit %d: %s", r.code, r.out)
		}
		if r := launch(t, project, launcher, nil, "exit", "9"); r.code != 9 {
			t.Fatalf("exit 9 came back as %d", r.code)
		}
	})

	for _, tc := range []struct {
		name      string
		platforms []string
		env       []string
		edit      func(t *testing.T, project string)
		want      []string
	}{
		{"an unsupported platform", []string{"linux-x64"}, []string{"FAKE_PLATFORM=freebsd", "FAKE_ARCH=x64"}, nil,
			[]string{"has no native binary for freebsd on x64", "Supported platforms: darwin-arm64, darwin-x64, linux-arm64, linux-x64, win32-arm64, win32-x64"}},
		{"a package installed for another platform", []string{"darwin-arm64"}, nil, nil,
			[]string{"was installed for darwin-arm64, but this machine is linux-x64", "Docker or WSL", "delete node_modules"}},
		{"Rosetta", []string{"darwin-arm64"}, []string{"FAKE_PLATFORM=darwin", "FAKE_ARCH=x64"}, nil,
			[]string{"installed for darwin-arm64, but Node is running as darwin-x64", "Rosetta 2", "arm64 build of Node"}},
		{"a binary that is not executable", []string{"linux-x64"}, nil, func(t *testing.T, project string) {
			os.Chmod(filepath.Join(project, "node_modules", "@tern-agent", "cli-linux-x64", "bin", "tern"), 0o644)
		}, []string{"bin/tern is not executable", "chmod +x"}},
		{"a platform package of another version", []string{"linux-x64"}, nil, func(t *testing.T, project string) {
			p := filepath.Join(project, "node_modules", "@tern-agent", "cli-linux-x64", "package.json")
			writeFile(t, p, strings.Replace(readFile(t, p), fixtureVersion, "9.9.9", 1))
		}, []string{"@tern-agent/cli-linux-x64 is version 9.9.9, but @tern-agent/cli is " + fixtureVersion, "npm install @tern-agent/cli@" + fixtureVersion}},
		{"a missing platform package", nil, nil, nil,
			// The project fix reinstalls the meta package into the lockfile: adding the
			// Linux-only package to dependencies (the fix this said before) breaks every
			// other platform's install with EBADPLATFORM.
			[]string{"@tern-agent/cli-linux-x64 is not installed", "npm install @tern-agent/cli@" + fixtureVersion + " --package-lock-only --include=optional && npm install --include=optional",
				"could not fetch @tern-agent/cli-linux-x64@" + fixtureVersion + " itself"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			project, launcher := installByHand(t, release, tc.platforms...)
			if tc.edit != nil {
				tc.edit(t, project)
			}
			r := launch(t, project, launcher, tc.env, "--version")
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("the diagnosis lacks %q:\n%s", w, r.out)
				}
			}
		})
	}
}

func TestLauncherForwardsSignals(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	release := mustRelease(t, newRepo(t), Options{Snapshot: true})
	project, launcher := installByHand(t, release)
	script := filepath.Join(project, "child.sh")
	writeFile(t, script, "#!/bin/sh\ntrap 'echo got-term > \"$1/term\"; exit 5' TERM\ntouch \"$1/ready\"\nwhile :; do sleep 0.05; done\n")
	os.Chmod(script, 0o755)

	cmd := exec.Command("node", launcher, project)
	cmd.Env = append(os.Environ(), "TERN_BINARY_PATH="+script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(project, "ready")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child never started")
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 5 || readFile(t, filepath.Join(project, "term")) != "got-term\n" {
		t.Fatalf("SIGTERM must reach the child and its exit code come back: %v", err)
	}

	// A child killed by a signal: the launcher dies by the same signal.
	writeFile(t, script, "#!/bin/sh\nkill -HUP $$\n")
	cmd = exec.Command("node", launcher)
	cmd.Env = append(os.Environ(), "TERN_BINARY_PATH="+script)
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGHUP {
		t.Fatalf("the launcher must die by the child's SIGHUP: %v", err)
	}
}

// The sh launcher stays JavaScript wherever the install lies: JavaScript
// ends a // comment at U+2028 and U+2029 as at a newline, so a binary path
// holding one would let the rest of the sh line be read as code, and every
// run through node (pnpm's and Yarn's shims, the launcher's own fallback)
// would die of a SyntaxError.
func TestSelfLinkKeepsTheLauncherJavaScriptForAnyPath(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	release := mustRelease(t, newRepo(t), Options{Snapshot: true})
	for _, sep := range []string{"\u2028", "\u2029"} {
		project, _ := installByHand(t, release, "linux-x64")
		moved := filepath.Join(t.TempDir(), "a"+sep+"b")
		if err := os.Rename(project, moved); err != nil {
			t.Fatal(err)
		}
		launcher := filepath.Join(moved, "node_modules", "@tern-agent", "cli", "bin", "tern.js")
		bin := binLink(t, moved)
		if r := runEnv(t, moved, nil, bin, "--version"); r.code != 0 {
			t.Fatalf("the first run: exit %d\n%s", r.code, r.out)
		}
		selfLinked(t, launcher)
		if r := runEnv(t, moved, nil, "node", launcher, "--version"); r.code != 0 || !strings.Contains(r.out, "version="+fixtureVersion) {
			t.Errorf("node running the launcher under a path with %U: exit %d\n%s", []rune(sep)[0], r.code, r.out)
		}
	}
}

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// backend is a way to make tern pick one sandbox mechanism: the environment
// under which only that mechanism is usable.
type backend struct {
	name string
	env  func(t *testing.T) []string
}

func backends(t *testing.T) []backend {
	return []backend{
		{"bwrap", func(t *testing.T) []string {
			p, err := exec.LookPath("bwrap")
			if err != nil {
				t.Fatalf("bwrap is not installed; `make test` installs Debian's bubblewrap: %v", err)
			}
			return []string{"TERN_BWRAP=" + p}
		}},
		{"landlock", func(t *testing.T) []string {
			if abi, err := llsys.LandlockGetABIVersion(); err != nil || abi < 4 {
				t.Skipf("this kernel has no Landlock ABI 4 or newer (abi %d, %v); the fallback cannot run here", abi, err)
			}
			return []string{"PATH=" + pathWithout(t, "bwrap")}
		}},
	}
}

// pathWithout makes a PATH of one directory holding links to the usual
// tools, but not to the ones named. It lies outside /tmp, which bwrap hides.
func pathWithout(t *testing.T, missing ...string) string {
	t.Helper()
	dir := outsideDir(t)
	os.Chmod(dir, 0o755) // for the tests' unprivileged user too
	for _, tool := range []string{"sh", "bash", "touch", "cat", "sleep", "ls", "echo",
		"grep", "mount", "mknod", "dd", "git", "setsid", "rm", "mv", "true"} {
		if slices.Contains(missing, tool) {
			continue
		}
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is not installed: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// outsideDir is a directory outside the workspace and outside /tmp (which
// bwrap replaces with a private tmpfs, where writes would "succeed").
func outsideDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/var/tmp", "tern-outside-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestWorkspaceWrite(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			ws, outside, extra := t.TempDir(), outsideDir(t), outsideDir(t)

			r := tern(t, ws, env, "sandbox", "run", "--mode", "workspace-write", "--", "touch", "inside")
			if r.code != 0 || !exists(filepath.Join(ws, "inside")) {
				t.Fatalf("a write inside the workspace failed: exit %d, %s", r.code, r.stderr)
			}

			r = tern(t, ws, env, "sandbox", "run", "--mode", "workspace-write", "--", "touch", filepath.Join(outside, "f"))
			if r.code == 0 || exists(filepath.Join(outside, "f")) {
				t.Fatalf("a write outside the workspace succeeded: exit %d", r.code)
			}

			r = tern(t, ws, env, "sandbox", "run", "--mode", "workspace-write", "--writable", extra, "--", "touch", filepath.Join(extra, "f"))
			if r.code != 0 || !exists(filepath.Join(extra, "f")) {
				t.Fatalf("a write to a --writable dir failed: exit %d, %s", r.code, r.stderr)
			}

			r = tern(t, "/", env, "sandbox", "run", "--mode", "workspace-write", "--cwd", ws, "--", "touch", "via-cwd")
			if r.code != 0 || !exists(filepath.Join(ws, "via-cwd")) {
				t.Fatalf("--cwd did not make the workspace: exit %d, %s", r.code, r.stderr)
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			ws := t.TempDir()
			if err := os.WriteFile(filepath.Join(ws, "data"), []byte("readable\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := tern(t, ws, env, "sandbox", "run", "--mode", "read-only", "--", "sh", "-c",
				`cat data; touch "$TMPDIR/scratch" && echo tmp-writable; touch written`)
			if r.code == 0 || exists(filepath.Join(ws, "written")) {
				t.Fatalf("read-only mode let the workspace be written: exit %d", r.code)
			}
			if !strings.Contains(r.stdout, "readable") || !strings.Contains(r.stdout, "tmp-writable") {
				t.Fatalf("read-only mode must still read the workspace and write a private tmp; stdout %q, stderr %q", r.stdout, r.stderr)
			}
		})
	}
}

func TestNetwork(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	connect := fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d && echo connected", ln.Addr().(*net.TCPAddr).Port)

	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			r := tern(t, t.TempDir(), env, "sandbox", "run", "--mode", "read-only", "--", "bash", "-c", connect)
			if r.code == 0 || strings.Contains(r.stdout, "connected") {
				t.Fatalf("read-only mode reached a listener on 127.0.0.1: exit %d", r.code)
			}
			r = tern(t, t.TempDir(), env, "sandbox", "run", "--mode", "read-only", "--allow-network", "--", "bash", "-c", connect)
			if r.code != 0 || !strings.Contains(r.stdout, "connected") {
				t.Fatalf("--allow-network did not reach the listener: exit %d, %s", r.code, r.stderr)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			if r := tern(t, t.TempDir(), env, "sandbox", "run", "--", "sh", "-c", "exit 7"); r.code != 7 {
				t.Errorf("exit 7 came through as %d (%s)", r.code, r.stderr)
			}
			if r := tern(t, t.TempDir(), env, "sandbox", "run", "--", "sh", "-c", "kill -USR1 $$"); r.code != 128+int(syscall.SIGUSR1) {
				t.Errorf("death by SIGUSR1 came through as %d, want %d", r.code, 128+int(syscall.SIGUSR1))
			}
			r := tern(t, t.TempDir(), env, "sandbox", "run", "--", "no-such-command-xyz")
			if r.code != 127 || !strings.Contains(r.stderr, "no-such-command-xyz: command not found") {
				t.Errorf("a missing command: exit %d, %q; want 127 and a message", r.code, r.stderr)
			}
		})
	}
}

func TestStdioPassesThrough(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			cmd := exec.Command(ternBin, "sandbox", "run", "--", "sh", "-c", "cat; echo err >&2")
			cmd.Dir, cmd.Env = t.TempDir(), append(os.Environ(), b.env(t)...)
			cmd.Stdin = strings.NewReader("from stdin\n")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatal(err, stderr.String())
			}
			if stdout.String() != "from stdin\n" || stderr.String() != "err\n" {
				t.Fatalf("stdout %q, stderr %q", stdout.String(), stderr.String())
			}
		})
	}
}

// startSandboxed starts tern on a shell script that touches "ready" once it
// runs, and waits for that.
func startSandboxed(t *testing.T, env []string, script string) (*exec.Cmd, string) {
	t.Helper()
	ws := t.TempDir()
	cmd := exec.Command(ternBin, "sandbox", "run", "--", "sh", "-c", script)
	cmd.Dir, cmd.Env = ws, append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for !exists(filepath.Join(ws, "ready")) {
		if time.Now().After(deadline) {
			t.Fatalf("the sandboxed command never started: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, ws
}

func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	case <-time.After(20 * time.Second):
		t.Fatal("tern did not exit after the signal")
		return -1
	}
}

func TestSignalsReachTheCommand(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
				cmd, ws := startSandboxed(t, env, fmt.Sprintf(
					`trap 'touch got-%d; exit 3' %d; touch ready; while :; do sleep 0.05; done`, sig, sig))
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				if code := waitExit(t, cmd); code != 3 {
					t.Errorf("%v: tern exited %d, want the trap's 3", sig, code)
				}
				if !exists(filepath.Join(ws, fmt.Sprintf("got-%d", sig))) {
					t.Errorf("%v did not reach the sandboxed command", sig)
				}
			}
		})
	}
}

func TestSIGTERMEndsTheCommandWith143(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			// 601, not 600: a sleep no test in another package runs, since
			// the check below sees every process on the machine.
			cmd, ws := startSandboxed(t, b.env(t), `echo $$ > pid; touch ready; exec sleep 601`)
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if code := waitExit(t, cmd); code != 143 {
				t.Fatalf("tern exited %d after SIGTERM, want 143", code)
			}
			if out, err := exec.Command("pgrep", "-f", "sleep 601").Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
				t.Fatalf("the sandboxed sleep outlived tern: pids %s (workspace %s)", out, ws)
			}
		})
	}
}

func TestRefusesWithoutBwrapOrLandlock(t *testing.T) {
	path := pathWithout(t, "bwrap")
	for _, mode := range []string{"read-only", "workspace-write"} {
		r := withoutLandlock(t, t.TempDir(), []string{"PATH=" + path}, "sandbox", "run", "--mode", mode, "--", "touch", "x")
		if r.code != 125 {
			t.Fatalf("%s: exit %d, want 125; stderr %s", mode, r.code, r.stderr)
		}
		for _, want := range []string{
			"cannot sandbox a command in " + mode + " mode",
			"bwrap not found", "sudo apt-get install bubblewrap", "TERN_BWRAP",
			"landlock: not available in this kernel",
			"--sandbox danger-full-access",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s: the refusal lacks %q:\n%s", mode, want, r.stderr)
			}
		}
	}
	// The explicit escape hatch still works.
	ws := t.TempDir()
	r := withoutLandlock(t, ws, []string{"PATH=" + path}, "sandbox", "run", "--mode", "danger-full-access", "--", "touch", "x")
	if r.code != 0 || !exists(filepath.Join(ws, "x")) {
		t.Fatalf("danger-full-access: exit %d, %s", r.code, r.stderr)
	}
	// And doctor says what is wrong.
	d := withoutLandlock(t, ws, []string{"PATH=" + path}, "doctor")
	if d.code != 1 || !strings.Contains(d.stdout, "problem(s)") || !strings.Contains(d.stdout, "remedy: install bubblewrap") {
		t.Fatalf("doctor: exit %d\n%s", d.code, d.stdout)
	}
}

func TestBadTernBwrapIsAnError(t *testing.T) {
	r := tern(t, t.TempDir(), []string{"TERN_BWRAP=/nonexistent/bwrap"}, "sandbox", "run", "--", "true")
	if r.code != 125 || !strings.Contains(r.stderr, "TERN_BWRAP=/nonexistent/bwrap: no such file; point it at a bwrap binary or unset it") {
		t.Fatalf("exit %d, %s", r.code, r.stderr)
	}
}

// TestBundledHelperThroughSymlink installs tern the way the installers and
// npm do, a tree reached through a symlink, and checks that tern finds the
// bwrap shipped beside it and sandboxes with it.
func TestBundledHelperThroughSymlink(t *testing.T) {
	systemBwrap, err := exec.LookPath("bwrap")
	if err != nil {
		t.Fatalf("bwrap is not installed: %v", err)
	}
	root := filepath.Join(t.TempDir(), "versions", "1.2.3")
	copyFile(t, ternBin, filepath.Join(root, "bin", "tern"))
	bundled := filepath.Join(root, "libexec", "tern", "bwrap")
	copyFile(t, systemBwrap, bundled)
	link := filepath.Join(t.TempDir(), ".local", "bin", "tern")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "bin", "tern"), link); err != nil {
		t.Fatal(err)
	}

	r := runIn(t, t.TempDir(), link, nil, "doctor", "--json")
	var report struct {
		Helpers []struct {
			Path, Source, Version, SHA256 string
		}
		Sandbox struct {
			Backend  string
			TrialRun string `json:"trial_run"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, r.stdout)
	}
	if r.code != 0 || len(report.Helpers) != 1 || report.Helpers[0].Path != bundled || report.Helpers[0].Source != "bundled" {
		t.Fatalf("doctor through a symlink: exit %d, %+v", r.code, report)
	}
	if report.Helpers[0].Version == "" || len(report.Helpers[0].SHA256) != 64 || report.Sandbox.TrialRun != "ok" {
		t.Fatalf("doctor must report the helper's version and sha256 and a working trial: %+v", report)
	}

	r = runIn(t, t.TempDir(), link, []string{"TERN_BWRAP=" + systemBwrap}, "doctor", "--json")
	if !strings.Contains(r.stdout, `"source": "env"`) {
		t.Fatalf("TERN_BWRAP must win over the bundled helper:\n%s", r.stdout)
	}

	ws := t.TempDir()
	r = runIn(t, ws, link, []string{"PATH=" + pathWithout(t, "bwrap")}, "sandbox", "run", "--", "touch", "made")
	if r.code != 0 || !exists(filepath.Join(ws, "made")) {
		t.Fatalf("sandbox run with the bundled bwrap: exit %d, %s", r.code, r.stderr)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
}

// TestShippedHelperIsVerifiedBeforeExec installs a release-like tree whose
// tern was built with the digest of the bwrap beside it: the helper runs,
// and once one byte of it is flipped, tern refuses it.
func TestShippedHelperIsVerifiedBeforeExec(t *testing.T) {
	systemBwrap, err := exec.LookPath("bwrap")
	if err != nil {
		t.Fatalf("bwrap is not installed: %v", err)
	}
	root := filepath.Join(t.TempDir(), "tree")
	bundled := filepath.Join(root, "libexec", "tern", "bwrap")
	copyFile(t, systemBwrap, bundled)
	good, _ := os.ReadFile(bundled)
	sum := sha256.Sum256(good)
	tern := filepath.Join(root, "bin", "tern")
	if err := buildTern(tern, ";bwrap_sha256="+hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	noBwrap := []string{"PATH=" + pathWithout(t, "bwrap")}

	ws := t.TempDir()
	r := runIn(t, ws, tern, noBwrap, "sandbox", "run", "--", "sh", "-c", "touch made")
	if r.code != 0 || !exists(filepath.Join(ws, "made")) {
		t.Fatalf("the verified helper did not run: exit %d, %s", r.code, r.stderr)
	}
	d := runIn(t, ws, tern, noBwrap, "doctor", "--json")
	if d.code != 0 || !strings.Contains(d.stdout, `"digest_check": "matched the digest this build recorded"`) {
		t.Fatalf("doctor must say the digest matched: exit %d\n%s", d.code, d.stdout)
	}

	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0xff
	if err := os.WriteFile(bundled, flipped, 0o755); err != nil {
		t.Fatal(err)
	}
	r = runIn(t, ws, tern, noBwrap, "sandbox", "run", "--", "touch", "after-tamper")
	if r.code != 125 || exists(filepath.Join(ws, "after-tamper")) ||
		!strings.Contains(r.stderr, "has sha256") || !strings.Contains(r.stderr, "reinstall tern") {
		t.Fatalf("a tampered helper: exit %d, stderr %s", r.code, r.stderr)
	}
	d = runIn(t, ws, tern, noBwrap, "doctor")
	if d.code != 1 || !strings.Contains(d.stdout, "reinstall tern") {
		t.Fatalf("doctor with a tampered helper: exit %d\n%s", d.code, d.stdout)
	}
}

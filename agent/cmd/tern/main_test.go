// These tests build the real tern binary and drive it as a user would, with
// the real bubblewrap and, where the kernel has it, real Landlock.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const testVersion = "1.2.3-test.4"

var ternBin string // built once by TestMain

func TestMain(m *testing.M) {
	if argv := os.Getenv(envNoLandlockExec); argv != "" {
		execWithoutLandlock(argv)
	}
	dir, err := os.MkdirTemp("", "tern-e2e-")
	if err != nil {
		panic(err)
	}
	ternBin = filepath.Join(dir, "root", "bin", "tern")
	if runtime.GOOS == "windows" {
		ternBin += ".exe"
	}
	if err := buildTern(ternBin, ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildTern builds tern into out, stamped like a release with testVersion
// and the extra stamp fields (";bwrap_sha256=…").
func buildTern(out, extra string) error {
	pkg := "github.com/tern-agent/tern/agent/internal/buildinfo"
	stamp := "@(#)version=" + testVersion + ";commit=abc1234;date=2026-11-22T00:00:00Z" + extra
	build := exec.Command("go", "build", "-trimpath", "-o", out, "-ldflags", "-s -w -X '"+pkg+".stamp="+stamp+"'", ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building tern: %v\n%s", err, b)
	}
	return nil
}

type result struct {
	stdout, stderr string
	code           int
}

// tern runs the binary with env added to a minimal environment.
func tern(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runIn(t, dir, ternBin, env, args...)
}

func runIn(t *testing.T, dir, bin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH")}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running %s %v: %v", bin, args, err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

func TestVersionIsStamped(t *testing.T) {
	r := tern(t, "", nil, "--version")
	want := "tern " + testVersion + " (commit abc1234, built 2026-11-22T00:00:00Z, " + runtime.Version()
	if r.code != 0 || !strings.HasPrefix(r.stdout, want) {
		t.Fatalf("tern --version = %q (exit %d), want prefix %q", r.stdout, r.code, want)
	}
	if v := tern(t, "", nil, "version"); v.stdout != r.stdout {
		t.Fatalf("tern version = %q, tern --version = %q; want the same", v.stdout, r.stdout)
	}
	for _, args := range [][]string{{"version", "--json"}, {"--version", "--json"}} {
		r := tern(t, "", nil, args...)
		var info map[string]string
		if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
			t.Fatalf("tern %v: %v\n%s", args, err, r.stdout)
		}
		for k, v := range map[string]string{"version": testVersion, "commit": "abc1234", "date": "2026-11-22T00:00:00Z",
			"go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH} {
			if info[k] != v {
				t.Errorf("tern %v: %s = %q, want %q", args, k, info[k], v)
			}
		}
	}
}

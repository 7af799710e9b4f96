package verify

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/stamp"
)

// versionCheck checks a binary that carries no build stamp against
// release.yaml's version_check. The version must be a string of its own in
// its bytes (stamp.HoldsVersion), whatever the target; and a binary this
// machine can run (natively, or under qemu-user) is run with the check's
// arguments, and its output must state the version by the rule the
// installers apply.
//
// It runs a binary only when nothing else in the release is refused so far:
// the signature over SHA256SUMS verified and every digest agreed, so what
// runs is what was signed.
func (c *checker) versionCheck(a manifest.Artifact, t config.Target, version string, data []byte) {
	rule := c.opts.Config.VersionRule()
	if !stamp.HoldsVersion(data, version) {
		c.fail(a.Name, "binary does not hold its version %s anywhere, as a string of its own (Go's module information and runtime do not count): %s", version, stamp.VersionVarRemedy)
		return
	}
	runner, ok := runnerFor(t)
	if !ok || len(c.problems) > 0 {
		return
	}
	args := strings.Join(rule.Args, " ")
	how := args
	if len(runner) > 0 {
		how += " under " + filepath.Base(runner[0])
	}
	out, err := runVersion(runner, data, rule.Args)
	switch {
	case errors.Is(err, errTimeout):
		c.fail(a.Name, "binary could not be asked its version with %s: it did not exit within %s; set release.yaml's version_check.args to the arguments that make it print its version and exit", how, versionTimeout)
	case err != nil:
		c.fail(a.Name, "binary could not be asked its version with %s: %v; if it takes other arguments to print its version, set them in release.yaml's version_check.args", how, err)
	case !rule.Reports(out, version):
		c.fail(a.Name, "binary prints %q for %s, which does not state %q as release.yaml's version_check.contains asks: set version_check.args to the arguments that make it print its version, and version_check.contains to how it states it", firstLine(out), args, rule.Expect(version))
	}
}

// qemuArch is qemu-user's name for each GOARCH it emulates.
var qemuArch = map[string]string{
	"386": "i386", "amd64": "x86_64", "arm": "arm", "arm64": "aarch64", "riscv64": "riscv64",
	"ppc64le": "ppc64le", "ppc64": "ppc64", "s390x": "s390x", "loong64": "loongarch64",
}

// runnerFor is how this machine runs t's binary: directly (nil) when it is
// the host's, under qemu-user when t is another Linux architecture and
// qemu-<arch>-static (or qemu-<arch>) is installed; false when it cannot.
func runnerFor(t config.Target) ([]string, bool) {
	if t.GOOS != runtime.GOOS {
		return nil, false
	}
	if t.GOARCH == runtime.GOARCH {
		return nil, true
	}
	if t.GOOS != "linux" || qemuArch[t.GOARCH] == "" {
		return nil, false
	}
	for _, name := range []string{"qemu-" + qemuArch[t.GOARCH] + "-static", "qemu-" + qemuArch[t.GOARCH]} {
		if p, err := exec.LookPath(name); err == nil {
			return []string{p}, true
		}
	}
	return nil, false
}

// versionTimeout is how long a binary has to state its version,
// versionWaitDelay how long past its exit (or the timeout) a process it
// left behind may hold its output open, and versionOutputMax how much of
// its output is kept. Variables for the tests.
var (
	versionTimeout   = 30 * time.Second
	versionWaitDelay = 2 * time.Second
	versionOutputMax = 64 << 10
)

// errTimeout is a binary that did not exit within versionTimeout.
var errTimeout = errors.New("did not exit in time")

// runVersion writes the binary to a private directory and runs it there
// with args, no environment but PATH and HOME (and, on Windows,
// SYSTEMROOT, without which a Windows program cannot start), nothing on
// its input, and a time limit. It returns what it printed on stdout and
// stderr together, in the order it printed them, as the installers read
// it (2>&1): a binary that prints its version on stderr, or exits non-zero
// after printing it, states it to them, and so to verify. Only a binary
// that cannot be started, or does not exit in time, is an error.
func runVersion(runner []string, data []byte, args []string) (string, error) {
	dir, err := os.MkdirTemp("", "packager-verify-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "binary")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if err := os.WriteFile(bin, data, 0o700); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), versionTimeout)
	defer cancel()
	argv := append(append(append([]string{}, runner...), bin), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	if runtime.GOOS == "windows" {
		cmd.Env = append(cmd.Env, "SYSTEMROOT="+os.Getenv("SYSTEMROOT"))
	}
	// One writer for both, so the two streams interleave as a terminal
	// shows them; a child the binary leaves behind holding them open is
	// cut off this long after the binary exits or the time runs out.
	out := &cappedBuffer{max: versionOutputMax}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = versionWaitDelay
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return "", errTimeout
	case errors.Is(err, exec.ErrWaitDelay):
		return "", errors.New("exited, but left a process holding its output open, which the installers would wait on forever")
	case err != nil && !errors.As(err, &exit):
		return "", err
	}
	return string(out.buf), nil
}

// cappedBuffer keeps the first max bytes written to it and drops the rest,
// telling the writer all were written, so a binary that prints without end
// neither fills memory nor stops on a broken pipe before it exits.
type cappedBuffer struct {
	buf []byte
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

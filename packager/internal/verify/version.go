package verify

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/manifest"
)

// versionCheck checks a binary that carries no build stamp against
// release.yaml's version_check. The version's text must be in its bytes,
// whatever the target; and a binary this machine can run (natively, or
// under qemu-user) is run with the check's arguments, and its output must
// state the version by the rule the installers apply.
//
// It runs a binary only when nothing else in the release is refused so far:
// the signature over SHA256SUMS verified and every digest agreed, so what
// runs is what was signed.
func (c *checker) versionCheck(a manifest.Artifact, t config.Target, version string, data []byte) {
	rule := c.opts.Config.VersionRule()
	if !bytes.Contains(data, []byte(version)) {
		c.fail(a.Name, "binary does not hold its version %s anywhere: does the build set the variable --version prints (release.yaml's version_check)?", version)
		return
	}
	runner, ok := runnerFor(t)
	if !ok || len(c.problems) > 0 {
		return
	}
	out, err := runVersion(runner, data, rule.Args)
	switch {
	case err != nil:
		how := strings.Join(rule.Args, " ")
		if len(runner) > 0 {
			how += " under " + filepath.Base(runner[0])
		}
		c.fail(a.Name, "binary could not be asked its version with %s: %v", how, err)
	case !rule.Reports(out, version):
		c.fail(a.Name, "binary prints %q for %s, which does not state %q as release.yaml's version_check.contains asks", firstLine(out), strings.Join(rule.Args, " "), rule.Expect(version))
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

// runVersion writes the binary to a private directory and runs it there
// with args, no environment but PATH and HOME, and a time limit, and
// returns what it printed on stdout (as the installers read it).
func runVersion(runner []string, data []byte, args []string) (string, error) {
	dir, err := os.MkdirTemp("", "packager-verify-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "binary")
	if err := os.WriteFile(bin, data, 0o700); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append(append(append([]string{}, runner...), bin), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%v: %s", err, firstLine(stderr.String()))
	}
	return stdout.String(), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

package linuxpkg

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/helperbuild/helperbuildtest"
	"github.com/tern-agent/tern/packager/internal/layout"
)

// TestDebInstallRealTern installs the .deb of the real tern, stamped as a
// release stamps it, with the real bundled bwrap built from third_party/
// (and held to its lock), into this very system with dpkg, as a user does:
// tern --version prints the version, tern doctor finds bwrap bundled at
// /usr/libexec/tern/bwrap with the digest tern was stamped with, and tern
// sandbox run runs a command through it; then dpkg -r and --purge leave
// nothing. The product must be tern, so it never runs over a tern already
// installed here: it skips instead. No other test installs a package named
// tern (TestDebLintian and TestRPMQuerySignatureAndInstall build one but
// install it nowhere, or into a scratch root).
func TestDebInstallRealTern(t *testing.T) {
	needTool(t, "dpkg", "apt-get install dpkg")
	needRoot(t)
	if out, err := exec.Command("dpkg", "-s", "tern").CombinedOutput(); err == nil {
		t.Skipf("a package named tern is installed on this machine; this test installs and removes the real one, so it does not run over it:\n%s", out)
	}
	for _, p := range []string{"/usr/bin/tern", "/usr/libexec/tern", "/usr/share/doc/tern"} {
		if _, err := os.Lstat(p); err == nil {
			t.Skipf("%s exists on this machine, outside dpkg; this test installs the real tern there, so it does not run over it", p)
		}
	}

	f := newFixture(t, "tern", true)
	bwrap := filepath.Join(f.tree, filepath.FromSlash(layout.HelperPath(f.cfg, "bwrap")))
	start := time.Now()
	bwrapSum := buildBundledBwrap(t, bwrap)
	t.Logf("bwrap built from third_party/bubblewrap in %s", time.Since(start).Round(time.Millisecond))
	bin := filepath.Join(f.tree, filepath.FromSlash(layout.BinaryPath(f.cfg, f.target)))
	commit := strings.Repeat("0123456789", 4)
	buildStampedAgent(t, bin, "@(#)version="+testVersion+";commit="+commit+";date="+commitTime.Format(time.RFC3339)+";bwrap_sha256="+bwrapSum)
	debFile := f.build(t, layout.Deb, Keys{}, t.TempDir())
	lintianTheRealDeb(t, debFile)

	start = time.Now()
	dpkg(t, "-i", debFile)
	t.Logf("dpkg -i: %s", time.Since(start).Round(time.Millisecond))
	installed := true
	t.Cleanup(func() {
		if installed {
			exec.Command("dpkg", "--purge", "tern").Run()
		}
	})

	got := run(t, "/usr/bin/tern", "--version")
	t.Logf("tern --version: %s", strings.TrimSpace(got))
	if !strings.Contains(got, testVersion) {
		t.Errorf("tern --version printed %q, want the version %s", got, testVersion)
	}
	out, _ := exec.Command("/usr/bin/tern", "doctor", "--json").Output() // exits 1 on a problem; the report says which
	var doctor struct {
		Helpers []struct {
			Name, Path, Source, Version, SHA256 string
		} `json:"helpers"`
		Sandbox struct {
			Backend string `json:"backend"`
		} `json:"sandbox"`
	}
	if err := json.Unmarshal(out, &doctor); err != nil {
		t.Fatalf("tern doctor --json: %v\n%s", err, out)
	}
	found := false
	for _, h := range doctor.Helpers {
		if h.Name != "bwrap" {
			continue
		}
		found = true
		t.Logf("tern doctor: bwrap %s at %s (%s), sha256 %s; sandbox backend %s", h.Version, h.Path, h.Source, h.SHA256, doctor.Sandbox.Backend)
		if h.Path != "/usr/libexec/tern/bwrap" || h.Source != "bundled" {
			t.Errorf("tern found bwrap at %s (%s), want /usr/libexec/tern/bwrap (bundled)", h.Path, h.Source)
		}
		if h.SHA256 != bwrapSum {
			t.Errorf("tern doctor reports bwrap's sha256 %q, want the stamped %s", h.SHA256, bwrapSum)
		}
	}
	if !found {
		t.Errorf("tern doctor lists no bwrap:\n%s", out)
	}
	if doctor.Sandbox.Backend != "bwrap" {
		t.Errorf("tern doctor's sandbox backend is %q, want bwrap:\n%s", doctor.Sandbox.Backend, out)
	}

	// Through bwrap: the command runs, and the sandbox holds: the
	// workspace is writable in workspace-write mode and not in read-only.
	work := t.TempDir()
	sandboxRun := func(args ...string) (string, error) {
		cmd := exec.Command("tern", append([]string{"sandbox", "run", "--cd", work}, args...)...)
		cmd.Env = append(os.Environ(), "PATH=/usr/bin:/bin")
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := sandboxRun("--", "true"); err != nil {
		t.Fatalf("tern sandbox run -- true: %v\n%s", err, out)
	}
	if out, err := sandboxRun("--", "sh", "-c", "echo in > written"); err != nil {
		t.Errorf("tern sandbox run could not write its workspace: %v\n%s", err, out)
	} else if b, _ := os.ReadFile(filepath.Join(work, "written")); string(b) != "in\n" {
		t.Errorf("the workspace file holds %q, want \"in\\n\"", b)
	}
	roOut, err := sandboxRun("--sandbox", "read-only", "--", "sh", "-c", "echo x > refused")
	t.Logf("a read-only sandbox writing its workspace: %v\n%s", err, roOut)
	if err == nil {
		t.Errorf("a read-only sandbox let the command write its workspace:\n%s", roOut)
	}
	if _, err := os.Stat(filepath.Join(work, "refused")); !os.IsNotExist(err) {
		t.Errorf("a read-only sandbox wrote into the workspace (%v)", err)
	}

	dpkg(t, "-r", "tern")
	installed = false
	for _, gone := range []string{"/usr/bin/tern", "/usr/libexec/tern"} {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("%s is left after dpkg -r (%v)", gone, err)
		}
	}
	dpkg(t, "--purge", "tern")
	for _, gone := range []string{"/usr/bin/tern", "/usr/libexec/tern", "/usr/share/doc/tern", "/usr/share/tern", "/usr/share/man/man1/tern.1.gz", "/usr/share/lintian/overrides/tern"} {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("%s is left after dpkg --purge (%v)", gone, err)
		}
	}
	if out, err := exec.Command("dpkg", "-s", "tern").CombinedOutput(); err == nil {
		t.Errorf("dpkg -s tern still knows the package:\n%s", out)
	}
}

// buildBundledBwrap builds bwrap for linux-x64 from third_party/bubblewrap,
// as the release does (from the cached source, held to the lock), into
// path, and returns its sha256.
func buildBundledBwrap(t *testing.T, path string) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	data := helperbuildtest.Bwrap(t, root, "linux-x64")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// buildStampedAgent compiles the real agent as buildAgent does, with the
// stamp a release links into it.
func buildStampedAgent(t *testing.T, path, stamp string) {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath",
		"-ldflags", "-s -w -X 'github.com/tern-agent/tern/agent/internal/buildinfo.stamp="+stamp+"'",
		"-o", path, "./agent/cmd/tern")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the agent: %v\n%s", err, out)
	}
}

// lintianTheRealDeb runs lintian over the real tern's .deb, with the real,
// static bwrap its override is meant for, and accepts no error (E:) nor
// warning (W:); without lintian it says so and goes on.
func lintianTheRealDeb(t *testing.T, debFile string) {
	t.Helper()
	if _, err := exec.LookPath("lintian"); err != nil {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("lintian is required (TERN_TEST_REQUIRE_TOOLS=1): apt-get install lintian")
		}
		t.Log("lintian not installed (apt-get install lintian): the real .deb is not linted")
		return
	}
	start := time.Now()
	out, err := exec.Command("lintian", "--tag-display-limit", "0", debFile).CombinedOutput()
	t.Logf("lintian (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "W: ") {
			t.Errorf("lintian: %s", line)
		}
	}
	if err != nil && !strings.Contains(string(out), "E: ") {
		t.Fatalf("lintian failed: %v", err)
	}
}

package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/agent/internal/sandbox"
	"github.com/tern-agent/tern/agent/internal/testuser"
)

// envDoctorChild makes this test binary print tern doctor's report;
// envVersionChild makes it answer the trial run's `version` as tern does.
const (
	envDoctorChild  = "TERN_TEST_DOCTOR_CHILD"
	envVersionChild = "TERN_TEST_DOCTOR_VERSION"
)

func TestMain(m *testing.M) {
	sandbox.RunIfLandlockChild()
	if os.Getenv(envVersionChild) != "" && len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println("tern (doctor test)")
		os.Exit(0)
	}
	if os.Getenv(envDoctorChild) != "" {
		os.Unsetenv(envDoctorChild)
		r := Run(context.Background())
		r.WriteText(os.Stdout)
		json.NewEncoder(os.Stdout).Encode(r)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// In a container that forbids namespaces (here an outer bwrap without
// capabilities or further user namespaces), doctor reports that bwrap was
// found but cannot start, that Landlock stands in, and that the trial run
// under Landlock passed. As root and as a throw-away user.
func TestDoctorReportsTheLandlockFallback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs tern doctor as root and as a throw-away user, which only root can make")
	}
	if abi, _ := sandbox.LandlockABI(); abi < 4 {
		t.Skipf("this kernel has no Landlock ABI 4 (abi %d): no fallback to report", abi)
	}
	bwrap, err := exec.LookPath("bwrap")
	if err != nil {
		t.Fatalf("bwrap is not installed; `make test` installs Debian's bubblewrap: %v", err)
	}
	dir, err := os.MkdirTemp("/var/tmp", "tern-doctor-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "tern")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"root", "user"} {
		t.Run(who, func(t *testing.T) {
			cmd := exec.Command(bwrap, "--unshare-user", "--disable-userns", "--cap-drop", "ALL", "--dev-bind", "/", "/", "--", exe)
			cmd.Dir = dir
			cmd.Env = []string{"PATH=/usr/bin:/bin", "TERN_BWRAP=" + bwrap, envDoctorChild + "=1", envVersionChild + "=1"}
			if who == "user" {
				testuser.Create(t).RunAs(cmd)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("tern doctor: %v\n%s%s", err, out, stderr.String())
			}
			text, rawJSON, _ := strings.Cut(string(out), "\n{")
			var r Report
			if err := json.Unmarshal([]byte("{"+rawJSON), &r); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if r.Sandbox.Backend != sandbox.Landlock || r.Sandbox.TrialRun != "ok" {
				t.Errorf("backend %q, trial run %q; want landlock, ok\n%s%s", r.Sandbox.Backend, r.Sandbox.TrialRun, text, stderr.String())
			}
			for _, s := range []string{r.Sandbox.Fallback, r.Sandbox.Host.BwrapStartErr} {
				if !strings.Contains(s, "failed to start a trivial sandbox: bwrap: Creating new namespace failed") {
					t.Errorf("the report says %q, want why bwrap cannot start", s)
				}
			}
			if !strings.Contains(text, "not used: "+bwrap+" failed to start a trivial sandbox") || !strings.Contains(text, "Landlock stands in (remedy: in a container") {
				t.Errorf("doctor's text does not report the fallback:\n%s", text)
			}
		})
	}
}

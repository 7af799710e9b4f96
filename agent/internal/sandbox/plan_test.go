package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tern-agent/tern/agent/internal/helperbin"
)

var systemBwrap = &helperbin.Helper{Name: "bwrap", Path: "/usr/bin/bwrap", Source: helperbin.FromPath}

func TestPlanLinux(t *testing.T) {
	restricted := Check{Detail: "denied", Setting: sysctlAppArmorUserNS, Remedy: "sysctl"}
	for _, tc := range []struct {
		name         string
		host         Host
		policy       Policy
		want         Backend
		wantInErrors []string
	}{
		{"bwrap with user namespaces",
			Host{OS: "linux", Bwrap: systemBwrap, UserNS: Check{OK: true}, LandlockABI: 6},
			Policy{Mode: WorkspaceWrite}, Bubblewrap, nil},
		{"no bwrap falls back to landlock",
			Host{OS: "linux", BwrapErr: "bwrap not found", UserNS: Check{OK: true}, LandlockABI: 4},
			Policy{Mode: ReadOnly}, Landlock, nil},
		{"AppArmor restriction falls back to landlock",
			Host{OS: "linux", Bwrap: systemBwrap, UserNS: restricted, LandlockABI: 5},
			Policy{Mode: WorkspaceWrite}, Landlock, nil},
		{"a bwrap that cannot start falls back to landlock",
			Host{OS: "linux", Bwrap: systemBwrap, UserNS: Check{OK: true}, BwrapStartErr: "/usr/bin/bwrap failed to start a trivial sandbox: bwrap: Creating new namespace failed: Operation not permitted", LandlockABI: 6},
			Policy{Mode: WorkspaceWrite}, Landlock, nil},
		{"old landlock is enough when the network is allowed",
			Host{OS: "linux", BwrapErr: "bwrap not found", LandlockABI: 3},
			Policy{Mode: ReadOnly, AllowNetwork: true}, Landlock, nil},
		{"old landlock cannot cut the network",
			Host{OS: "linux", BwrapErr: "bwrap not found", LandlockABI: 3},
			Policy{Mode: ReadOnly}, "",
			[]string{"Landlock ABI 3 cannot deny network access", "--allow-network", "apt-get install bubblewrap"}},
		{"neither bwrap nor landlock",
			Host{OS: "linux", BwrapErr: "bwrap not found", LandlockErr: "not available in this kernel"},
			Policy{Mode: WorkspaceWrite}, "",
			[]string{"cannot sandbox a command in workspace-write mode", "bwrap not found", "apt-get install bubblewrap", helperbin.EnvBwrap, "not available in this kernel", "--mode danger-full-access"}},
		{"AppArmor restriction and no landlock names the setting",
			Host{OS: "linux", Bwrap: systemBwrap, UserNS: restricted, LandlockErr: "not available"},
			Policy{Mode: ReadOnly}, "",
			[]string{sysctlAppArmorUserNS, "remedy: sysctl", "--mode danger-full-access"}},
		{"a bwrap that cannot start and no landlock is refused, naming both",
			Host{OS: "linux", Bwrap: systemBwrap, UserNS: Check{OK: true}, BwrapStartErr: "/usr/bin/bwrap failed to start a trivial sandbox: fork/exec /proc/self/fd/3: permission denied", LandlockErr: "not available in this kernel"},
			Policy{Mode: WorkspaceWrite}, "",
			[]string{"cannot sandbox a command in workspace-write mode", "bwrap: /usr/bin/bwrap failed to start a trivial sandbox: fork/exec /proc/self/fd/3: permission denied",
				"--cap-add SYS_ADMIN", "not mounted noexec", "not available in this kernel", "--mode danger-full-access"}},
		{"a bad TERN_BWRAP never falls back",
			Host{OS: "linux", BwrapErr: "TERN_BWRAP=/x: no such file", BwrapConfigErr: true, LandlockABI: 6},
			Policy{Mode: ReadOnly}, "",
			[]string{"TERN_BWRAP=/x"}},
		{"danger-full-access needs nothing",
			Host{OS: "linux", BwrapErr: "bwrap not found"},
			Policy{Mode: DangerFullAccess}, NoSandbox, nil},
		{"windows refuses sandboxed modes",
			Host{OS: "windows"}, Policy{Mode: ReadOnly}, "",
			[]string{"no sandbox for Windows", "--mode danger-full-access"}},
		{"windows runs danger-full-access",
			Host{OS: "windows"}, Policy{Mode: DangerFullAccess}, NoSandbox, nil},
		{"macOS uses sandbox-exec",
			Host{OS: "darwin", SandboxExec: "/usr/bin/sandbox-exec"}, Policy{Mode: WorkspaceWrite}, SandboxExec, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := tc.host.Plan(tc.policy)
			if tc.wantInErrors == nil {
				if err != nil {
					t.Fatalf("Plan: %v", err)
				}
				if plan.Backend != tc.want {
					t.Fatalf("backend = %q, want %q", plan.Backend, tc.want)
				}
				// Landlock standing in for a bwrap that was found says why,
				// for the one warning Run prints.
				if why := tc.host.bwrapUnusable(); plan.Fallback != why || (plan.Backend == Landlock && tc.host.Bwrap != nil && why == "") {
					t.Errorf("fallback = %q, want %q", plan.Fallback, why)
				}
				return
			}
			var ue *UnavailableError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want *UnavailableError", err)
			}
			for _, s := range tc.wantInErrors {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q:\n%s", s, err)
				}
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range Modes {
		if got, err := ParseMode(string(m)); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %q, %v", m, got, err)
		}
	}
	if _, err := ParseMode("full"); err == nil || !strings.Contains(err.Error(), "read-only, workspace-write, danger-full-access") {
		t.Errorf("ParseMode(full) error = %v, want the list of modes", err)
	}
}

// What each plan enforces, as tern doctor reports it: above all, whether
// .git stays read-only, which Landlock can do only with a mount namespace.
func TestProtections(t *testing.T) {
	restricted := Check{Detail: "denied", Setting: sysctlAppArmorUserNS}
	ws := Policy{Mode: WorkspaceWrite}
	for _, tc := range []struct {
		name      string
		host      Host
		policy    Policy
		unenforce []string // the protections reported as not enforced
		detail    map[string]string
	}{
		{"bwrap", Host{OS: "linux", Bwrap: systemBwrap, UserNS: Check{OK: true}, LandlockABI: 7}, ws, nil,
			map[string]string{ProtectNetwork: "own network namespace", ProtectCapabilities: "all dropped, even for root"}},
		{"landlock with user namespaces", Host{OS: "linux", BwrapErr: "bwrap not found", UserNS: Check{OK: true}, LandlockABI: 7}, ws, nil,
			map[string]string{ProtectPaths: "in a mount namespace", ProtectNetwork: "Landlock denies TCP"}},
		{"landlock under the AppArmor restriction", Host{OS: "linux", Bwrap: systemBwrap, UserNS: restricted, LandlockABI: 7}, ws,
			[]string{ProtectPaths}, map[string]string{ProtectPaths: ".git and .hg are writable"}},
		{"landlock read-only needs no mounts", Host{OS: "linux", BwrapErr: "x", UserNS: restricted, LandlockABI: 5}, Policy{Mode: ReadOnly}, nil,
			map[string]string{ProtectPaths: "everything is read-only", ProtectProcesses: "ABI 5: the command can still signal it"}},
		{"macOS", Host{OS: "darwin", SandboxExec: "/usr/bin/sandbox-exec"}, ws, []string{ProtectProcesses},
			map[string]string{ProtectPaths: "denied by the profile"}},
		{"no sandbox", Host{OS: "linux"}, Policy{Mode: DangerFullAccess}, []string{"sandbox"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := tc.host.Plan(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			var unenforced []string
			for _, p := range plan.Protections(tc.policy) {
				if !p.Enforced {
					unenforced = append(unenforced, p.Name)
				}
				if want, ok := tc.detail[p.Name]; ok && !strings.Contains(p.Detail, want) {
					t.Errorf("%s: %q lacks %q", p.Name, p.Detail, want)
				}
			}
			if strings.Join(unenforced, ",") != strings.Join(tc.unenforce, ",") {
				t.Errorf("not enforced: %v, want %v", unenforced, tc.unenforce)
			}
		})
	}
}

// Nested repositories are found, the directories above them pinned, and a
// .git that is a symlink is named as one the sandbox cannot hold in place.
func TestFindProtected(t *testing.T) {
	ws := t.TempDir()
	for _, d := range []string{".git", "vendor/lib/.git", "a/b/c/d/e/f/g/.git", "node_modules/x/.git", "elsewhere"} {
		if err := os.MkdirAll(filepath.Join(ws, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(ws, "elsewhere"), filepath.Join(ws, "vendor", ".hg")); err != nil {
		t.Fatal(err)
	}
	p, err := NewPolicy(WorkspaceWrite, ws, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	ws = p.Workspace
	want := []string{filepath.Join(ws, ".git"), filepath.Join(ws, "elsewhere"), filepath.Join(ws, "vendor/lib/.git")}
	got := append([]string(nil), p.Protected...)
	slices.Sort(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("protected = %v, want %v (not below node_modules, nor deeper than %d)", got, want, protectDepth)
	}
	if pins := strings.Join(p.Pinned, " "); pins != filepath.Join(ws, "vendor")+" "+filepath.Join(ws, "vendor/lib") {
		t.Errorf("pinned = %q", pins)
	}
	if len(p.LinkedProtected) != 1 || p.LinkedProtected[0] != filepath.Join(ws, "vendor", ".hg") {
		t.Errorf("linked = %v", p.LinkedProtected)
	}
}

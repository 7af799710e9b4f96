package cli

import (
	"strings"
	"testing"

	"github.com/tern-agent/tern/agent/internal/sandbox"
)

// oldLinux is a host without bwrap whose Landlock (ABI 3, before Linux 6.7)
// cannot deny network access.
func oldLinux() sandbox.Host {
	return sandbox.Host{OS: "linux", BwrapErr: "bwrap not found on PATH", LandlockABI: 3}
}

// TestUnavailableSandboxNamesThisCommandsFlags: when no mechanism can
// enforce the mode, every command exits 125 (the table's sandbox failure)
// and its remedies name only flags that command has: exec and mcp have no
// --allow-network, and none of them shows --mode.
func TestUnavailableSandboxNamesThisCommandsFlags(t *testing.T) {
	isolate(t, "")
	t.Setenv("OPENAI_API_KEY", "k")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1")
	saved := probe
	probe = oldLinux
	defer func() { probe = saved }()
	ws := t.TempDir()
	for _, c := range []struct {
		args          []string
		want, wantNot []string
	}{
		{[]string{"exec", "--cd", ws, "task"},
			[]string{"use Linux 6.7 or newer", "--sandbox danger-full-access", "The default sandbox cannot run here"},
			[]string{"--allow-network", "--mode"}},
		{[]string{"exec", "--sandbox", "read-only", "--cd", ws, "task"},
			[]string{"cannot sandbox a command in read-only mode", "use Linux 6.7 or newer", "--sandbox danger-full-access"},
			[]string{"--allow-network", "--mode", "The default sandbox"}},
		{[]string{"mcp", "--cd", ws},
			[]string{"use Linux 6.7 or newer", "--sandbox danger-full-access"},
			[]string{"--allow-network", "--mode"}},
		// sandbox run has --allow-network, so its remedy may say so.
		{[]string{"sandbox", "run", "--sandbox", "read-only", "--cd", ws, "--", "true"},
			[]string{"pass --allow-network", "--sandbox danger-full-access"},
			[]string{"--mode"}},
	} {
		code, _, stderr := run(t, c.args...)
		if code != 125 {
			t.Errorf("tern %q: exit %d, want 125; stderr %s", c.args, code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("tern %q: stderr lacks %q:\n%s", c.args, w, stderr)
			}
		}
		for _, w := range c.wantNot {
			if strings.Contains(stderr, w) {
				t.Errorf("tern %q: stderr names %q:\n%s", c.args, w, stderr)
			}
		}
	}
}

// TestSetupGivesOnePolicyToAll: the one helper makes the policy, the plan
// and the tools alike for every command.
func TestSetupGivesOnePolicyToAll(t *testing.T) {
	ws := t.TempDir()
	sb, err := sandboxOptions{mode: "danger-full-access", cd: ws}.setup("read-only", "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if sb.Policy.Mode != sandbox.DangerFullAccess || sb.Plan.Backend != sandbox.NoSandbox {
		t.Errorf("the flag should win over the file: %+v %+v", sb.Policy, sb.Plan)
	}
	set := sb.tools([]string{"A=1"})
	if set.Workspace != sb.Policy.Workspace || set.Policy.Mode != sb.Policy.Mode || set.Plan.Backend != sb.Plan.Backend || len(set.Env) != 1 {
		t.Errorf("tools %+v", set)
	}
	saved := probe
	probe = func() sandbox.Host { return sandbox.Host{OS: "linux", LandlockABI: 5} }
	defer func() { probe = saved }()
	sb, err = sandboxOptions{cd: ws}.setup("read-only", "config.json")
	if err != nil || sb.Policy.Mode != sandbox.ReadOnly || sb.Plan.Backend != sandbox.Landlock {
		t.Errorf("the file's mode should apply without a flag: %+v %+v %v", sb.Policy, sb.Plan, err)
	}
}

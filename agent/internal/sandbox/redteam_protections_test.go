package sandbox

// Red team: what tern doctor says the Landlock fallback enforces must be
// what it enforces. Without bwrap's PID namespace a command lists every
// process on the host and reads their command lines (found with
// /proc/*/cmdline under the fallback, as root and as a user); doctor said
// nothing of it.

import (
	"strings"
	"testing"
)

func TestRedteamDoctorSaysLandlockShowsTheHostsProcesses(t *testing.T) {
	p := Policy{Mode: WorkspaceWrite, Workspace: "/ws"}
	for _, pr := range (Plan{Backend: Landlock, LandlockABI: 6, MountNS: true}).Protections(p) {
		if pr.Name == ProtectProcesses && !strings.Contains(pr.Detail, "sees the host's processes") {
			t.Errorf("the Landlock plan's processes line hides that the command sees the host's processes: %q", pr.Detail)
		}
	}
}

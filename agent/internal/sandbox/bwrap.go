package sandbox

import (
	"path/filepath"
	"strconv"
	"strings"
)

// bwrapArgs builds the bwrap command line that enforces p, for argv. The
// sandbox sees the host's filesystem read-only, with its own /dev, /proc (in a
// new PID namespace) and an empty /tmp; workspace-write binds the writable
// roots back read-write. bwrap writes the sandbox's PID to infoFD.
func bwrapArgs(p Policy, infoFD int, argv []string) []string {
	args := []string{
		"--die-with-parent", // the command dies with bwrap, which dies with tern
		"--new-session",     // no controlling terminal: no TIOCSTI injection
		"--unshare-pid",
		"--unshare-ipc",
		"--ro-bind", "/", "/",
		"--dev", "/dev",
		"--proc", "/proc",
		"--tmpfs", "/tmp",
		"--setenv", "TMPDIR", "/tmp",
	}
	if !p.AllowNetwork {
		args = append(args, "--unshare-net")
	}
	if p.Mode == WorkspaceWrite {
		for _, root := range p.WritableRoots() {
			args = append(args, "--bind", root, root)
		}
	} else if hiddenByMounts(p.Workspace) {
		// A workspace under /tmp would vanish behind the private tmpfs.
		args = append(args, "--ro-bind", p.Workspace, p.Workspace)
	}
	args = append(args,
		"--chdir", p.Workspace,
		"--info-fd", strconv.Itoa(infoFD),
		"--")
	return append(args, argv...)
}

// hiddenByMounts reports whether dir lies under a mount that bwrapArgs
// replaces with a fresh one.
func hiddenByMounts(dir string) bool {
	for _, m := range []string{"/tmp", "/dev", "/proc"} {
		if dir == m || strings.HasPrefix(dir, m+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

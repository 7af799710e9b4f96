package sandbox

import (
	"path/filepath"
	"strconv"
	"strings"
)

// bwrapSetup is what bwrapArgs needs besides the policy: the descriptors
// bwrap inherits.
type bwrapSetup struct {
	InfoFD    int // bwrap writes the sandbox's PID here
	SeccompFD int // the seccomp filter bwrap loads; 0: none
}

// bwrapArgs builds the bwrap command line that enforces p, for argv. The
// sandbox sees the host's filesystem read-only, with its own /dev, /proc (in a
// new PID namespace) and an empty /tmp; workspace-write binds the writable
// roots back read-write, and then the protected paths in them read-only.
//
// The command runs with no capabilities, whoever runs tern: bwrap started by
// root keeps every capability for the command unless told otherwise, and
// with them the command could remount / read-write, make device nodes or
// push keystrokes into a terminal.
func bwrapArgs(p Policy, s bwrapSetup, argv []string) []string {
	args := []string{
		"--die-with-parent", // the command dies with bwrap, which dies with tern
		"--new-session",     // no controlling terminal: no TIOCSTI injection
		"--cap-drop", "ALL",
		"--unshare-pid",
		"--unshare-ipc",
		"--ro-bind", "/", "/",
		"--dev", "/dev",
		"--proc", "/proc",
	}
	if !p.AllowNetwork {
		// /run holds the sockets of the user's session (ssh-agent, D-Bus,
		// Docker); with the network off they are hidden as well as refused.
		args = append(args, "--tmpfs", "/run")
	}
	args = append(args,
		"--tmpfs", "/tmp",
		"--setenv", "TMPDIR", "/tmp",
	)
	if !p.AllowNetwork {
		args = append(args, "--unshare-net")
	}
	if p.Mode == WorkspaceWrite {
		for _, root := range p.WritableRoots() {
			args = append(args, "--bind", root, root)
		}
		// -try: a path gone since the policy was made is no error.
		for _, dir := range p.Pinned {
			args = append(args, "--bind-try", dir, dir)
		}
		for _, path := range p.Protected {
			args = append(args, "--ro-bind-try", path, path)
		}
	} else if hiddenByMounts(p.Workspace, p.AllowNetwork) {
		// A workspace under /tmp would vanish behind the private tmpfs.
		args = append(args, "--ro-bind", p.Workspace, p.Workspace)
	}
	if s.SeccompFD > 0 {
		args = append(args, "--seccomp", strconv.Itoa(s.SeccompFD))
	}
	args = append(args,
		"--chdir", p.Workspace,
		"--info-fd", strconv.Itoa(s.InfoFD),
		"--")
	return append(args, argv...)
}

// hiddenByMounts reports whether dir lies under a mount that bwrapArgs
// replaces with a fresh one.
func hiddenByMounts(dir string, allowNetwork bool) bool {
	mounts := []string{"/tmp", "/dev", "/proc"}
	if !allowNetwork {
		mounts = append(mounts, "/run")
	}
	for _, m := range mounts {
		if dir == m || strings.HasPrefix(dir, m+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

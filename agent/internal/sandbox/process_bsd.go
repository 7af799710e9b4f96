//go:build unix && !linux

package sandbox

import "syscall"

// sessionAttr starts a child in a new session. macOS and the BSDs have no parent-death
// signal; supervise kills the group when tern's context ends.
func sessionAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true}
}

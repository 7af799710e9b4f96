package sandbox

import "syscall"

// sessionAttr starts a child in a new session, killed if tern dies.
func sessionAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

//go:build !linux && !windows

package sandbox

import "syscall"

// SealInheritedFDs marks every descriptor above stderr that tern inherited
// close-on-exec, so that none reaches a sandboxed command (see the Linux
// version).
func SealInheritedFDs() {
	for fd := 3; fd < 4096; fd++ {
		syscall.CloseOnExec(fd) // harmless on a descriptor that is not open
	}
}

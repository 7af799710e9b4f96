package sandbox

import (
	"math"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// SealInheritedFDs marks every descriptor above stderr that tern inherited
// close-on-exec, so that none reaches a sandboxed command: a socket its
// parent left open would carry a command past "network off", a terminal
// or a pipe past its confinement. Only stdin, stdout and stderr, and the
// descriptors tern passes on purpose, reach a command. main calls it first.
func SealInheritedFDs() {
	if unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	// Before Linux 5.11: one at a time.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}

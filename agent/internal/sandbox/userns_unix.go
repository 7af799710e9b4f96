//go:build unix

package sandbox

import (
	"io/fs"
	"syscall"
)

func fileOwnerIsRoot(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && sys.Uid == 0
}

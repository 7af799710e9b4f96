//go:build !linux

package sandbox

// RunIfLandlockChild returns at once: Landlock exists only on Linux.
func RunIfLandlockChild() {}

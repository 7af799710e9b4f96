//go:build !linux

package tools

import "os"

// openedPath has no /proc to ask outside Linux: the caller judges the
// resolved name instead, which a directory swapped for a symlink at the
// right moment could defeat. (macOS is the only other system with a
// sandbox today.)
func openedPath(dir *os.Root) (string, error) { return "", nil }

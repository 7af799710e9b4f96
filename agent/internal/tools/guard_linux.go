package tools

import (
	"fmt"
	"os"
)

// openedPath is the path the kernel has for the directory dir is open on.
func openedPath(dir *os.Root) (string, error) {
	f, err := dir.Open(".")
	if err != nil {
		return "", err
	}
	defer f.Close()
	p, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		return "", fmt.Errorf("finding where a directory is: %w", err)
	}
	return p, nil
}

package tools

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tern-agent/tern/agent/internal/sandbox"
)

// apply_patch writes outside the sandbox, where the read-only mounts that
// keep .git (sandbox.ProtectedNames) from sandboxed commands do not apply:
// a command may plant `ln -s .git/hooks h` and the model then ask for
// `Add File: h/pre-commit`. So every directory tern writes in is checked
// once it is open, and the writes go through that open directory: the
// check names the directory the handle is, not a path that could change
// before the write.

// protectedPaths are the paths in the workspace that stay read-only.
func protectedPaths(workspace string) []string {
	return sandbox.ProtectedPaths([]string{workspace})
}

// refuseProtected fails when base in dir, or dir itself, lies in one of the
// protected paths, or anywhere in the workspace below a directory named
// like one (a repository nested deeper than ProtectedPaths looks, or made
// since). name is the file as the patch names it.
func refuseProtected(dir *os.Root, dirName, base, name, workspace string, protected []string) error {
	where, err := openedPath(dir)
	if err != nil {
		return err
	}
	if where == "" { // no kernel path here: judge the resolved name
		where = filepath.Join(realPath(workspace), dirName)
	}
	target := filepath.Join(where, base)
	for _, path := range []string{where, target} {
		if p, ok := sandbox.ProtectedBy(path, protected); ok {
			return protectedError(name, p)
		}
	}
	if rel, err := filepath.Rel(realPath(workspace), target); err == nil {
		for _, part := range strings.Split(rel, string(filepath.Separator)) {
			for _, n := range sandbox.ProtectedNames {
				if strings.EqualFold(part, n) {
					return protectedError(name, part)
				}
			}
		}
	}
	return nil
}

func protectedError(name, in string) error {
	return fmt.Errorf("%s is in %s, which stays read-only: tern does not change version-control metadata for the model; ask the user to run the git (or hg) command", name, in)
}

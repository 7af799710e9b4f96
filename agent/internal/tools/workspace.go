package tools

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Confinement. read_file, list_dir and apply_patch run in tern itself,
// outside the sandbox, while sandboxed commands can change the workspace
// under them: plant a symlink where tern is about to write, or swap a
// directory for a link between a check and a use. So no path is checked
// and then used. Every access goes through an os.Root opened on the
// workspace, and the kernel resolves each name beneath that directory
// (openat2 RESOLVE_BENEATH, or one O_NOFOLLOW component at a time): `..`
// and symlinks may not leave it, whatever they point at when the call
// runs.
//
// A symlink that stays inside the workspace is followed, as it is for
// the commands in the sandbox; an absolute symlink is refused even when it
// points inside (os.Root's rule). apply_patch writes the file such a link
// names and leaves the link in place.

// openWorkspace opens the workspace as the root of every access.
func openWorkspace(dir string) (*os.Root, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the workspace: %w", err)
	}
	return root, nil
}

// localName turns a path the model gave into a name relative to the
// workspace. An absolute path is accepted when it is spelled inside the
// workspace. This is only syntax: the kernel does the confining.
func localName(workspace, p string) (string, error) {
	if p == "" {
		p = "."
	}
	if filepath.IsAbs(p) {
		for _, dir := range []string{workspace, realPath(workspace)} {
			if rel, err := filepath.Rel(dir, filepath.Clean(p)); err == nil && filepath.IsLocal(rel) {
				return rel, nil
			}
		}
		return "", outsideError(workspace, p)
	}
	if !filepath.IsLocal(p) {
		return "", outsideError(workspace, p)
	}
	return filepath.Clean(p), nil
}

func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func outsideError(workspace, p string) error {
	return fmt.Errorf("%s is outside the workspace %s (through .., an absolute path or a symlink); tern reads and writes only inside it", p, workspace)
}

// explain turns os.Root's refusal into words for the model. os.Root
// returns an unexported error for it; its text is pinned by the tests
// (TestReadAndListStayInTheWorkspace).
func explain(workspace, p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err.Error() == "path escapes from parent" {
		return outsideError(workspace, p)
	}
	return err
}

// resolveLinks follows a symlink at name (not in its directories: the
// kernel does those) while it stays inside the workspace, so a patch
// writes the file a link names and keeps the link. A race can make it
// name another file than the one the link names by the time of the write,
// never one outside: every use of the result still goes through the root.
func resolveLinks(root *os.Root, workspace, name string) (string, error) {
	for range 40 {
		st, err := root.Lstat(name)
		if err != nil || st.Mode()&fs.ModeSymlink == 0 {
			return name, nil // a missing name, or an error the caller meets again
		}
		dest, err := root.Readlink(name)
		if err != nil {
			return "", explain(workspace, name, err)
		}
		next := filepath.Join(filepath.Dir(name), dest)
		if filepath.IsAbs(dest) || !filepath.IsLocal(next) {
			return "", outsideError(workspace, name)
		}
		name = next
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", name)
}

// openRegular opens a regular file for reading. O_NONBLOCK keeps a FIFO
// planted by a command from hanging tern at the open; it changes nothing
// for a regular file.
func openRegular(root *os.Root, workspace, name string) (*os.File, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, explain(workspace, name, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file (%s)", name, st.Mode().Type())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// createExclusive makes a new file beside name with a random suffix and
// O_CREATE|O_EXCL, so that nothing planted at a guessable name, link or
// file, is ever opened. It returns the new file's name.
func createExclusive(root *os.Root, name, suffix string, perm fs.FileMode) (*os.File, string, error) {
	base := filepath.Base(name)
	if len(base) > 180 { // room for the suffix within NAME_MAX
		base = base[:180]
	}
	for range 10 {
		tmp := filepath.Join(filepath.Dir(name), "."+base+"."+suffix+"-"+randomHex())
		f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, tmp, err
	}
	return nil, "", fmt.Errorf("could not make a temporary file beside %s", name)
}

func randomHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeNew writes data to a new file made by createExclusive and returns
// its name. perm is applied exactly (fchmod, past the umask) when exact.
func writeNew(root *os.Root, name, suffix, data string, perm fs.FileMode, exact bool) (string, error) {
	f, tmp, err := createExclusive(root, name, suffix, perm)
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(data)
	if err == nil && exact {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		root.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

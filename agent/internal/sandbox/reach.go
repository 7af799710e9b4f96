package sandbox

import (
	"os"

	"github.com/tern-agent/tern/agent/internal/helperbin"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
)

// Helpers tern finds on PATH (bwrap) run outside any sandbox: Probe asks
// for their version and starts them. One that a sandboxed command could
// have written, in a directory on PATH inside the workspace (an activated
// .venv/bin, node_modules/.bin under npm run, direnv's PATH_add), would run
// the model's code unsandboxed at tern's next start. So PATH lookups pass
// over the directories a sandboxed command may write.

// FindBwrap is helperbin.FindBwrap with PATH's bwrap taken only from
// outside the reach of a sandboxed command; passed lists those it passed
// over.
func FindBwrap() (b helperbin.Helper, passed []string, err error) {
	finder := helperbin.System
	finder.LookPath = lookPathOutside(sandboxWritable(), finder.LookPath, &passed)
	b, err = finder.FindBwrap()
	return b, passed, err
}

// writableRoots are the writable roots of every policy this process made.
var writableRoots struct {
	sync.Mutex
	dirs []string
}

// rememberWritable records p's writable roots for lookups made after it.
func rememberWritable(p Policy) {
	writableRoots.Lock()
	defer writableRoots.Unlock()
	for _, root := range p.WritableRoots() {
		if !slices.Contains(writableRoots.dirs, root) {
			writableRoots.dirs = append(writableRoots.dirs, root)
		}
	}
}

// sandboxWritable lists the directories a sandboxed command of this tern
// may write: the writable roots of its policies, and the current directory,
// the default workspace (tern doctor makes no policy for it).
func sandboxWritable() []string {
	writableRoots.Lock()
	dirs := slices.Clone(writableRoots.dirs)
	writableRoots.Unlock()
	if wd, err := os.Getwd(); err == nil {
		if real, err := filepath.EvalSymlinks(wd); err == nil && filepath.Dir(real) != real {
			dirs = append(dirs, real)
		}
	}
	return dirs
}

// inReach reports whether path, or the file it links to, lies in one of
// dirs.
func inReach(path string, dirs []string) bool {
	_, ok := reachingRoot(path, dirs)
	return ok
}

// reachingRoot returns the first of dirs (each with its symlinks resolved)
// that path lies in: as given, with its directory resolved (a link inside
// dirs can be replaced even where it points outside), or with every link
// resolved.
func reachingRoot(path string, dirs []string) (string, bool) {
	candidates := []string{path}
	if realDir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		candidates = append(candidates, filepath.Join(realDir, filepath.Base(path)))
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		candidates = append(candidates, real)
	}
	for _, c := range candidates {
		for _, dir := range dirs {
			if within(c, dir) {
				return dir, true
			}
		}
	}
	return "", false
}

// lookPathOutside wraps lookPath so that it passes over every program in
// dirs, taking the next one on PATH instead; passed collects those it
// passed over, for the message that says why none was found.
func lookPathOutside(dirs []string, lookPath func(string) (string, error), passed *[]string) func(string) (string, error) {
	return func(name string) (string, error) {
		p, err := lookPath(name)
		if err != nil || !inReach(p, dirs) {
			return p, err
		}
		*passed = append(*passed, p)
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			if !filepath.IsAbs(dir) {
				continue // relative entries name the workspace as often as not
			}
			c, err := exec.LookPath(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			if inReach(c, dirs) {
				if !slices.Contains(*passed, c) {
					*passed = append(*passed, c)
				}
				continue
			}
			return c, nil
		}
		return "", exec.ErrNotFound
	}
}

package sandbox

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// ProtectedNames are the entries of a writable root that stay read-only in
// workspace-write mode. Each holds configuration that runs code outside the
// sandbox the next time the user runs the tool: git hooks, core.fsmonitor,
// core.hooksPath, filters and aliases in .git; hooks in .hg/hgrc.
var ProtectedNames = []string{".git", ".hg"}

// ProtectedPaths lists what must stay read-only in the writable roots: each
// protected entry found in them, at any depth up to protectDepth (a
// vendored checkout has a .git of its own, and the user's git runs its
// hooks as readily), and for a .git file (a worktree or a submodule) the
// git directory it points at and that directory's common directory, where
// hooks and config live. Paths are resolved, because bwrap binds real
// paths, and the tools that write for the model outside the sandbox refuse
// to write there. A repository created by the command itself is not
// covered: it did not exist when the sandbox was set up. NewPolicy finds
// them once per policy.
func ProtectedPaths(roots []string) []string {
	paths, _ := findProtected(roots)
	return paths
}

// findProtected is ProtectedPaths, and also the protected entries that are
// symlinks: the sandbox binds what a link names, but cannot keep the link
// itself in place, so a command could swap it for a directory of its own.
func findProtected(roots []string) (paths, links []string) {
	add := func(p string) {
		real, err := filepath.EvalSymlinks(p)
		if err != nil || slices.Contains(paths, real) {
			return
		}
		paths = append(paths, real)
	}
	found := func(p string, st os.FileInfo) {
		if st.Mode()&os.ModeSymlink != 0 {
			links = append(links, p)
		}
		add(p)
		if filepath.Base(p) == ".git" && st.Mode().IsRegular() {
			if gitdir := readGitdirFile(p); gitdir != "" {
				add(gitdir)
				if common := readCommondir(gitdir); common != "" {
					add(common)
				}
			}
		}
	}
	budget := protectBudget
	for _, root := range roots {
		walkProtected(root, 0, &budget, found)
	}
	return paths, links
}

// pinnedDirs are the directories between each writable root and a
// protected path below it. The sandbox binds each onto itself: a mount
// point cannot be renamed or removed, so a command cannot move a nested
// repository aside and put a writable .git where the old one was.
func pinnedDirs(roots, protected []string) []string {
	var out []string
	for _, p := range protected {
		for _, root := range roots {
			if !within(p, root) || p == root {
				continue
			}
			var chain []string
			for a := filepath.Dir(p); a != root && within(a, root); a = filepath.Dir(a) {
				chain = append([]string{a}, chain...) // parents first
			}
			for _, a := range chain {
				if !slices.Contains(out, a) {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// ProtectedBy returns the protected path that path is, or lies below: what
// keeps the tools that write outside the sandbox out of the same places.
func ProtectedBy(path string, protected []string) (string, bool) {
	for _, p := range protected {
		if within(path, p) {
			return p, true
		}
	}
	return "", false
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}

// The search for protected entries is bounded, since it runs before the
// first command of a session: this deep, and this many directories read.
const (
	protectDepth  = 6
	protectBudget = 20000
)

// walkProtected calls found for each protected entry below dir. It does
// not follow links, nor descend into what it found or into node_modules,
// where packages ship no repositories worth the time.
func walkProtected(dir string, depth int, budget *int, found func(string, os.FileInfo)) {
	if *budget <= 0 {
		return
	}
	*budget--
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if slices.Contains(ProtectedNames, e.Name()) {
			if st, err := os.Lstat(p); err == nil {
				found(p, st)
			}
			continue
		}
		if e.IsDir() && depth < protectDepth && e.Name() != "node_modules" {
			walkProtected(p, depth+1, budget, found)
		}
	}
}

// readGitdirFile reads the "gitdir: PATH" line of a .git file; a relative
// PATH is relative to the file's directory.
func readGitdirFile(p string) string {
	b := readSmallFile(p)
	if b == nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if dir, ok := strings.CutPrefix(sc.Text(), "gitdir:"); ok {
			dir = strings.TrimSpace(dir)
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(filepath.Dir(p), dir)
			}
			return filepath.Clean(dir)
		}
	}
	return ""
}

// readCommondir reads a linked worktree's commondir file, which names the
// main repository's git directory.
func readCommondir(gitdir string) string {
	dir := strings.TrimSpace(string(readSmallFile(filepath.Join(gitdir, "commondir"))))
	if dir == "" {
		return ""
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(gitdir, dir)
	}
	return filepath.Clean(dir)
}

// gitFileLimit is more than any .git or commondir file holds.
const gitFileLimit = 4096

// readSmallFile reads the start of a regular file, or returns nil. The
// files it reads lie in the workspace, which a sandboxed command wrote:
// one that is a FIFO, or a link to /dev/zero, must not hang tern's next
// start or fill its memory.
func readSmallFile(p string) []byte {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(f, gitFileLimit))
	if err != nil {
		return nil
	}
	return b
}

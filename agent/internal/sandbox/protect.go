package sandbox

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ProtectedNames are the entries of a writable root that stay read-only in
// workspace-write mode. Each holds configuration that runs code outside the
// sandbox the next time the user runs the tool: git hooks, core.fsmonitor,
// core.hooksPath, filters and aliases in .git; hooks in .hg/hgrc.
var ProtectedNames = []string{".git", ".hg"}

// ProtectedPaths lists what must stay read-only in the writable roots: each
// protected entry that exists, and for a .git file (a worktree or a
// submodule) the git directory it points at and that directory's common
// directory, where hooks and config live. Paths are resolved, because bwrap
// binds real paths, and the tools that write for the model outside the
// sandbox refuse to write there. A repository created by the command itself
// is not covered: it did not exist when the sandbox was set up.
func ProtectedPaths(roots []string) []string {
	var out []string
	add := func(p string) {
		real, err := filepath.EvalSymlinks(p)
		if err != nil || slices.Contains(out, real) {
			return
		}
		out = append(out, real)
	}
	for _, root := range roots {
		for _, name := range ProtectedNames {
			p := filepath.Join(root, name)
			st, err := os.Lstat(p)
			if err != nil {
				continue
			}
			add(p)
			if name == ".git" && st.Mode().IsRegular() {
				if gitdir := readGitdirFile(p); gitdir != "" {
					add(gitdir)
					if common := readCommondir(gitdir); common != "" {
						add(common)
					}
				}
			}
		}
	}
	return out
}

// readGitdirFile reads the "gitdir: PATH" line of a .git file; a relative
// PATH is relative to the file's directory.
func readGitdirFile(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
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
	b, err := os.ReadFile(filepath.Join(gitdir, "commondir"))
	if err != nil {
		return ""
	}
	dir := strings.TrimSpace(string(b))
	if dir == "" {
		return ""
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(gitdir, dir)
	}
	return filepath.Clean(dir)
}

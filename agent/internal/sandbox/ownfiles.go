package sandbox

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tern-agent/tern/agent/internal/helperbin"
)

// tern itself runs outside any sandbox. Installed where its own sandboxed
// commands may write (a project-local npm install, whose node_modules lies
// in the workspace; a GOBIN inside it), its executable, the link it was
// started through, its npm launcher or its bwrap can be replaced by one of
// those commands, and the next tern started would run the replacement
// unsandboxed. Nothing inside tern can stop that, so it says so, every
// time, and tern doctor lists it as a problem.

// OwnFile is a file of the running tern's installation that the next start
// of tern runs outside any sandbox.
type OwnFile struct {
	What string
	Path string
}

// Exposed is one of tern's own files in a directory that sandboxed commands
// may write.
type Exposed struct {
	OwnFile
	Root string // the writable root it lies in
}

// OwnFiles lists the running tern's own files: its executable, the path it
// was started through, the node_modules tree its npm launcher runs from,
// and bwrap, the helper it runs (nil: none).
func OwnFiles(bwrap *helperbin.Helper) []OwnFile {
	var files []OwnFile
	if exe, err := helperbin.Executable(); err == nil {
		files = append(files, OwnFile{What: "tern's executable", Path: exe})
		if link := invokedAs(os.Args[0]); link != "" && !sameFile(link, exe) {
			files = append(files, OwnFile{What: "the link tern was started through", Path: link})
		}
		if tree := launcherTree(exe); tree != "" {
			files = append(files, OwnFile{What: "the node_modules tree tern's npm launcher runs from", Path: tree})
		}
	}
	if bwrap != nil && bwrap.Path != "" {
		files = append(files, OwnFile{What: "the bwrap tern runs", Path: bwrap.Path})
	}
	return files
}

// invokedAs is the absolute path tern was started through, as argv0 names
// it: a path, or a name a shell found on PATH. "" when it cannot be told.
func invokedAs(argv0 string) string {
	p := argv0
	if !strings.ContainsAny(argv0, "/"+string(filepath.Separator)) {
		found, err := exec.LookPath(argv0)
		if err != nil {
			return ""
		}
		p = found
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	return abs
}

// sameFile reports whether link is exe itself, reached through linked
// directories only: then it is no link of its own to name.
func sameFile(link, exe string) bool {
	dir, err := filepath.EvalSymlinks(filepath.Dir(link))
	return err == nil && filepath.Join(dir, filepath.Base(link)) == exe
}

// launcherTree is the node_modules directory whose package runs exe when
// exe lies in one: npm's launcher spawns the binary by its real path, so the
// binary's first node_modules (a project's, with pnpm's store inside it, or
// the one the launcher vendored it into) holds the launcher too. "" when exe
// is not in a node_modules tree.
func launcherTree(exe string) string {
	const nm = string(filepath.Separator) + "node_modules" + string(filepath.Separator)
	i := strings.Index(exe, nm)
	if i < 0 {
		return ""
	}
	return exe[:i+len(nm)-1]
}

// ExposedIn returns the files that lie in one of roots, each with the root.
func ExposedIn(files []OwnFile, roots []string) []Exposed {
	var exposed []Exposed
	for _, f := range files {
		if root, ok := reachingRoot(f.Path, roots); ok {
			exposed = append(exposed, Exposed{OwnFile: f, Root: root})
		}
	}
	return exposed
}

// ExposedProblem says what exposure means and what to do about it.
func ExposedProblem(exposed []Exposed) Problem {
	var roots []string
	byRoot := map[string][]string{}
	for _, e := range exposed {
		if _, seen := byRoot[e.Root]; !seen {
			roots = append(roots, e.Root)
		}
		byRoot[e.Root] = append(byRoot[e.Root], fmt.Sprintf("%s (%s)", e.Path, e.What))
	}
	var where []string
	for _, root := range roots {
		where = append(where, "in the writable root "+root+": "+strings.Join(byRoot[root], ", "))
	}
	return Problem{
		Subject: "installation",
		Detail: "tern's own files lie where its sandboxed commands may write, " + strings.Join(where, "; ") +
			"; a command in the sandbox could replace them, and the next tern started would run that unsandboxed",
		Remedy: "install tern outside the workspace (npm install --global, or a global prefix; go install with a GOBIN outside it), " +
			"or pass --cd a workspace that does not contain it",
	}
}

// WarnExposed tells w, in one line, which of tern's own files a command in
// a sandbox with these writable roots could replace; nothing when none.
// It warns and never refuses: a workspace holding its own tern is common,
// and only moving tern fixes it.
func WarnExposed(w io.Writer, files []OwnFile, roots []string) {
	exposed := ExposedIn(files, roots)
	if len(exposed) == 0 {
		return
	}
	p := ExposedProblem(exposed)
	fmt.Fprintf(w, "tern: warning: %s; %s\n", p.Detail, p.Remedy)
}

package initcmd

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// Repo is what init reads from a repository before deciding anything:
// plain data, so that Decide can be tested on any repository shape.
type Repo struct {
	Dir     string   // the repository root, holding go.mod
	Module  string   // go.mod's module path
	Mains   []string // every package main, as ./cmd/x or "."
	Remote  string   // `git remote get-url origin`, or ""
	License string   // the licence file at the root, or ""
	// MainVars maps each main package to its package-level variable names.
	MainVars map[string][]string
}

// Inspect reads go.mod, the main packages, the licence file and the git
// remote of the repository at dir.
func Inspect(dir string) (*Repo, error) {
	modPath := filepath.Join(dir, "go.mod")
	raw, err := os.ReadFile(modPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no go.mod: run packager init in the root of a Go module, or pass --dir", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", modPath, err)
	}
	mod := modfile.ModulePath(raw)
	if mod == "" {
		return nil, fmt.Errorf("%s has no module line: add `module <path>` (go mod init <path>)", modPath)
	}
	r := &Repo{Dir: dir, Module: mod, MainVars: map[string][]string{}}
	if err := r.findMains(); err != nil {
		return nil, err
	}
	for _, name := range []string{"LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "COPYING"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			r.License = name
			break
		}
	}
	if out, err := exec.Command("git", "-C", dir, "remote", "get-url", "origin").Output(); err == nil {
		r.Remote = strings.TrimSpace(string(out))
	}
	return r, nil
}

// findMains walks the module, not nested modules, vendor, testdata or
// hidden directories, for directories whose Go files say `package main`.
func (r *Repo) findMains() error {
	return filepath.WalkDir(r.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if p != r.Dir {
			if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "vendor" || name == "testdata" || name == "dist" || name == "node_modules" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		vars, isMain, err := mainPackage(p)
		if err != nil {
			return err
		}
		if isMain {
			rel, _ := filepath.Rel(r.Dir, p)
			pkg := "."
			if rel != "." {
				pkg = "./" + filepath.ToSlash(rel)
			}
			r.Mains = append(r.Mains, pkg)
			r.MainVars[pkg] = vars
		}
		return nil
	})
}

// mainPackage says whether dir holds package main (tests aside), and names
// its package-level variables.
func mainPackage(dir string) (vars []string, isMain bool, err error) {
	return readPackage(dir, "main")
}

// packageVars names the package-level variables of the package in dir,
// whatever its name (tests aside).
func packageVars(dir string) ([]string, error) {
	vars, _, err := readPackage(dir, "")
	return vars, err
}

// readPackage parses the Go files of dir (tests aside) and names the
// package-level variables of those in package only ("" for any package),
// and whether any file was in it.
func readPackage(dir, only string) (vars []string, found bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, err
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			continue // a file that does not parse is the compiler's to report
		}
		if only != "" && f.Name.Name != only {
			continue
		}
		found = true
		for _, obj := range topLevelVars(f) {
			if !slices.Contains(vars, obj) {
				vars = append(vars, obj)
			}
		}
	}
	return vars, found, nil
}

var githubRE = regexp.MustCompile(`^(?:https://|ssh://git@|git@)github\.com[:/]([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$`)

// githubRepo returns owner and name when url is a GitHub remote.
func githubRepo(url string) (owner, name string, ok bool) {
	m := githubRE.FindStringSubmatch(url)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// moduleRepository is https://github.com/o/r for a github.com/o/r/... module.
func moduleRepository(mod string) string {
	parts := strings.Split(mod, "/")
	if len(parts) >= 3 && parts[0] == "github.com" {
		return "https://github.com/" + parts[1] + "/" + parts[2]
	}
	return ""
}

// lastElement is a module path's last element, without a /vN suffix.
func lastElement(mod string) string {
	prefix, _, ok := module.SplitPathVersion(mod)
	if !ok {
		prefix = mod
	}
	return path.Base(prefix)
}

// topLevelVars names a file's package-level variables.
func topLevelVars(f *ast.File) []string {
	var names []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, s := range g.Specs {
			for _, n := range s.(*ast.ValueSpec).Names {
				names = append(names, n.Name)
			}
		}
	}
	return names
}

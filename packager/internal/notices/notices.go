// Package notices writes THIRD_PARTY_NOTICES.md for one binary: the licence
// of every Go module linked into it (read from the binary's own build info,
// so the list is exactly what shipped), of the Go standard library, and of
// each helper shipped beside it. A module whose licence cannot be found is an
// error: nothing ships without its notice.
package notices

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"golang.org/x/mod/module"
)

// Helper is a helper binary's licence, from its third_party manifest.
type Helper struct {
	Name, Version, License, Source, LicenseText string
}

// Writer finds licences in the module cache and GOROOT.
type Writer struct {
	modCache, goroot string
	once             sync.Once
	err              error
}

func (w *Writer) init() error {
	w.once.Do(func() {
		out, err := exec.Command("go", "env", "GOMODCACHE", "GOROOT").Output()
		if err != nil {
			w.err = fmt.Errorf("go env GOMODCACHE GOROOT: %w", err)
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 2 {
			w.err = fmt.Errorf("go env printed %q", out)
			return
		}
		w.modCache, w.goroot = lines[0], lines[1]
	})
	return w.err
}

// For returns the notices for the binary at path, shipped as product with
// the helpers.
func (w *Writer) For(product, path string, helpers []Helper) ([]byte, error) {
	if err := w.init(); err != nil {
		return nil, err
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the build info of %s: %w", path, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Third-party notices\n\n%s includes the software below, under the licences that follow.\n", product)

	goLicense, err := os.ReadFile(filepath.Join(w.goroot, "LICENSE"))
	if err != nil {
		return nil, fmt.Errorf("the Go licence: %w", err)
	}
	section(&b, "The Go standard library "+info.GoVersion, string(goLicense))

	deps := append([]*debug.Module(nil), info.Deps...)
	sort.Slice(deps, func(i, j int) bool { return deps[i].Path < deps[j].Path })
	for _, d := range deps {
		if d.Replace != nil {
			d = d.Replace
		}
		text, err := w.moduleLicense(d.Path, d.Version)
		if err != nil {
			return nil, err
		}
		section(&b, d.Path+" "+d.Version, text)
	}
	for _, h := range helpers {
		title := fmt.Sprintf("%s %s (%s), helper binary built from %s", h.Name, h.Version, h.License, h.Source)
		section(&b, title, h.LicenseText)
	}
	return b.Bytes(), nil
}

func section(b *bytes.Buffer, title, text string) {
	fmt.Fprintf(b, "\n## %s\n\n````text\n%s\n````\n", title, strings.TrimRight(text, "\n"))
}

// licenceNames are the file names, upper-cased, that hold a module's licence.
var licenceNames = []string{"LICENSE", "LICENCE", "COPYING", "LICENSE.MD", "LICENSE.TXT", "COPYING.TXT", "LICENSE-APACHE", "LICENSE-MIT", "NOTICE"}

func (w *Writer) moduleLicense(path, version string) (string, error) {
	escPath, err := module.EscapePath(path)
	if err != nil {
		return "", err
	}
	escVersion, err := module.EscapeVersion(version)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(w.modCache, escPath+"@"+escVersion)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("module %s@%s is not in the module cache (%s): run `go mod download` in its module", path, version, dir)
	}
	var texts []string
	for _, want := range licenceNames {
		for _, e := range entries {
			if e.IsDir() || strings.ToUpper(e.Name()) != want {
				continue
			}
			raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return "", err
			}
			texts = append(texts, string(raw))
		}
	}
	if len(texts) == 0 {
		return "", fmt.Errorf("module %s@%s has no licence file in %s: find its licence before shipping it", path, version, dir)
	}
	return strings.Join(texts, "\n"), nil
}

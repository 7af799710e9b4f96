// Package handoff is what a build machine hands to the machine that merges
// and signs a release: the staged trees of some targets, the helpers those
// targets ship, and a manifest (handoff.json) that pins the commit, the
// version, the release.yaml digest, the toolchain, and every file's sha256,
// size and executable bit.
//
// A handoff crosses machines, CI artifact stores and zip files, so the merge
// side trusts nothing in it until Open has checked every byte against the
// manifest and every binary's stamp against the manifest's commit, and Check
// has checked that the handoffs belong to one release. It never builds,
// packs or signs, and it never changes a handoff.
package handoff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/stamp"
)

// ManifestName is the manifest's file name at the top of a handoff.
const ManifestName = "handoff.json"

// Format names this layout; a merge refuses any other.
const Format = "handoff/1"

// Directories inside a handoff.
const (
	StageDir   = "stage"   // stage/<target>/…, the staged trees
	HelpersDir = "helpers" // helpers/<target>/<binary>, helpers/<name>-<version>.license
)

// Manifest is handoff.json.
type Manifest struct {
	Format   string    `json:"format"`
	Commit   string    `json:"commit"`
	Version  string    `json:"version"`
	Time     time.Time `json:"time"` // the commit time (or SOURCE_DATE_EPOCH) the build stamped
	Snapshot bool      `json:"snapshot"`
	// ConfigSHA256 is the sha256 of the release.yaml the build read.
	ConfigSHA256 string   `json:"release_yaml_sha256"`
	GoReleaser   string   `json:"goreleaser_version"` // empty for a reused build
	Go           string   `json:"go_version"`         // read from the binaries' build info
	Targets      []string `json:"targets"`
	Helpers      []Helper `json:"helpers,omitempty"`
	Files        []File   `json:"files"`
}

// Helper is a helper a target ships, with what the notices, the SBOM and
// the release manifest record of it.
type Helper struct {
	Target      string           `json:"target"`
	Name        string           `json:"name"`
	Path        string           `json:"path"` // slash path in the handoff
	Version     string           `json:"version"`
	Source      *artifact.Source `json:"source,omitempty"`
	LicenseFile string           `json:"license_file"` // slash path in the handoff
}

// File is one file of the handoff. Executable is recorded because artifact
// stores (actions/upload-artifact's zip) drop modes, and the archives carry
// 0755 or 0644 by this bit.
type File struct {
	Path       string `json:"path"` // slash path in the handoff
	SHA256     string `json:"sha256"`
	Size       int64  `json:"size"`
	Executable bool   `json:"executable,omitempty"`
}

// TreePath is the slash path of a target's staged tree in a handoff.
func TreePath(target string) string { return path.Join(StageDir, target) }

// BinaryPath is the slash path of a target's binary in a handoff.
func BinaryPath(c *config.Config, t config.Target) string {
	return path.Join(TreePath(t.Name), "bin", c.BinaryName(t))
}

// Write lists every file under dir with its digest, size and executable
// bit into m.Files and writes dir/handoff.json. dir must hold nothing but
// regular files and directories.
func Write(dir string, m Manifest) error {
	m.Format = Format
	m.Files = nil
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == ManifestName {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s is a %s: a handoff holds only files and directories", p, info.Mode().Type())
		}
		sum, size, err := fileutil.SHA256File(p)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, File{Path: rel, SHA256: sum, Size: size, Executable: info.Mode()&0o111 != 0})
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ManifestName), append(raw, '\n'), 0o644)
}

// Problem is one reason a handoff is refused: which handoff, which file or
// field, and why.
type Problem struct {
	Handoff string // the handoff's directory; empty for a problem of the set
	What    string // a file (slash path in the handoff) or a manifest field
	Reason  string
}

func (p Problem) String() string {
	switch {
	case p.Handoff == "":
		return fmt.Sprintf("%s: %s", p.What, p.Reason)
	case p.What == "":
		return fmt.Sprintf("handoff %s: %s", p.Handoff, p.Reason)
	}
	return fmt.Sprintf("handoff %s: %s: %s", p.Handoff, p.What, p.Reason)
}

// Error lists every problem found, so that one run shows them all.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  " + p.String()
	}
	return fmt.Sprintf("refusing to merge: %d problem(s); nothing was written:\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

type problems []Problem

func (ps *problems) add(handoff, what, format string, args ...any) {
	*ps = append(*ps, Problem{Handoff: handoff, What: what, Reason: fmt.Sprintf(format, args...)})
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{Problems: ps}
}

// Handoff is an opened handoff whose every file matched its manifest.
type Handoff struct {
	Dir      string
	Manifest Manifest
}

// Path is where a file of the handoff is on disk.
func (h *Handoff) Path(slashPath string) string {
	return filepath.Join(h.Dir, filepath.FromSlash(slashPath))
}

// File returns the manifest's record of a file.
func (h *Handoff) File(slashPath string) (File, bool) {
	i, ok := slices.BinarySearchFunc(h.Manifest.Files, slashPath, func(f File, p string) int { return strings.Compare(f.Path, p) })
	if !ok {
		return File{}, false
	}
	return h.Manifest.Files[i], true
}

// Open reads dir/handoff.json and checks the handoff against it: every
// listed file is there with its size and sha256, no file is there that is
// not listed, every target is one of release.yaml's and has its binary and
// helpers, and every binary is stamped with the manifest's version and
// commit. It returns an *Error listing every problem, and the handoff too
// whenever its manifest could be read, so that a merge can still check it
// against the others and name every problem in one run.
func Open(dir string, cfg *config.Config) (*Handoff, error) {
	var ps problems
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		ps.add(dir, ManifestName, "cannot be read (%v): is this a handoff written by `packager build`?", errors.Unwrap(err))
		return nil, ps.err()
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		ps.add(dir, ManifestName, "is not a handoff manifest: %v", err)
		return nil, ps.err()
	}
	if m.Format != Format {
		ps.add(dir, ManifestName, "format is %q, this packager reads %q: build and merge with the same packager", m.Format, Format)
		return nil, ps.err()
	}
	for field, v := range map[string]string{"commit": m.Commit, "version": m.Version, "release_yaml_sha256": m.ConfigSHA256} {
		if v == "" {
			ps.add(dir, ManifestName, "has no %s", field)
		}
	}
	if !sort.SliceIsSorted(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path }) {
		ps.add(dir, ManifestName, "files are not sorted by path")
		return nil, ps.err()
	}
	h := &Handoff{Dir: dir, Manifest: m}
	h.checkFiles(&ps)
	h.checkTargets(&ps, cfg)
	return h, ps.err()
}

// checkFiles holds the directory to the manifest, byte for byte.
func (h *Handoff) checkFiles(ps *problems) {
	listed := map[string]bool{}
	for i, f := range h.Manifest.Files {
		if i > 0 && h.Manifest.Files[i-1].Path == f.Path {
			ps.add(h.Dir, f.Path, "is listed twice in %s", ManifestName)
		}
		listed[f.Path] = true
		if !filepath.IsLocal(filepath.FromSlash(f.Path)) || f.Path == ManifestName {
			ps.add(h.Dir, f.Path, "is not a path inside the handoff")
			continue
		}
		p := h.Path(f.Path)
		info, err := os.Lstat(p)
		if err != nil {
			ps.add(h.Dir, f.Path, "is listed in %s but missing", ManifestName)
			continue
		}
		if !info.Mode().IsRegular() {
			ps.add(h.Dir, f.Path, "is a %s, not a regular file", info.Mode().Type())
			continue
		}
		if info.Size() != f.Size {
			ps.add(h.Dir, f.Path, "is %d bytes, the manifest says %d: the handoff was cut or edited", info.Size(), f.Size)
			continue
		}
		sum, _, err := fileutil.SHA256File(p)
		if err != nil {
			ps.add(h.Dir, f.Path, "cannot be read: %v", err)
			continue
		}
		if sum != f.SHA256 {
			ps.add(h.Dir, f.Path, "has sha256 %s, the manifest says %s: the handoff was edited", sum, f.SHA256)
		}
	}
	filepath.WalkDir(h.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			ps.add(h.Dir, p, "cannot be read: %v", err)
			return nil
		}
		rel, _ := filepath.Rel(h.Dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() || rel == ManifestName {
			return nil
		}
		if !listed[rel] {
			ps.add(h.Dir, rel, "is not listed in %s: a handoff holds only what its build wrote", ManifestName)
		}
		return nil
	})
}

// checkTargets checks each target's binary stamp and helpers.
func (h *Handoff) checkTargets(ps *problems, cfg *config.Config) {
	m := h.Manifest
	if len(m.Targets) == 0 {
		ps.add(h.Dir, ManifestName, "lists no targets")
	}
	seen := map[string]bool{}
	for _, name := range m.Targets {
		if seen[name] {
			ps.add(h.Dir, ManifestName, "lists target %s twice", name)
			continue
		}
		seen[name] = true
		t, ok := cfg.Target(name)
		if !ok {
			ps.add(h.Dir, ManifestName, "has target %s, which release.yaml does not have", name)
			continue
		}
		bin := BinaryPath(cfg, t)
		if _, ok := h.File(bin); !ok {
			ps.add(h.Dir, bin, "%s's binary is not in the handoff", name)
			continue
		}
		data, err := os.ReadFile(h.Path(bin))
		if err != nil {
			continue // already reported as missing
		}
		if !cfg.UsesStamp() {
			// No stamp to read: the version must be a string of its own in
			// the binary, as -X puts it in the variable --version prints;
			// verify applies the same test.
			if !stamp.HoldsVersion(data, m.Version) {
				ps.add(h.Dir, bin, "does not hold the handoff's version %s anywhere, as a string of its own (Go's module information and runtime do not count): %s", m.Version, stamp.VersionVarRemedy)
			}
			continue
		}
		st, err := stamp.Read(data)
		switch {
		case err != nil:
			ps.add(h.Dir, bin, "%v", err)
		case st.Commit != m.Commit:
			ps.add(h.Dir, bin, "is stamped with commit %s, the handoff is of commit %s: it was not built from this commit", st.Commit, m.Commit)
		case st.Version != m.Version:
			ps.add(h.Dir, bin, "is stamped with version %s, the handoff is of version %s", st.Version, m.Version)
		}
		for _, want := range t.Helpers {
			if !slices.ContainsFunc(m.Helpers, func(x Helper) bool { return x.Target == name && x.Name == want }) {
				ps.add(h.Dir, ManifestName, "%s ships helper %s, but the handoff has none", name, want)
			}
		}
	}
	for _, x := range m.Helpers {
		if !seen[x.Target] {
			ps.add(h.Dir, x.Path, "is a helper of %s, which the handoff does not list", x.Target)
		}
		for _, p := range []string{x.Path, x.LicenseFile} {
			if _, ok := h.File(p); !ok {
				ps.add(h.Dir, p, "helper %s of %s names it, but the handoff does not list it", x.Name, x.Target)
			}
		}
		// The helper in the tree is the helper recorded: the notices and
		// the SBOM describe the file the archive ships.
		inTree := path.Join(TreePath(x.Target), cfg.HelperDir(), x.Name)
		a, okA := h.File(x.Path)
		b, okB := h.File(inTree)
		if okA && okB && a.SHA256 != b.SHA256 {
			ps.add(h.Dir, inTree, "has sha256 %s, but the helper recorded at %s has %s", b.SHA256, x.Path, a.SHA256)
		}
	}
}

// Expect is what every handoff of a merge must agree with: the merging
// checkout's commit, version and release.yaml.
type Expect struct {
	Commit, Version string
	Time            time.Time
	ConfigSHA256    string
}

// Check checks that the handoffs make one release: they agree with want and
// with each other (toolchain included: another Go gives other bytes), no
// target comes twice, and every target of release.yaml is there unless
// allowMissing names it. It returns an *Error listing every problem.
func Check(hs []*Handoff, want Expect, cfg *config.Config, allowMissing []string) error {
	var ps problems
	for _, name := range allowMissing {
		if _, ok := cfg.Target(name); !ok {
			ps.add("", "--allow-missing "+name, "release.yaml has no target %s", name)
		}
	}
	from := map[string]string{}
	for i, h := range hs {
		m := h.Manifest
		for _, f := range []struct{ field, got, want, whose string }{
			{"commit", m.Commit, want.Commit, "this checkout is at"},
			{"version", m.Version, want.Version, "this checkout releases"},
			{"time", m.Time.UTC().Format(time.RFC3339), want.Time.UTC().Format(time.RFC3339), "this checkout's commit time (or SOURCE_DATE_EPOCH) is"},
			{"release_yaml_sha256", m.ConfigSHA256, want.ConfigSHA256, "this checkout's release.yaml has"},
		} {
			if f.got != f.want {
				ps.add(h.Dir, f.field, "is %s, but %s %s: build every handoff from the commit you merge", f.got, f.whose, f.want)
			}
		}
		if i > 0 {
			first := hs[0].Manifest
			if m.Go != first.Go {
				ps.add(h.Dir, "go_version", "is %s, but handoff %s was built with %s: build every handoff with one Go", m.Go, hs[0].Dir, first.Go)
			}
			if m.GoReleaser != first.GoReleaser {
				ps.add(h.Dir, "goreleaser_version", "is %q, but handoff %s was built with %q: build every handoff with one GoReleaser", m.GoReleaser, hs[0].Dir, first.GoReleaser)
			}
		}
		for _, t := range m.Targets {
			if other, ok := from[t]; ok && other != h.Dir {
				ps.add(h.Dir, "targets", "%s is also in handoff %s: build each target once", t, other)
				continue
			}
			from[t] = h.Dir
		}
	}
	var missing []string
	for _, t := range cfg.Targets {
		if _, ok := from[t.Name]; !ok && !slices.Contains(allowMissing, t.Name) {
			missing = append(missing, t.Name)
		}
	}
	if len(missing) > 0 {
		ps.add("", "targets", "no handoff has %s: build it (packager build --targets %s), or leave it out of the release with --allow-missing", strings.Join(missing, ", "), strings.Join(missing, ","))
	}
	return ps.err()
}

// CopyTree copies the slash-path tree prefix of h into dst, checking each
// file's digest again as it copies (the handoff may have changed since
// Open), and giving each file the mode the manifest records.
func (h *Handoff) CopyTree(prefix, dst string) error {
	for _, f := range h.Manifest.Files {
		rel, ok := strings.CutPrefix(f.Path, prefix+"/")
		if !ok {
			continue
		}
		mode := os.FileMode(0o644)
		if f.Executable {
			mode = 0o755
		}
		to := filepath.Join(dst, filepath.FromSlash(rel))
		if err := copyChecked(h.Path(f.Path), to, mode, f.SHA256); err != nil {
			return fmt.Errorf("handoff %s: %s: %w", h.Dir, f.Path, err)
		}
	}
	return nil
}

func copyChecked(from, to string, mode os.FileMode, want string) error {
	got, err := fileutil.CopyFileSHA256(from, to, mode)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("changed after it was checked: sha256 %s, the manifest says %s", got, want)
	}
	return nil
}

// Package checksum writes and reads SHA256SUMS: one line per release file,
// "<sha256>  <name>" as `sha256sum -c` reads it, sorted by name. It covers
// every file of the release except the signature, which signs it.
package checksum

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Line is one entry of SHA256SUMS.
type Line struct {
	SHA256 string
	Name   string
}

// Digest hashes the artifacts f accepts whose digest is not yet known, and
// records the results in the list. Each file is hashed once per run,
// whichever step asks first.
func Digest(ctx *pipeline.Context, f artifact.Filter) error {
	var paths []string
	for _, a := range ctx.Artifacts.Filter(f) {
		if a.SHA256 == "" {
			paths = append(paths, a.Path)
		}
	}
	sums, sizes, err := HashFiles(paths)
	if err != nil {
		return err
	}
	for i, p := range paths {
		ctx.Artifacts.SetDigest(p, sums[i], sizes[i])
	}
	return nil
}

// HashFiles returns the sha256 and size of each file, hashing as many files
// at once as there are CPUs: SHA-NI makes one core hash faster than a disk
// reads, so parallel files, not a parallel hash, is what scales.
func HashFiles(paths []string) ([]string, []int64, error) {
	sums, sizes := make([]string, len(paths)), make([]int64, len(paths))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, p := range paths {
		g.Go(func() (err error) {
			sums[i], sizes[i], err = fileutil.SHA256File(p)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return sums, sizes, nil
}

// Pipe writes SHA256SUMS over every release file made so far.
type Pipe struct{}

func (Pipe) String() string { return "write " + layout.Sums }

func (Pipe) Run(ctx *pipeline.Context) error {
	covered := artifact.And(artifact.ReleaseFiles, artifact.Not(artifact.ByKind(artifact.Checksums, artifact.Signature)))
	if err := Digest(ctx, covered); err != nil {
		return err
	}
	var lines []Line
	for _, a := range ctx.Artifacts.Filter(covered) {
		lines = append(lines, Line{SHA256: a.SHA256, Name: a.Name})
	}
	path := filepath.Join(ctx.Release, layout.Sums)
	if err := os.WriteFile(path, Format(lines), 0o644); err != nil {
		return err
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: layout.Sums, Path: path, Kind: artifact.Checksums})
	ctx.Logf("%d files", len(lines))
	return nil
}

// Format renders lines sorted by name.
func Format(lines []Line) []byte {
	sorted := append([]Line(nil), lines...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var b bytes.Buffer
	for _, l := range sorted {
		fmt.Fprintf(&b, "%s  %s\n", l.SHA256, l.Name)
	}
	return b.Bytes()
}

// Parse reads SHA256SUMS strictly: the exact two-space format, lower-case
// hex, plain file names, sorted, each once.
func Parse(r io.Reader) ([]Line, error) {
	var lines []Line
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		sum, name, ok := strings.Cut(text, "  ")
		switch {
		case !ok || len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "":
			return nil, fmt.Errorf("line %d is not \"<sha256>  <name>\": %q", n, text)
		case name == "" || strings.ContainsAny(name, "/\\") || name == "." || name == "..":
			return nil, fmt.Errorf("line %d names %q, which is not a plain file name", n, name)
		case len(lines) > 0 && name <= lines[len(lines)-1].Name:
			return nil, fmt.Errorf("line %d (%s) is out of order or repeated", n, name)
		}
		lines = append(lines, Line{SHA256: sum, Name: name})
	}
	return lines, sc.Err()
}

package pack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// cacheFormat changes whenever the bytes the writers produce change, so that
// a cached archive is never reused across such a change.
const cacheFormat = "pack-v2"

// Pipe packs every staged tree.
type Pipe struct{}

func (Pipe) String() string { return "pack deterministic archives" }

func (Pipe) Run(ctx *pipeline.Context) error {
	trees := ctx.Artifacts.Filter(artifact.ByKind(artifact.Tree))
	errs := make([]error, len(trees))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, tree := range trees {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = packOne(ctx, tree)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("%s: %w", trees[i].Target, err)
		}
	}
	return nil
}

func packOne(ctx *pipeline.Context, tree artifact.Artifact) error {
	t, ok := ctx.Config.Target(tree.Target)
	if !ok {
		return fmt.Errorf("no target %s in release.yaml", tree.Target)
	}
	version := ctx.Version.String()
	name := layout.ArchiveName(ctx.Config, version, t)
	list, err := entries(tree.Path, layout.Prefix(ctx.Config, version, t))
	if err != nil {
		return err
	}
	contents, key, err := digestEntries(list, tree.Path, name, ctx.Version.Time.Unix())
	if err != nil {
		return err
	}

	out := filepath.Join(ctx.Release, name)
	err = Cached(ctx.Dist, key, out, func(w io.Writer) error {
		if layout.FormatFor(t) == layout.Zip {
			return writeZip(w, list, ctx.Version.Time)
		}
		return WriteTarGz(w, list, ctx.Version.Time)
	})
	if err != nil {
		return err
	}

	a := artifact.Artifact{Name: name, Path: out, Kind: artifact.Archive, Target: t.Name}
	binName := path.Join("bin", ctx.Config.BinaryName(t))
	for _, f := range contents {
		switch {
		case f.Name == binName:
			bin := f
			a.Binary = &bin
		case path.Dir(f.Name) == ctx.Config.HelperDir():
			h := f
			h.Name = path.Base(f.Name)
			for _, helper := range ctx.Artifacts.Filter(artifact.And(artifact.ByKind(artifact.Helper), artifact.ByTarget(t.Name))) {
				if helper.Name == h.Name {
					h.Version, h.Source = helper.Version, helper.Source
				}
			}
			a.Helpers = append(a.Helpers, h)
		}
	}
	if a.Binary == nil {
		return fmt.Errorf("the staged tree %s has no %s", tree.Path, binName)
	}
	ctx.Artifacts.Add(a)
	return nil
}

// digestEntries hashes every file of the tree, returning the files with their
// digests (paths relative to the tree) and a cache key over the whole input.
func digestEntries(list []File, tree, name string, mtime int64) ([]artifact.File, string, error) {
	key := sha256.New()
	fmt.Fprintf(key, "%s\x00%s\x00%d\x00", cacheFormat, name, mtime)
	var files []artifact.File
	for _, e := range list {
		sum := ""
		if e.Src != "" {
			s, _, err := artifact.SHA256File(e.Src)
			if err != nil {
				return nil, "", err
			}
			sum = s
			rel, err := filepath.Rel(tree, e.Src)
			if err != nil {
				return nil, "", err
			}
			files = append(files, artifact.File{Name: filepath.ToSlash(rel), SHA256: sum})
		}
		fmt.Fprintf(key, "%s\x00%o\x00%d\x00%s\x00", e.Name, e.Mode, e.Size, sum)
	}
	return files, hex.EncodeToString(key.Sum(nil)), nil
}

// Cached writes out through a cache keyed by the digest of everything that
// goes into it (key): a re-run with nothing changed copies the cached bytes
// instead of compressing again. It copies rather than links, so that editing
// a release file can never reach the cache.
func Cached(dist, key, out string, write func(io.Writer) error) error {
	cached := filepath.Join(dist, "cache", "pack", key+filepath.Ext(out))
	if _, err := os.Stat(cached); err != nil {
		if err := writeAtomically(cached, write); err != nil {
			return err
		}
	}
	return copyFile(cached, out)
}

// writeAtomically writes path through a temporary file, so that a crash
// never leaves a truncated archive where a complete one is expected.
func writeAtomically(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

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

	"golang.org/x/sync/errgroup"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/platformsign"
)

// cacheFormat changes whenever the bytes the writers produce change, so that
// a cached archive is never reused across such a change.
const cacheFormat = "pack-v2"

// Pipe packs every staged tree.
type Pipe struct{}

func (Pipe) String() string { return "pack deterministic archives" }

func (Pipe) Run(ctx *pipeline.Context) error {
	trees := ctx.Artifacts.Filter(artifact.ByKind(artifact.Tree))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, tree := range trees {
		g.Go(func() error {
			if err := packOne(ctx, tree); err != nil {
				return fmt.Errorf("%s: %w", tree.Target, err)
			}
			return nil
		})
	}
	return g.Wait()
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
	// A platform-signed binary is recorded with the digest of its unsigned
	// self too: the reproducible build's, which a rebuild can be held to.
	if t.GOOS == "darwin" || t.GOOS == "windows" {
		data, err := os.ReadFile(filepath.Join(tree.Path, filepath.FromSlash(binName)))
		if err != nil {
			return err
		}
		if a.Binary.UnsignedSHA256, err = platformsign.UnsignedSHA256(t.GOOS, data); err != nil {
			return fmt.Errorf("%s: %s without its signature: %w", t.Name, binName, err)
		}
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
			s, _, err := fileutil.SHA256File(e.Src)
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
		if err := fileutil.WriteAtomic(cached, write); err != nil {
			return err
		}
	}
	return fileutil.CopyFile(cached, out, 0o644)
}

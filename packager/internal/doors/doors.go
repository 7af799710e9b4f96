// Package doors holds what the package-manager doors (Homebrew, Scoop,
// winget) share: the archives a door describes, where each is downloaded
// from, which target each package manager's platform gets, and the
// comparison every door's Check makes against the release. It never runs
// git nor a package manager: the generators render bytes, publish commits
// them.
package doors

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/checksum"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Archive is one archive of the release, as a door names it.
type Archive struct {
	Target string // the target's name in release.yaml: linux-x64
	Name   string // the file name in the release: tern-1.2.3-linux-x64.tar.gz
	SHA256 string // lower-case hex
}

// FromPipeline lists the archives the release run made, with their digests.
func FromPipeline(ctx *pipeline.Context) ([]Archive, error) {
	if err := checksum.Digest(ctx, artifact.ByKind(artifact.Archive)); err != nil {
		return nil, err
	}
	var out []Archive
	for _, a := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Archive)) {
		out = append(out, Archive{Target: a.Target, Name: a.Name, SHA256: a.SHA256})
	}
	return out, nil
}

// FromManifest lists the archives manifest.json records.
func FromManifest(m *manifest.Manifest) []Archive {
	var out []Archive
	for _, a := range m.Artifacts {
		if a.Kind == artifact.Archive {
			out = append(out, Archive{Target: a.Target, Name: a.Name, SHA256: a.SHA256})
		}
	}
	return out
}

// URL is where an archive of the release is downloaded from.
func URL(c *config.Config, version, name string) string {
	return c.DownloadURL() + "/download/v" + version + "/" + name
}

// Platform is an archive a package manager installs on one of its
// platforms.
type Platform struct {
	Key    string // the package manager's name for the platform: macos-arm, 64bit, x64
	Target config.Target
	Archive
	URL    string
	Prefix string // the archive's top directory: tern-1.2.3-linux-x64
	Binary string // the binary's slash path in the archive: tern-1.2.3-linux-x64/bin/tern
}

// Select gives each platform a package manager knows, as key names them,
// its archive, in the order of archives. A target key has no name for
// (a 32-bit arm, a freebsd) is left out and named in left; two targets of
// one platform are an error, since a manifest holds one archive per
// platform. door names the package manager and its switch in messages.
func Select(c *config.Config, version string, archives []Archive, door string, key func(config.Target) (string, bool)) (ps []Platform, left []string, err error) {
	owner := map[string]string{}
	for _, a := range archives {
		t, ok := c.Target(a.Target)
		if !ok {
			return nil, nil, fmt.Errorf("%s is for target %q, which release.yaml does not have", a.Name, a.Target)
		}
		if want := layout.ArchiveName(c, version, t); a.Name != want {
			return nil, nil, fmt.Errorf("archive %s of target %s should be named %s for version %s: run packager release again", a.Name, t.Name, want, version)
		}
		if len(a.SHA256) != 64 || strings.Trim(a.SHA256, "0123456789abcdef") != "" {
			return nil, nil, fmt.Errorf("archive %s has no sha256 (%q): run packager release again", a.Name, a.SHA256)
		}
		k, ok := key(t)
		if !ok {
			left = append(left, t.Name)
			continue
		}
		if other, dup := owner[k]; dup {
			return nil, nil, fmt.Errorf("targets %s and %s are both %s's platform %s, and a manifest holds one archive per platform: "+
				"remove one of them from release.yaml, or set doors: {%s: false}", other, t.Name, door, k, door)
		}
		owner[k] = t.Name
		prefix := layout.Prefix(c, version, t)
		ps = append(ps, Platform{
			Key: k, Target: t, Archive: a, URL: URL(c, version, a.Name),
			Prefix: prefix, Binary: path.Join(prefix, layout.BinaryPath(c, t)),
		})
	}
	return ps, left, nil
}

// Entry is what a door's file says of one platform.
type Entry struct {
	URL    string
	SHA256 string // lower-case hex
	Path   string // where in the archive the file looks: the binary, or its top directory
}

// Compare reports every way got, what a door's file says, differs from
// want, what the release's archives say: a platform missing or extra, a
// URL, digest or path in the archive that is not the archive's. pathField
// is the file's name for the path, and path gives the archive's. It
// collects every problem rather than stopping at the first; each names the
// file and the platform.
func Compare(file string, want []Platform, got map[string]Entry, pathField string, path func(Platform) string) error {
	var errs []error
	seen := map[string]bool{}
	for _, p := range want {
		seen[p.Key] = true
		g, ok := got[p.Key]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no %s entry, but the release has %s for it", file, p.Key, p.Name))
			continue
		}
		if g.URL != p.URL {
			errs = append(errs, fmt.Errorf("%s: %s: url %s, want %s", file, p.Key, g.URL, p.URL))
		}
		if g.SHA256 != p.SHA256 {
			errs = append(errs, fmt.Errorf("%s: %s: sha256 %s, but %s has %s", file, p.Key, g.SHA256, p.Name, p.SHA256))
		}
		if w := path(p); g.Path != w {
			errs = append(errs, fmt.Errorf("%s: %s: %s %q, want %q", file, p.Key, pathField, g.Path, w))
		}
	}
	for k, g := range got {
		if !seen[k] {
			errs = append(errs, fmt.Errorf("%s: %s entry (%s) for no archive of the release", file, k, g.URL))
		}
	}
	return errors.Join(errs...)
}

// Write puts a door's file into the release and registers it.
func Write(ctx *pipeline.Context, name string, data []byte, kind artifact.Kind) error {
	out := filepath.Join(ctx.Release, name)
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: name, Path: out, Kind: kind})
	return nil
}

// Description is the one-line summary the doors show: npm.description,
// which defaults to one made of the product's name.
func Description(c *config.Config) string {
	if c.NPM.Description != "" {
		return c.NPM.Description
	}
	return c.Product
}

// GitHubRepo is the owner and name of a repository on github.com, and false
// for one elsewhere.
func GitHubRepo(c *config.Config) (owner, name string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSuffix(c.Repository, "/"), "https://github.com/")
	if !ok {
		return "", "", false
	}
	owner, name, ok = strings.Cut(rest, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", false
	}
	return owner, name, true
}

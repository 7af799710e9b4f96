// Package artifact is the packager's registry of what a release run has made:
// typed records (binary, staged tree, archive, checksums, manifest,
// signature) with their paths and targets. A step never guesses where an
// earlier step put something; it asks the list, with a filter that says which
// artifacts it wants.
package artifact

import (
	"fmt"
	"sort"
	"sync"
)

// Kind is what an artifact is.
type Kind string

const (
	Binary       Kind = "binary"    // compiled by GoReleaser
	Helper       Kind = "helper"    // a native helper for libexec/
	Tree         Kind = "tree"      // a staged directory: bin/, libexec/, licences
	Archive      Kind = "archive"   // a target's tar.gz or zip
	Checksums    Kind = "checksums" // SHA256SUMS
	Manifest     Kind = "manifest"  // manifest.json
	Signature    Kind = "signature" // SHA256SUMS.sigstore.json
	NPM          Kind = "npm"       // an npm package tarball: a platform's, or the meta package
	Installer    Kind = "installer" // install.sh, install.ps1
	SBOM         Kind = "sbom"      // a CycloneDX SBOM per archive
	DotSlash     Kind = "dotslash"  // the DotSlash file
	LinuxPackage Kind = "linuxpkg"  // a target's .deb, .rpm or .apk
	Homebrew     Kind = "homebrew"  // the Homebrew cask
	Scoop        Kind = "scoop"     // the Scoop manifest
	Winget       Kind = "winget"    // a winget manifest: version, installer or defaultLocale
	AptRepo      Kind = "apt"       // the flat apt repository's indexes, signatures and keyring
)

// Artifact is one thing a step made or read.
type Artifact struct {
	Name   string // the file name in the release, or a tree's directory name
	Path   string // where it is on disk
	Kind   Kind
	Target string // a target's name; empty for release-wide files

	// For a release file: its digest and size, once computed.
	SHA256 string `json:",omitempty"`
	Size   int64  `json:",omitempty"`

	// For an archive: what it holds, recorded in the manifest.
	Binary  *File  `json:",omitempty"`
	Helpers []File `json:",omitempty"`
	// For a helper: what the manifest and the notices record of it.
	Version     string  `json:",omitempty"`
	Source      *Source `json:",omitempty"`
	LicenseFile string  `json:",omitempty"` // the licence text, for the notices
}

// File names a file and its digest.
type File struct {
	Name    string  `json:"name"`
	Version string  `json:"version,omitempty"`
	SHA256  string  `json:"sha256"`
	Source  *Source `json:"source,omitempty"`
	// UnsignedSHA256 is, for a platform-signed binary, the digest of the
	// binary without its signature: the reproducible build's, which anyone
	// can compare with their own build of the commit.
	UnsignedSHA256 string `json:"unsigned_sha256,omitempty"`
}

// Source says where a helper was built from, as its licence (LGPL for
// bubblewrap) requires a release to tell.
type Source struct {
	URL     string `json:"url"`
	SHA256  string `json:"sha256"`
	License string `json:"license"`
}

// List is the registry; it is safe for concurrent use.
type List struct {
	mu    sync.Mutex
	items []Artifact
}

// Add records an artifact.
func (l *List) Add(a Artifact) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, a)
}

// SetDigest records the digest and size of the artifact at path.
func (l *List) SetDigest(path, sha256 string, size int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.items {
		if l.items[i].Path == path {
			l.items[i].SHA256, l.items[i].Size = sha256, size
		}
	}
}

// Move records that the artifact at from now lives at to: a step that
// writes a new version of a file (a signed binary) beside the old one.
func (l *List) Move(from, to string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.items {
		if l.items[i].Path == from {
			l.items[i].Path = to
		}
	}
}

// Filter returns the artifacts f accepts, sorted by target then name, so that
// every step walks them in the same order.
func (l *List) Filter(f Filter) []Artifact {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Artifact
	for _, a := range l.items {
		if f(a) {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Target != out[j].Target {
			return out[i].Target < out[j].Target
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// One returns the single artifact f accepts, or an error naming what is
// missing or ambiguous.
func (l *List) One(f Filter, what string) (Artifact, error) {
	found := l.Filter(f)
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Artifact{}, fmt.Errorf("no %s was made", what)
	default:
		return Artifact{}, fmt.Errorf("%d artifacts match %s, want one", len(found), what)
	}
}

// Filter selects artifacts.
type Filter func(Artifact) bool

// ByKind accepts artifacts of any of the kinds.
func ByKind(kinds ...Kind) Filter {
	return func(a Artifact) bool {
		for _, k := range kinds {
			if a.Kind == k {
				return true
			}
		}
		return false
	}
}

// ByTarget accepts a target's artifacts.
func ByTarget(name string) Filter { return func(a Artifact) bool { return a.Target == name } }

// And accepts what every filter accepts.
func And(fs ...Filter) Filter {
	return func(a Artifact) bool {
		for _, f := range fs {
			if !f(a) {
				return false
			}
		}
		return true
	}
}

// Or accepts what any filter accepts.
func Or(fs ...Filter) Filter {
	return func(a Artifact) bool {
		for _, f := range fs {
			if f(a) {
				return true
			}
		}
		return false
	}
}

// Not accepts what f refuses.
func Not(f Filter) Filter { return func(a Artifact) bool { return !f(a) } }

// ReleaseFiles accepts the files that are published in the release dir.
var ReleaseFiles = ByKind(Archive, NPM, Installer, SBOM, DotSlash, LinuxPackage, AptRepo, Homebrew, Scoop, Winget, Checksums, Manifest, Signature)

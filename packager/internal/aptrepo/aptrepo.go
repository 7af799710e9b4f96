// Package aptrepo writes a release's .deb files into a static, signed apt
// repository: a directory that any file server can serve and that
// `deb [signed-by=KEYRING] URL stable main` reads.
//
//	pool/main/<p>/<source>/<file>.deb
//	dists/stable/main/binary-<arch>/Packages, Packages.gz
//	dists/stable/Release, Release.gpg, InRelease
//	<product>-archive-keyring.gpg
//
// The bytes are a function of the .deb files, the release facts and the key:
// indexes are sorted, Packages.gz carries no name or time, Release's Date is
// the commit time, and the signatures are made at the commit time without a
// random salt, so the same key signs the same commit to the same bytes.
//
// It must never read the signing environment but through KeyFromEnv, never
// sign with a key that is not given (a snapshot's throw-away key is made by
// GenerateKey and marked Ephemeral for the caller to announce), and never
// publish: it writes files in one directory.
package aptrepo

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tern-agent/tern/packager/internal/fileutil"
)

// The repository's fixed names. A release has one suite and one component,
// so a user's sources line never changes from release to release.
const (
	Suite     = "stable"
	Component = "main"
	// SnapshotKey is the file name for a snapshot's throw-away public key,
	// beside the release (dist/), never in it: as the cosign snapshot key.
	SnapshotKey = "snapshot-apt.asc"
)

// KeyringName is the file, at the repository's root, that holds the public
// key users install to /usr/share/keyrings and name in signed-by. It is a
// binary keyring (.gpg) rather than armored (.asc): every apt that knows
// signed-by (1.1 and later) reads it, and so does gpgv itself, with no
// `gpg --dearmor` step on the user's side.
func KeyringName(product string) string { return product + keyringSuffix }

const keyringSuffix = "-archive-keyring.gpg"

// Options are the release facts the repository is written from.
type Options struct {
	// Product names the repository: Origin and Label of Release, and the
	// keyring file.
	Product string
	// Version is the release's version, Release's Version field.
	Version string
	// Time is the commit time: Release's Date and the signatures' time.
	Time time.Time
	// Key signs Release. Required: a snapshot passes GenerateKey's.
	Key *Key
}

// Package is one .deb as the repository files it.
type Package struct {
	Name, Version, Architecture string
	Filename                    string // slash path from the repository root
	Size                        int64
	SHA256                      string
}

// Result is what Write made.
type Result struct {
	Dir           string
	Architectures []string  // as Release lists them, sorted
	Packages      []Package // sorted by name, version, architecture
	Keyring       string    // path of the public keyring in Dir
	Fingerprint   string    // the signing key's primary fingerprint
	Files         []string  // every file written, slash paths from Dir, sorted
}

// Write makes the repository in dir, which must be empty or not exist: a
// stale file from an earlier run would be served beside the new ones. It
// builds the repository beside dir and renames it into place, so dir holds
// a whole repository or nothing.
func Write(dir string, debs []string, o Options) (Result, error) {
	if o.Key == nil {
		return Result{}, ErrNoKey
	}
	if !packageName.MatchString(o.Product) {
		return Result{}, fmt.Errorf("apt repository: product %q cannot name a repository (lower-case letters, digits, + - .)", o.Product)
	}
	if o.Time.IsZero() {
		return Result{}, errors.New("apt repository: no commit time for Release's Date")
	}
	if len(debs) == 0 {
		return Result{}, errors.New("apt repository: no .deb files to publish")
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return Result{}, fmt.Errorf("apt repository: %s is not empty; remove it first (`rm -r %s`)", dir, dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Result{}, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Result{}, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp) // after the rename, nothing is left there
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Result{}, err
	}
	res, err := build(tmp, debs, o)
	if err != nil {
		return Result{}, err
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Result{}, fmt.Errorf("apt repository: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return Result{}, fmt.Errorf("apt repository: moving it into place: %w", err)
	}
	res.Dir, res.Keyring = dir, filepath.Join(dir, KeyringName(o.Product))
	return res, nil
}

// build writes the repository into the empty directory dir.
func build(dir string, debs []string, o Options) (Result, error) {
	res := Result{Fingerprint: o.Key.Fingerprint()}

	type entry struct {
		ctl Control
		pkg Package
	}
	var entries []entry
	byPool := map[string]string{}
	byID := map[string]string{}
	for _, deb := range debs {
		ctl, err := ReadControl(deb)
		if err != nil {
			return Result{}, err
		}
		p := Package{Name: ctl.Get("Package"), Version: ctl.Get("Version"), Architecture: ctl.Get("Architecture")}
		base := filepath.Base(deb)
		if !strings.HasSuffix(base, ".deb") || strings.ContainsAny(base, " \t\n") {
			return Result{}, fmt.Errorf("apt repository: %s: a package file's name ends in .deb and has no spaces", deb)
		}
		p.Filename = path.Join("pool", Component, poolPrefix(sourceName(ctl)), sourceName(ctl), base)
		if other, dup := byPool[p.Filename]; dup {
			return Result{}, fmt.Errorf("apt repository: %s and %s both file as %s", other, deb, p.Filename)
		}
		id := p.Name + " " + p.Version + " " + p.Architecture
		if other, dup := byID[id]; dup {
			return Result{}, fmt.Errorf("apt repository: %s and %s are both %s %s for %s", other, deb, p.Name, p.Version, p.Architecture)
		}
		byPool[p.Filename], byID[id] = deb, deb
		sum, err := fileutil.CopyFileSHA256(deb, filepath.Join(dir, filepath.FromSlash(p.Filename)), 0o644)
		if err != nil {
			return Result{}, fmt.Errorf("apt repository: copying %s into the pool: %w", deb, err)
		}
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p.Filename)))
		if err != nil {
			return Result{}, err
		}
		p.SHA256, p.Size = sum, fi.Size()
		entries = append(entries, entry{ctl, p})
		res.Files = append(res.Files, p.Filename)
	}
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i].pkg, entries[j].pkg
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Architecture < b.Architecture
	})

	// An Architecture: all package is listed in every architecture's index,
	// as apt-ftparchive does; a repository of nothing else has binary-all.
	archSet := map[string]bool{}
	for _, e := range entries {
		if e.pkg.Architecture != "all" {
			archSet[e.pkg.Architecture] = true
		}
	}
	if len(archSet) == 0 {
		archSet["all"] = true
	}
	for a := range archSet {
		res.Architectures = append(res.Architectures, a)
	}
	sort.Strings(res.Architectures)

	var indexes []indexFile // as Release lists them: sorted by path
	for _, arch := range res.Architectures {
		var b bytes.Buffer
		for _, e := range entries {
			if e.pkg.Architecture != arch && e.pkg.Architecture != "all" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			writeStanza(&b, e.ctl, e.pkg)
		}
		gz, err := gzipBytes(b.Bytes())
		if err != nil {
			return Result{}, err
		}
		rel := path.Join(Component, "binary-"+arch, "Packages")
		indexes = append(indexes, indexFile{rel, b.Bytes()}, indexFile{rel + ".gz", gz})
	}
	for _, e := range entries {
		res.Packages = append(res.Packages, e.pkg)
	}

	release := releaseFile(o, res.Architectures, indexes)
	detached, inline, err := o.Key.sign(release, o.Key.signTime(o.Time))
	if err != nil {
		return Result{}, fmt.Errorf("apt repository: %w", err)
	}
	keyring, err := o.Key.PublicBinary()
	if err != nil {
		return Result{}, err
	}
	dists := path.Join("dists", Suite)
	files := []indexFile{
		{path.Join(dists, "Release"), release},
		{path.Join(dists, "Release.gpg"), detached},
		{path.Join(dists, "InRelease"), inline},
		{KeyringName(o.Product), keyring},
	}
	for _, ix := range indexes {
		files = append(files, indexFile{path.Join(dists, ix.path), ix.data})
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(dir, filepath.FromSlash(f.path)), f.data); err != nil {
			return Result{}, fmt.Errorf("apt repository: %w", err)
		}
		res.Files = append(res.Files, f.path)
	}
	sort.Strings(res.Files)
	return res, nil
}

type indexFile struct {
	path string
	data []byte
}

// poolPrefix is Debian's pool directory for a source: its first letter, or
// the first four of a lib* name.
func poolPrefix(source string) string {
	if strings.HasPrefix(source, "lib") && len(source) > 3 {
		return source[:4]
	}
	return source[:1]
}

// writeStanza writes a Packages stanza: the control fields in the package's
// order with Package first, then where the file is and its digest.
func writeStanza(w *bytes.Buffer, c Control, p Package) {
	fmt.Fprintf(w, "Package: %s\n", p.Name)
	for _, f := range c {
		switch strings.ToLower(f.Name) {
		case "package", "filename", "size", "md5sum", "sha1", "sha256", "sha512":
			continue
		}
		fmt.Fprintf(w, "%s: %s\n", f.Name, f.Value)
	}
	fmt.Fprintf(w, "Filename: %s\nSize: %d\nSHA256: %s\n", p.Filename, p.Size, p.SHA256)
}

// releaseFile is dists/stable/Release: the facts apt checks (Suite,
// Codename, Components, Architectures), Date from the commit, and the
// SHA-256 and size of every index.
func releaseFile(o Options, archs []string, indexes []indexFile) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Origin: %s\nLabel: %s\nSuite: %s\nCodename: %s\n", o.Product, o.Product, Suite, Suite)
	if o.Version != "" {
		fmt.Fprintf(&b, "Version: %s\n", o.Version)
	}
	fmt.Fprintf(&b, "Date: %s\n", o.Time.UTC().Format(time.RFC1123))
	fmt.Fprintf(&b, "Architectures: %s\nComponents: %s\n", strings.Join(archs, " "), Component)
	fmt.Fprintf(&b, "Description: %s packages\n", o.Product)
	b.WriteString("SHA256:\n")
	sorted := append([]indexFile(nil), indexes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].path < sorted[j].path })
	for _, ix := range sorted {
		sum := sha256.Sum256(ix.data)
		fmt.Fprintf(&b, " %s %16d %s\n", hex.EncodeToString(sum[:]), len(ix.data), ix.path)
	}
	return b.Bytes()
}

// gzipBytes compresses with no name and no time in the header.
func gzipBytes(b []byte) ([]byte, error) {
	var out bytes.Buffer
	z, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := z.Write(b); err != nil {
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func writeFile(p string, data []byte) error {
	if err := fileutil.WriteAtomic(p, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return err
	}
	return os.Chmod(p, 0o644)
}

// Package aptrepo turns a release's .deb files into a signed apt repository
// in Debian's flat format, so that the release's own assets are the
// repository: GitHub serves a release's files flat, with no directories, at
// https://github.com/OWNER/REPO/releases/download/vX/<file>, and
// /releases/latest/download/<file> redirects to the latest release's. Users
// write
//
//	deb [signed-by=/usr/share/keyrings/<product>-archive-keyring.gpg] https://github.com/OWNER/REPO/releases/latest/download/ ./
//
// and apt fetches <base>/InRelease (or Release and Release.gpg),
// <base>/Packages.gz or Packages, and each package at its Filename, ./<deb>,
// beside them. WriteFlat writes into the release directory, beside the .deb
// files linuxpkg made there:
//
//	Packages, Packages.gz         one index of every package, all architectures
//	Release                       no Suite, Codename or Components: a flat repository has none
//	Release.gpg, InRelease        Release signed, detached and inline
//	<product>-archive-keyring.gpg the public key users install
//
// The bytes are a function of the .deb files, the release facts and the key:
// the index is sorted, Packages.gz carries no name or time, Release's Date is
// the commit time, and the signatures are made at the commit time without a
// random salt, so the same key signs the same commit to the same bytes.
//
// It must never read the signing environment but through KeyFromEnv, never
// sign with a key that is not given (a snapshot's throw-away key is made by
// GenerateKey and marked Ephemeral for the caller to announce), never move,
// copy or change a .deb, never overwrite a file, and never publish: it writes
// its six files into one directory.
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
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tern-agent/tern/packager/internal/fileutil"
)

// The flat repository's index files, at the release's root beside the .deb
// files. Apt asks for exactly these names under the sources line's URL.
const (
	PackagesFile   = "Packages"
	PackagesGzFile = "Packages.gz"
	ReleaseFile    = "Release"
	ReleaseGPGFile = "Release.gpg"
	InReleaseFile  = "InRelease"
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

// FlatFiles are the names WriteFlat writes into the release directory,
// sorted: the files a release registers and uploads beside its .deb files.
func FlatFiles(product string) []string {
	out := []string{InReleaseFile, PackagesFile, PackagesGzFile, ReleaseFile, ReleaseGPGFile, KeyringName(product)}
	sort.Strings(out)
	return out
}

// Options are the release facts the repository is written from.
type Options struct {
	// Product names the repository: Origin and Label of Release, and the
	// keyring file.
	Product string
	// Version is the release's version, Release's Version field. apt 2.6
	// takes a new one at the same URL without --allow-releaseinfo-change,
	// even a new major (a test holds it to that).
	Version string
	// Time is the commit time: Release's Date and the signatures' time.
	Time time.Time
	// Key signs Release. Required: a snapshot passes GenerateKey's.
	Key *Key
}

// Package is one .deb as the repository lists it.
type Package struct {
	Name, Version, Architecture string
	Filename                    string // as Packages gives it: ./<deb name>
	Size                        int64
	SHA256                      string
}

// Result is what WriteFlat made.
type Result struct {
	Dir           string
	Architectures []string  // as Release lists them, sorted
	Packages      []Package // sorted by name, version, architecture
	Keyring       string    // path of the public keyring in Dir
	Fingerprint   string    // the signing key's primary fingerprint
	Files         []string  // the files written, names in Dir, sorted: FlatFiles(Product)
}

// WriteFlat writes a flat apt repository of debs into dir, the release
// directory that already holds them: every .deb must be a file directly in
// dir, for Packages names each as ./<its name> and apt fetches it from
// beside the index. It refuses to overwrite any file of FlatFiles, and on a
// failure removes what it wrote, so dir then holds what it held before.
func WriteFlat(dir string, debs []string, o Options) (Result, error) {
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
	var exist []string
	for _, name := range FlatFiles(o.Product) {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			exist = append(exist, name)
		} else if !errors.Is(err, os.ErrNotExist) {
			return Result{}, fmt.Errorf("apt repository: %w", err)
		}
	}
	if len(exist) > 0 {
		return Result{}, fmt.Errorf("apt repository: %s already holds %s; a release directory is written once, so start from a clean one (`rm %s`)",
			dir, strings.Join(exist, ", "), strings.Join(prefixAll(dir, exist), " "))
	}

	res, files, err := build(dir, debs, o)
	if err != nil {
		return Result{}, err
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := writeFile(p, f.data); err != nil {
			for _, w := range written {
				os.Remove(w)
			}
			return Result{}, fmt.Errorf("apt repository: %w", err)
		}
		written = append(written, p)
		res.Files = append(res.Files, f.name)
	}
	sort.Strings(res.Files)
	res.Dir, res.Keyring = dir, filepath.Join(dir, KeyringName(o.Product))
	return res, nil
}

// assetName is the name GitHub gives a release asset uploaded as name: it
// replaces each character other than a letter, a digit, '.', '-' and '_'
// (a Debian pre-release's '~', an epoch's ':', a '+') with '.'. A name it
// keeps is the Filename apt asks for.
func assetName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '.'
	}, name)
}

func prefixAll(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(dir, n)
	}
	return out
}

type namedFile struct {
	name string
	data []byte
}

// build reads the packages in dir and makes the repository's files in
// memory: nothing is written until all of them are made.
func build(dir string, debs []string, o Options) (Result, []namedFile, error) {
	res := Result{Fingerprint: o.Key.Fingerprint()}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return Result{}, nil, err
	}

	type entry struct {
		ctl Control
		pkg Package
	}
	var entries []entry
	byName := map[string]string{}
	byID := map[string]string{}
	for _, deb := range debs {
		base := filepath.Base(deb)
		if !strings.HasSuffix(base, ".deb") {
			return Result{}, nil, fmt.Errorf("apt repository: %s: a package file's name ends in .deb", deb)
		}
		if as := assetName(base); as != base {
			return Result{}, nil, fmt.Errorf("apt repository: %s: GitHub renames a release asset whose name has characters other than letters, digits, '.', '-' and '_' (this one to %s), and Packages would name ./%s, which apt then cannot fetch; name the file with those characters only (the Version inside the package may keep its ~ or +)", deb, as, base)
		}
		if abs, err := filepath.Abs(deb); err != nil || filepath.Dir(abs) != absDir {
			return Result{}, nil, fmt.Errorf("apt repository: %s is not in %s: a flat repository lists each package as ./<name> beside its index, so the .deb must be in the release directory", deb, dir)
		}
		if fi, err := os.Lstat(deb); err != nil {
			return Result{}, nil, fmt.Errorf("apt repository: %w", err)
		} else if !fi.Mode().IsRegular() {
			return Result{}, nil, fmt.Errorf("apt repository: %s is not a regular file (a release uploads the file itself)", deb)
		}
		ctl, err := ReadControl(deb)
		if err != nil {
			return Result{}, nil, err
		}
		p := Package{Name: ctl.Get("Package"), Version: ctl.Get("Version"), Architecture: ctl.Get("Architecture"), Filename: "./" + base}
		if other, dup := byName[base]; dup {
			return Result{}, nil, fmt.Errorf("apt repository: %s is given twice (as %s and %s)", base, other, deb)
		}
		id := p.Name + " " + p.Version + " " + p.Architecture
		if other, dup := byID[id]; dup {
			return Result{}, nil, fmt.Errorf("apt repository: %s and %s are both %s %s for %s", other, deb, p.Name, p.Version, p.Architecture)
		}
		byName[base], byID[id] = deb, deb
		if p.SHA256, p.Size, err = fileutil.SHA256File(deb); err != nil {
			return Result{}, nil, fmt.Errorf("apt repository: %w", err)
		}
		entries = append(entries, entry{ctl, p})
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

	// Release lists the architectures a package is built for; an
	// Architecture: all package installs on each of them, and a repository
	// of nothing else lists all.
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

	var index bytes.Buffer
	for i, e := range entries {
		if i > 0 {
			index.WriteByte('\n')
		}
		writeStanza(&index, e.ctl, e.pkg)
		res.Packages = append(res.Packages, e.pkg)
	}
	gz, err := gzipBytes(index.Bytes())
	if err != nil {
		return Result{}, nil, err
	}
	indexes := []namedFile{{PackagesFile, index.Bytes()}, {PackagesGzFile, gz}}

	release := releaseFile(o, res.Architectures, indexes)
	detached, inline, err := o.Key.sign(release, o.Key.signTime(o.Time))
	if err != nil {
		return Result{}, nil, fmt.Errorf("apt repository: %w", err)
	}
	keyring, err := o.Key.PublicBinary()
	if err != nil {
		return Result{}, nil, err
	}
	// Release and its signatures last: a reader that races the writes sees
	// no Release that names an index not yet there.
	files := append(indexes,
		namedFile{KeyringName(o.Product), keyring},
		namedFile{ReleaseFile, release},
		namedFile{ReleaseGPGFile, detached},
		namedFile{InReleaseFile, inline},
	)
	return res, files, nil
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

// releaseFile is the flat repository's Release: who made it, Date from the
// commit, the architectures, and the SHA-256 and size of each index. It has
// no Suite, Codename or Components: a flat sources line (`URL ./`) names
// none of them, and apt 2.6 neither asks for them nor warns without them.
// Nor does a changing Suite or Codename then ask users to accept it.
func releaseFile(o Options, archs []string, indexes []namedFile) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Origin: %s\nLabel: %s\n", o.Product, o.Product)
	if o.Version != "" {
		fmt.Fprintf(&b, "Version: %s\n", o.Version)
	}
	fmt.Fprintf(&b, "Date: %s\n", o.Time.UTC().Format(time.RFC1123))
	fmt.Fprintf(&b, "Architectures: %s\n", strings.Join(archs, " "))
	fmt.Fprintf(&b, "Description: %s packages\n", o.Product)
	b.WriteString("SHA256:\n")
	sorted := append([]namedFile(nil), indexes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, ix := range sorted {
		sum := sha256.Sum256(ix.data)
		fmt.Fprintf(&b, " %s %16d %s\n", hex.EncodeToString(sum[:]), len(ix.data), ix.name)
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

// Package safeextract unpacks source tarballs without trusting them. It
// refuses absolute paths, "..", links that lead out of the destination,
// writes through a link, device files and fifos, and entries or totals over
// a size limit. It never sets owners or special mode bits.
package safeextract

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ulikunitz/xz"
)

// Limits bound what an archive may unpack to.
type Limits struct {
	MaxEntry int64 // bytes in one file
	MaxTotal int64 // bytes in all files
	MaxFiles int
}

// DefaultLimits suit source tarballs.
var DefaultLimits = Limits{MaxEntry: 64 << 20, MaxTotal: 512 << 20, MaxFiles: 20000}

// UnsafeError names the member refused and why.
type UnsafeError struct {
	Member, Reason string
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("refusing member %q: %s", e.Member, e.Reason)
}

// File unpacks a .tar, .tar.gz or .tar.xz (detected by content) into dest,
// which must not exist yet or be empty.
func File(archive, dest string, lim Limits) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := decompress(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	if err := Tar(r, dest, lim); err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	return nil
}

func decompress(r *bufio.Reader) (io.Reader, error) {
	magic, _ := r.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return gzip.NewReader(r)
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return xz.NewReader(r)
	default:
		return r, nil
	}
}

// Tar unpacks an uncompressed tar stream into dest.
func Tar(r io.Reader, dest string, lim Limits) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	root, err := filepath.Abs(dest)
	if err != nil {
		return err
	}
	tr := tar.NewReader(r)
	var total int64
	for files := 0; ; files++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the tar: %w", err)
		}
		if files >= lim.MaxFiles {
			return &UnsafeError{hdr.Name, fmt.Sprintf("more than %d entries", lim.MaxFiles)}
		}
		name, err := cleanName(hdr.Name)
		if err != nil {
			return &UnsafeError{hdr.Name, err.Error()}
		}
		if name == "" {
			continue // "./" itself
		}
		target := filepath.Join(root, filepath.FromSlash(name))
		if err := noLinkOnTheWay(root, target); err != nil {
			return &UnsafeError{hdr.Name, err.Error()}
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if hdr.Size > lim.MaxEntry {
				return &UnsafeError{hdr.Name, fmt.Sprintf("%d bytes, over the %d-byte limit for one file", hdr.Size, lim.MaxEntry)}
			}
			if total += hdr.Size; total > lim.MaxTotal {
				return &UnsafeError{hdr.Name, fmt.Sprintf("the archive unpacks to more than %d bytes", lim.MaxTotal)}
			}
			if err := writeFile(target, tr, hdr); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if LinkLeaves("", name, hdr.Linkname) {
				return &UnsafeError{hdr.Name, fmt.Sprintf("a link to %q, which leads out of the tree", hdr.Linkname)}
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			linked, err := cleanName(hdr.Linkname)
			if err != nil || linked == "" {
				return &UnsafeError{hdr.Name, fmt.Sprintf("a hard link to %q, which leads out of the tree", hdr.Linkname)}
			}
			src := filepath.Join(root, filepath.FromSlash(linked))
			if err := noLinkOnTheWay(root, src); err != nil {
				return &UnsafeError{hdr.Name, err.Error()}
			}
			if st, err := os.Lstat(src); err != nil || !st.Mode().IsRegular() {
				return &UnsafeError{hdr.Name, fmt.Sprintf("a hard link to %q, which is not a file unpacked before it", hdr.Linkname)}
			}
			if err := os.Link(src, target); err != nil {
				return err
			}
		default:
			return &UnsafeError{hdr.Name, fmt.Sprintf("a %s; a source tarball holds only files, directories and links", typeName(hdr.Typeflag))}
		}
	}
}

// cleanName turns a member name into a clean slash path inside the tree, or
// says why it cannot be one (CheckName's rules).
func cleanName(name string) (string, error) {
	if v := CheckName(name); v != nil {
		return "", errors.New(v.Noun)
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

// noLinkOnTheWay refuses a target whose parents, or itself, are links: a
// member must never be written through a link an earlier member made.
func noLinkOnTheWay(root, target string) error {
	rel, err := filepath.Rel(root, target)
	if err != nil {
		return err
	}
	cur := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		st, err := os.Lstat(cur)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if st.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("it would be written through the link %s", cur)
		}
	}
	return nil
}

func writeFile(target string, r io.Reader, hdr *tar.Header) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if hdr.Mode&0o111 != 0 {
		mode = 0o755
	}
	// O_EXCL: a member never overwrites, so never follows, what is there.
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return &UnsafeError{hdr.Name, fmt.Sprintf("cannot create it: %v", err)}
	}
	n, err := io.Copy(f, io.LimitReader(r, hdr.Size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != hdr.Size {
		err = fmt.Errorf("%s: truncated", hdr.Name)
	}
	if err != nil {
		return err
	}
	// Keep the member's time: autotools trees rely on configure being no
	// older than configure.ac, or make tries to regenerate it.
	return os.Chtimes(target, hdr.ModTime, hdr.ModTime)
}

func typeName(t byte) string {
	switch t {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "fifo"
	default:
		return fmt.Sprintf("member of type %q", t)
	}
}

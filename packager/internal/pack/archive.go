// Package pack turns each staged tree into its release archive: tar.gz for
// Linux and macOS, zip for Windows. Determinism is a property of the writers
// here, not a flag: entries sorted, one fixed mtime, uid and gid 0, modes
// 0755 or 0644, no PAX records, no name or time in the gzip header. The same
// tree and time always give the same bytes.
package pack

import (
	"archive/tar"
	"archive/zip"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// compressionLevel is deflate's default, 6: on tern's binaries level 9 saves
// 0.6% of the download and costs three times the time (bench/packaging.go).
const compressionLevel = flate.DefaultCompression

// File is one member of an archive, from disk (Src) or memory (Data). A
// name ending in "/" is a directory.
type File struct {
	Name string // slash path inside the archive
	Src  string // file on disk; empty for directories and for Data
	Data []byte // contents made in memory, when Src is empty
	Mode int64  // 0755 or 0644 (01777 for a sticky directory)
	Size int64  // of Src; Tree fills it, WriteTar stats Src when it is 0
}

func (f File) isDir() bool { return strings.HasSuffix(f.Name, "/") }

// Tree lists a staged tree, sorted, with normalised modes and names relative
// to it: the one walk behind the archives, the npm packages and the image
// layer. Anything but regular files and directories (links, devices) is
// refused: a staged tree never holds them.
func Tree(tree string) ([]File, error) {
	var list []File
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(tree, p)
		if err != nil || rel == "." {
			return err
		}
		name := filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			list = append(list, File{Name: name + "/", Mode: 0o755})
		case info.Mode().IsRegular():
			mode := int64(0o644)
			if info.Mode()&0o111 != 0 {
				mode = 0o755
			}
			list = append(list, File{Name: name, Src: p, Mode: mode, Size: info.Size()})
		default:
			return fmt.Errorf("%s is a %s; a staged tree holds only files and directories", p, info.Mode().Type())
		}
		return nil
	})
	// WalkDir visits in lexical order, so list is sorted by name already.
	return list, err
}

// entries lists a tree under prefix/, the directory every archive entry
// sits under.
func entries(tree, prefix string) ([]File, error) {
	files, err := Tree(tree)
	if err != nil {
		return nil, err
	}
	list := []File{{Name: prefix + "/", Mode: 0o755}}
	for _, f := range files {
		f.Name = prefix + "/" + f.Name // Tree's names are clean and relative
		list = append(list, f)
	}
	return list, nil
}

// WriteTarGz writes files, in the order given, as a gzip-compressed
// normalised tar: the header carries no name and no time, OS "unknown".
func WriteTarGz(w io.Writer, files []File, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, compressionLevel)
	if err != nil {
		return err
	}
	if err := WriteTar(gz, files, mtime); err != nil {
		return err
	}
	return gz.Close()
}

// WriteTar writes files, in the order given, as a ustar archive with every
// entry at mtime, owned by uid and gid 0, and no PAX records, so no extra
// times.
func WriteTar(w io.Writer, files []File, mtime time.Time) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		hdr := &tar.Header{
			Name:     f.Name,
			Mode:     f.Mode,
			ModTime:  mtime.UTC().Truncate(time.Second),
			Format:   tar.FormatUSTAR,
			Typeflag: tar.TypeDir,
		}
		if !f.isDir() {
			size, err := f.size()
			if err != nil {
				return err
			}
			hdr.Typeflag, hdr.Size = tar.TypeReg, size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if err := copyFrom(tw, f); err != nil {
			return err
		}
	}
	return tw.Close()
}

func (f File) size() (int64, error) {
	switch {
	case f.Src == "":
		return int64(len(f.Data)), nil
	case f.Size > 0:
		return f.Size, nil
	}
	st, err := os.Stat(f.Src)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// writeZip writes the entries as a zip archive with Unix modes recorded.
func writeZip(w io.Writer, list []File, mtime time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, compressionLevel)
	})
	for _, e := range list {
		hdr := &zip.FileHeader{
			Name:     e.Name,
			Method:   zip.Deflate,
			Modified: mtime.UTC().Truncate(time.Second),
		}
		mode := fs.FileMode(e.Mode)
		if e.isDir() {
			hdr.Method = zip.Store
			mode |= fs.ModeDir
		}
		hdr.SetMode(mode)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		if err := copyFrom(fw, e); err != nil {
			return err
		}
	}
	return zw.Close()
}

func copyFrom(w io.Writer, f File) error {
	if f.Src == "" {
		_, err := w.Write(f.Data)
		return err
	}
	want, err := f.size()
	if err != nil {
		return err
	}
	in, err := os.Open(f.Src)
	if err != nil {
		return err
	}
	defer in.Close()
	n, err := io.Copy(w, in)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Src, err)
	}
	if n != want {
		return fmt.Errorf("%s changed size while being archived", f.Src)
	}
	return nil
}

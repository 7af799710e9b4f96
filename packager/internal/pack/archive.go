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
	"path"
	"path/filepath"
	"strings"
	"time"
)

// compressionLevel is deflate's default, 6: on tern's binaries level 9 saves
// 0.6% of the download and costs three times the time (bench/packaging.go).
const compressionLevel = flate.DefaultCompression

// entry is one member of an archive.
type entry struct {
	name string // slash path inside the archive; directories end in "/"
	src  string // file on disk; empty for directories and for data
	data []byte // contents made in memory, when src is empty
	mode int64  // 0755 or 0644
	size int64
}

// File is a member given to WriteTarGz: from disk (Src) or memory (Data).
type File struct {
	Name string
	Src  string
	Data []byte
	Mode int64
}

// WriteTarGz writes files, in the order given, as a normalised tar.gz with
// every entry at mtime: the npm step uses it for npm's own layout.
func WriteTarGz(w io.Writer, files []File, mtime time.Time) error {
	list := make([]entry, 0, len(files))
	for _, f := range files {
		e := entry{name: f.Name, src: f.Src, data: f.Data, mode: f.Mode, size: int64(len(f.Data))}
		if f.Src != "" {
			st, err := os.Stat(f.Src)
			if err != nil {
				return err
			}
			e.size = st.Size()
		}
		list = append(list, e)
	}
	return writeTarGz(w, list, mtime)
}

// entries lists a tree under prefix, sorted, with normalised modes. Anything
// but regular files and directories (links, devices) is refused: a staged
// tree never holds them.
func entries(tree, prefix string) ([]entry, error) {
	list := []entry{{name: prefix + "/", mode: 0o755}}
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(tree, p)
		if err != nil || rel == "." {
			return err
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			list = append(list, entry{name: name + "/", mode: 0o755})
		case info.Mode().IsRegular():
			mode := int64(0o644)
			if info.Mode()&0o111 != 0 {
				mode = 0o755
			}
			list = append(list, entry{name: name, src: p, mode: mode, size: info.Size()})
		default:
			return fmt.Errorf("%s is a %s; a staged tree holds only files and directories", p, info.Mode().Type())
		}
		return nil
	})
	// WalkDir visits in lexical order, so list is sorted by name already.
	return list, err
}

// writeTarGz writes the entries as a gzip-compressed ustar archive.
func writeTarGz(w io.Writer, list []entry, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, compressionLevel)
	if err != nil {
		return err
	}
	// gzip.Header stays zero: no file name, no time, OS "unknown".
	tw := tar.NewWriter(gz)
	for _, e := range list {
		hdr := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Size:    e.size,
			ModTime: mtime.UTC().Truncate(time.Second),
			Format:  tar.FormatUSTAR, // no PAX records, so no extra times
		}
		if strings.HasSuffix(e.name, "/") {
			hdr.Typeflag = tar.TypeDir
		} else {
			hdr.Typeflag = tar.TypeReg
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		if err := copyFrom(tw, e); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// writeZip writes the entries as a zip archive with Unix modes recorded.
func writeZip(w io.Writer, list []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, compressionLevel)
	})
	for _, e := range list {
		hdr := &zip.FileHeader{
			Name:     e.name,
			Method:   zip.Deflate,
			Modified: mtime.UTC().Truncate(time.Second),
		}
		mode := fs.FileMode(e.mode)
		if strings.HasSuffix(e.name, "/") {
			hdr.Method = zip.Store
			mode |= fs.ModeDir
		}
		hdr.SetMode(mode)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		if err := copyFrom(fw, e); err != nil {
			return err
		}
	}
	return zw.Close()
}

func copyFrom(w io.Writer, e entry) error {
	if e.src == "" {
		_, err := w.Write(e.data)
		return err
	}
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err != nil {
		return fmt.Errorf("%s: %w", e.src, err)
	}
	if n != e.size {
		return fmt.Errorf("%s changed size while being archived", e.src)
	}
	return nil
}

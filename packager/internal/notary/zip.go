package notary

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strings"
	"time"
)

// zipEpoch stands in for a zero mtime: the earliest time a zip can hold.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// ZipBinary wraps one executable in a zip, the container Apple wants for
// a bare Mach-O. The bytes depend only on the arguments (and the Go
// release's deflate): one entry, mode 0755, the given mtime in UTC, no
// directory entry, no comment. Pass the release's commit time as mtime;
// a zero mtime becomes 1980-01-01.
func ZipBinary(name string, data []byte, mtime time.Time) ([]byte, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("zipping for notarization: entry name %q must be a bare file name, such as the binary's name", name)
	}
	if mtime.IsZero() || mtime.Before(zipEpoch) {
		mtime = zipEpoch
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mtime.UTC().Truncate(time.Second)}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, fmt.Errorf("zipping %s for notarization: %w", name, err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("zipping %s for notarization: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zipping %s for notarization: %w", name, err)
	}
	return buf.Bytes(), nil
}

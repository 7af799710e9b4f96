// Package arfile reads ar archives, the container a .deb is (deb(5)): the
// magic "!<arch>\n", then each member under a 60-byte header, its data
// padded to an even length. The release's apt repository (package aptrepo)
// and its gate (package verify) both read .debs through it.
package arfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Reader reads an ar archive one member at a time, as archive/tar does:
// Next moves to a member, Read reads it.
type Reader struct {
	r    *bufio.Reader
	body *io.LimitedReader // the current member's data
	name string
	size int64
}

// NewReader checks the archive's magic.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != "!<arch>\n" {
		return nil, errors.New("not an ar archive (no !<arch> magic)")
	}
	return &Reader{r: br}, nil
}

// Next skips what is left of the current member and reads the next one's
// header. It returns io.EOF after the last member, and an error for a
// member cut short, so that a truncated archive never reads as whole.
func (a *Reader) Next() (name string, size int64, err error) {
	if err := a.finish(); err != nil {
		return "", 0, err
	}
	hdr := make([]byte, 60)
	if _, err := io.ReadFull(a.r, hdr); err == io.EOF {
		return "", 0, io.EOF
	} else if err != nil {
		return "", 0, fmt.Errorf("ar header: %v", err)
	}
	if string(hdr[58:60]) != "`\n" {
		return "", 0, errors.New("a broken ar header")
	}
	// GNU ar ends a name with "/"; BSD ar pads it with spaces.
	name = strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
	size, err = strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
	if err != nil || size < 0 {
		return "", 0, fmt.Errorf("ar member %s has a bad size %q", name, hdr[48:58])
	}
	a.name, a.size = name, size
	a.body = &io.LimitedReader{R: a.r, N: size}
	return name, size, nil
}

// Read reads the current member's data.
func (a *Reader) Read(p []byte) (int, error) {
	if a.body == nil {
		return 0, io.EOF
	}
	return a.body.Read(p)
}

// finish reads the current member to its end and past its padding.
func (a *Reader) finish() error {
	if a.body == nil {
		return nil
	}
	if _, err := io.Copy(io.Discard, a.body); err != nil {
		return err
	}
	if a.body.N > 0 {
		return fmt.Errorf("ar member %s is cut short: %d of its %d bytes are missing", a.name, a.body.N, a.size)
	}
	a.body = nil
	if a.size%2 == 1 { // ar pads every member to an even size
		if _, err := a.r.Discard(1); err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

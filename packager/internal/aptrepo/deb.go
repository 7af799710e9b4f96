package aptrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/tern-agent/tern/packager/internal/arfile"
)

// Field is one field of a control paragraph, its value as written after
// "Name:" with continuation lines kept (a Description's long text).
type Field struct{ Name, Value string }

// Control is a .deb's control paragraph, fields in the order the package
// gives them: the Packages stanza repeats them in that order.
type Control []Field

// Get is a field's value with surrounding space trimmed, or "".
func (c Control) Get(name string) string {
	for _, f := range c {
		if strings.EqualFold(f.Name, name) {
			return strings.TrimSpace(f.Value)
		}
	}
	return ""
}

// The shapes Debian policy gives the fields the index repeats, checked so
// a package name or an architecture is a plain word, never a path.
var (
	packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	archName    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	versionText = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~:-]*$`)
)

// ReadControl reads the control paragraph of the .deb at path: an ar
// archive whose control.tar(.gz|.xz|.zst) holds ./control. It checks the
// fields the repository files the package by.
func ReadControl(path string) (Control, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the package %s: %w", path, err)
	}
	defer f.Close()
	raw, err := controlFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s is not a readable .deb (check it with `dpkg-deb --info %s`): %w", path, path, err)
	}
	c, err := parseParagraph(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: its control file: %w", path, err)
	}
	var bad []string
	if p := c.Get("Package"); !packageName.MatchString(p) {
		bad = append(bad, fmt.Sprintf("Package %q is not a Debian package name", p))
	}
	if v := c.Get("Version"); !versionText.MatchString(v) {
		bad = append(bad, fmt.Sprintf("Version %q is not a Debian version", v))
	}
	if a := c.Get("Architecture"); !archName.MatchString(a) {
		bad = append(bad, fmt.Sprintf("Architecture %q is not a Debian architecture", a))
	}
	if s := sourceName(c); !packageName.MatchString(s) {
		bad = append(bad, fmt.Sprintf("Source %q is not a Debian package name", s))
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: %s", path, strings.Join(bad, "; "))
	}
	return c, nil
}

// sourceName is the source package a binary was built from: the
// Source field less any "(version)", else the package's own name.
func sourceName(c Control) string {
	if s := c.Get("Source"); s != "" {
		return strings.TrimSpace(strings.SplitN(s, " ", 2)[0])
	}
	return c.Get("Package")
}

// controlFile finds control.tar.* among the ar members and returns its
// ./control.
func controlFile(r io.Reader) ([]byte, error) {
	ar, err := arfile.NewReader(r)
	if err != nil {
		return nil, err
	}
	for {
		name, _, err := ar.Next()
		if err == io.EOF {
			return nil, errors.New("no control.tar member")
		}
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(name, "control.tar") {
			return controlFromTar(name, ar)
		}
	}
}

// maxControl bounds what a control file may hold: the paragraph is read
// into memory, and a real one is a few kilobytes.
const maxControl = 1 << 20

func controlFromTar(member string, r io.Reader) ([]byte, error) {
	var tr *tar.Reader
	switch path.Ext(member) {
	case ".tar":
		tr = tar.NewReader(r)
	case ".gz":
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
		tr = tar.NewReader(z)
	case ".xz":
		z, err := xz.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
		tr = tar.NewReader(z)
	case ".zst":
		z, err := zstd.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
		defer z.Close()
		tr = tar.NewReader(z)
	default:
		return nil, fmt.Errorf("%s: a compression dpkg does not write", member)
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s holds no ./control", member)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
		if path.Clean(strings.TrimPrefix(h.Name, "./")) != "control" || h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxControl+1))
		if err != nil {
			return nil, fmt.Errorf("%s: ./control: %w", member, err)
		}
		if len(b) > maxControl {
			return nil, fmt.Errorf("%s: ./control is larger than %d bytes", member, maxControl)
		}
		return b, nil
	}
}

// parseParagraph reads one deb822 paragraph: "Name: value" lines, each
// continued by lines that start with a space or a tab.
func parseParagraph(b []byte) (Control, error) {
	var c Control
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimRight(string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))), "\n"), "\n") {
		switch {
		case line == "":
			return nil, fmt.Errorf("line %d: a blank line inside the paragraph", i+1)
		case line[0] == ' ' || line[0] == '\t':
			if len(c) == 0 {
				return nil, fmt.Errorf("line %d: a continuation line before any field", i+1)
			}
			c[len(c)-1].Value += "\n" + line
		case line[0] == '#':
			continue
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				return nil, fmt.Errorf("line %d: %q is not a \"Name: value\" field", i+1, line)
			}
			if seen[strings.ToLower(name)] {
				return nil, fmt.Errorf("line %d: field %s given twice", i+1, name)
			}
			seen[strings.ToLower(name)] = true
			c = append(c, Field{Name: name, Value: strings.TrimLeft(value, " \t")})
		}
	}
	if len(c) == 0 {
		return nil, errors.New("an empty paragraph")
	}
	return c, nil
}

// parseParagraphs splits an index (Packages, Release) into paragraphs.
func parseParagraphs(b []byte) ([]Control, error) {
	var out []Control
	for _, p := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		c, err := parseParagraph([]byte(strings.Trim(p, "\n")))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

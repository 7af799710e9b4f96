package verify

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/tern-agent/tern/packager/internal/arfile"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
)

// A Linux package is checked against its target's archive, which the gate
// has already held to SHA256SUMS, its signature and the manifest: the
// binary and every helper must be the archive's byte for byte, the licence
// files must be there, the package must state its name, the release's
// version and the target's architecture, and it must neither install any
// other file (but a .deb's copyright, changelog and lintian overrides), nor
// make anything else executable, nor run a script as root when it is
// installed. The
// packages are read in Go, as dpkg, rpm and apk read them; nothing is
// extracted or run.

// rebuildRemedy ends every problem of a package's payload.
const rebuildRemedy = "build the packages again from the release's own trees (packager release)"

// pkgFile is one entry of a package's payload.
type pkgFile struct {
	perm uint32 // the permission bits, with setuid, setgid and sticky (07777)
	kind byte   // 'f' a regular file, 'd' a directory, 'l' a link, 'o' anything else
	link string // a link's target
	data []byte
}

// pkgPayload is what a package says of itself and what it installs.
type pkgPayload struct {
	name, version, arch string
	scripts             []string           // what it runs on install or removal
	files               map[string]pkgFile // by absolute, clean path
	problems            []string           // read, but inconsistent in itself
}

func (p *pkgPayload) add(name string, f pkgFile) {
	name = path.Clean("/" + strings.TrimPrefix(name, "./"))
	if p.files == nil {
		p.files = map[string]pkgFile{}
	}
	if _, twice := p.files[name]; twice && f.kind != 'd' {
		p.problems = append(p.problems, fmt.Sprintf("holds %s twice", name))
	}
	p.files[name] = f
}

// archiveTree is a target's archive as read back: each file's data by its
// path in the tree (bin/tern), without the archive's top directory.
type archiveTree struct {
	name  string // the archive's file name
	files map[string][]byte
	err   error
}

// archiveTreeOf reads t's archive as the manifest lists it.
func (c *checker) archiveTreeOf(m *manifest.Manifest, t config.Target) archiveTree {
	cfg := c.opts.Config
	name := layout.ArchiveName(cfg, m.Version, t)
	listed := false
	for _, a := range m.Artifacts {
		listed = listed || (a.Kind == "archive" && a.Name == name)
	}
	if !listed {
		return archiveTree{name: name, err: fmt.Errorf("%s lists no archive %s", layout.Manifest, name)}
	}
	members, err := readArchive(filepath.Join(c.dir, name), layout.FormatFor(t))
	if err != nil {
		return archiveTree{name: name, err: err}
	}
	prefix := layout.Prefix(cfg, m.Version, t) + "/"
	files := map[string][]byte{}
	for _, mb := range members {
		if rel, ok := strings.CutPrefix(mb.name, prefix); ok && !mb.dir && !mb.isLink && !mb.other {
			files[rel] = mb.data
		}
	}
	return archiveTree{name: name, files: files}
}

// linuxPackagePayload checks the package name, of format f for target t,
// against t's archive.
func (c *checker) linuxPackagePayload(m *manifest.Manifest, name string, f layout.LinuxFormat, t config.Target, v layout.LinuxVersion, arch layout.LinuxArch, tree archiveTree) {
	cfg := c.opts.Config
	var helpers []string
	for _, mt := range m.Targets {
		if mt.Name == t.Name {
			helpers = mt.Helpers
		}
	}
	if tree.err != nil {
		c.fail(name, "cannot be checked against %s's archive %s, which is unreadable (%v): %s", t.Name, tree.name, tree.err, rebuildRemedy)
		return
	}
	p, err := readLinuxPackage(filepath.Join(c.dir, name), f)
	if err != nil {
		c.fail(name, "is not a valid .%s: %v: %s", f, err, rebuildRemedy)
		return
	}
	for _, problem := range p.problems {
		c.fail(name, "%s: %s", problem, rebuildRemedy)
	}

	wantVersion := map[layout.LinuxFormat]string{layout.Deb: v.Deb, layout.RPM: v.RPM + "-" + v.RPMRelease, layout.APK: v.APK}[f]
	for _, field := range []struct{ what, got, want string }{
		{"name", p.name, cfg.Product},
		{"version", p.version, wantVersion},
		{"architecture", p.arch, arch.For(f)},
	} {
		if field.got != field.want {
			c.fail(name, "states the %s %q, want %q (%s, release %s): %s", field.what, field.got, field.want, t.Name, m.Version, rebuildRemedy)
		}
	}
	for _, s := range p.scripts {
		c.fail(name, "runs %s as root when installed or removed, which the packages the packager builds never do: %s", s, rebuildRemedy)
	}

	// What the tree holds, where the package must install it.
	executable := map[string]bool{}
	inTree := map[string]bool{}
	rels := layout.Tree(cfg, t, helpers)
	for _, rel := range rels {
		dst := layout.LinuxInstallPath(cfg, f, rel)
		inTree[dst] = true
		what := "file " + rel
		switch {
		case rel == layout.BinaryPath(cfg, t):
			what, executable[dst] = "binary", true
		case strings.HasPrefix(rel, cfg.HelperDir()+"/"):
			what, executable[dst] = "helper "+path.Base(rel), true
		case rel == layout.License || rel == layout.Notices:
			what = "licence file " + rel
		}
		got, ok := p.files[dst]
		switch {
		case !ok:
			c.fail(name, "lacks %s, the %s of %s: %s", dst, what, tree.name, rebuildRemedy)
			continue
		case got.kind != 'f':
			c.fail(name, "%s, the %s, is not a regular file: %s", dst, what, rebuildRemedy)
			continue
		case executable[dst] && got.perm&0o111 == 0:
			c.fail(name, "%s, the %s, is not executable (mode %o): %s", dst, what, got.perm, rebuildRemedy)
		}
		want, inArchive := tree.files[rel]
		if !inArchive || layout.IsManPage(rel) {
			// A file the archive lacks is the archive's problem; a man
			// page is installed gzipped, so its bytes differ by design.
			continue
		}
		if g, w := digest(got.data), digest(want); g != w {
			c.fail(name, "%s has sha256 %s, but %s in %s has sha256 %s: the package does not ship the released %s; %s",
				dst, g, rel, tree.name, w, what, rebuildRemedy)
		}
	}

	// Nothing else may run: no other executable, no setuid, no link, and
	// no file but the tree's and the .deb's own documentation, since what
	// lies in /etc/cron.d, /etc/profile.d or /etc/sudoers.d runs as root
	// with no exec bit.
	doc := path.Join("/usr/share/doc", cfg.Product) + "/"
	lintian := path.Join("/usr/share/lintian/overrides", cfg.Product)
	paths := make([]string, 0, len(p.files))
	for dst := range p.files {
		paths = append(paths, dst)
	}
	sort.Strings(paths)
	for _, dst := range paths {
		file := p.files[dst]
		switch {
		case file.kind == 'l':
			c.fail(name, "%s is a link to %s, but the packages hold none: %s", dst, file.link, rebuildRemedy)
		case file.kind == 'o':
			c.fail(name, "%s is a special file: %s", dst, rebuildRemedy)
		case file.perm&0o6000 != 0:
			c.fail(name, "%s is setuid or setgid (mode %o): %s", dst, file.perm, rebuildRemedy)
		case file.kind == 'f' && file.perm&0o111 != 0 && !executable[dst]:
			c.fail(name, "%s is executable (mode %o), but only the binary and its helpers may be: %s", dst, file.perm, rebuildRemedy)
		case file.kind == 'f' && !inTree[dst] && !strings.HasPrefix(dst, doc) && dst != lintian:
			c.fail(name, "%s is no file of %s, and the packages install nothing else (a file in /etc/cron.d, /etc/profile.d or /etc/sudoers.d runs as root without an exec bit): %s",
				dst, tree.name, rebuildRemedy)
		}
	}
}

// readLinuxPackage reads a package of format f.
func readLinuxPackage(p string, f layout.LinuxFormat) (*pkgPayload, error) {
	file, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	switch f {
	case layout.Deb:
		return readDeb(file)
	case layout.RPM:
		return readRPM(file)
	case layout.APK:
		return readAPK(file)
	}
	return nil, fmt.Errorf("no reader for format %q", f)
}

// decompress opens a compressed stream by the compressor's name or a file
// name's extension, failing past maxDecompressed bytes once decompressed.
func decompress(r io.Reader, compressor string) (io.Reader, func(), error) {
	var out io.Reader
	done := func() {}
	switch compressor {
	case "gzip", "gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		out = zr
	case "xz":
		in := &tailReader{r: r}
		zr, err := xz.NewReader(in)
		if err != nil {
			return nil, nil, err
		}
		out = &xzEnd{zr: zr, in: in}
	case "zstd", "zst":
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		out, done = zr, zr.Close
	case "", "tar":
		out = r
	default:
		return nil, nil, fmt.Errorf("compression %q is none of gzip, xz or zstd", compressor)
	}
	return &capped{r: out, left: maxDecompressed}, done, nil
}

// maxDecompressed bounds a decompressed stream (a variable for the tests).
var maxDecompressed int64 = maxMember

// capped reads r and fails once it yields more than left bytes. It never
// ends early as io.LimitReader does: a tar cut at the limit on an entry's
// boundary reads as a whole one, and what follows the limit (an extra
// executable, a setuid file) would go unseen while dpkg installs it.
type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if c.left -= int64(n); c.left < 0 {
		return 0, fmt.Errorf("it decompresses to more than %d bytes, the limit", maxDecompressed)
	}
	return n, err
}

// tailReader remembers the last two bytes read through it.
type tailReader struct {
	r    io.Reader
	tail [2]byte
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	switch {
	case n >= 2:
		copy(t.tail[:], p[n-2:n])
	case n == 1:
		t.tail = [2]byte{t.tail[1], p[0]}
	}
	return n, err
}

// xzEnd is an xz reader that holds the stream to its footer, which ends in
// "YZ": github.com/ulikunitz/xz reports a stream cut right after a block,
// before its index, as a clean end.
type xzEnd struct {
	zr io.Reader
	in *tailReader
}

func (x *xzEnd) Read(p []byte) (int, error) {
	n, err := x.zr.Read(p)
	if err == io.EOF && string(x.in.tail[:]) != "YZ" {
		err = errors.New("the xz stream ends without its footer: it is cut short")
	}
	return n, err
}

// readTarInto hands each entry of a tar stream to each. A stream with no
// end blocks, as each of an apk's but the last, ends at its last entry
// (archive/tar's io.EOF at a header's start); one cut inside a header or a
// file is an error.
func readTarInto(r io.Reader, each func(hdr *tar.Header, data []byte) error) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a valid tar: %v", err)
		}
		var data []byte
		if hdr.Typeflag == tar.TypeReg {
			if hdr.Size > maxMember {
				return fmt.Errorf("member %s is %d bytes, over the %d limit", hdr.Name, hdr.Size, maxMember)
			}
			if data, err = io.ReadAll(tr); err != nil {
				return fmt.Errorf("member %s: %v", hdr.Name, err)
			}
		}
		if err := each(hdr, data); err != nil {
			return err
		}
	}
}

// tarFile is a tar entry as a payload file.
func tarFile(hdr *tar.Header, data []byte) pkgFile {
	f := pkgFile{perm: uint32(hdr.Mode) & 0o7777, data: data}
	switch hdr.Typeflag {
	case tar.TypeReg:
		f.kind = 'f'
	case tar.TypeDir:
		f.kind = 'd'
	case tar.TypeSymlink, tar.TypeLink:
		f.kind, f.link = 'l', hdr.Linkname
	default:
		f.kind = 'o'
	}
	return f
}

// readDeb reads a .deb: an ar archive of debian-binary, control.tar.* and
// data.tar.*, each tar compressed as its extension says.
func readDeb(r io.Reader) (*pkgPayload, error) {
	ar, err := arfile.NewReader(r)
	if err != nil {
		return nil, err
	}
	p := &pkgPayload{}
	// dpkg reads debian-binary, then control.tar.*, then data.tar.*,
	// skipping members whose name starts with "_", and refuses any other
	// order; a member after data.tar is refused too, so that what is read
	// here is what dpkg installs.
	var sawControl, sawData, sawVersion bool
	for {
		name, size, err := ar.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		if size > maxMember {
			return nil, fmt.Errorf("ar member %s has a bad size %d, over the %d limit", name, size, maxMember)
		}
		switch {
		case !sawVersion:
			v, _ := readExactly(ar, min(size, 64))
			if name != "debian-binary" || !bytes.HasPrefix(v, []byte("2.")) {
				return nil, fmt.Errorf("the first member is %s holding %q, not debian-binary holding 2.0, which dpkg requires", name, v)
			}
			sawVersion = true
		case strings.HasPrefix(name, "_"):
		case sawData:
			return nil, fmt.Errorf("a member %s follows data.tar, where a .deb ends", name)
		case !sawControl && strings.HasPrefix(name, "control.tar"):
			sawControl = true
			err = readDebTar(ar, strings.TrimPrefix(strings.TrimPrefix(name, "control.tar"), "."), func(hdr *tar.Header, data []byte) error {
				switch base := path.Base(hdr.Name); {
				case hdr.Typeflag == tar.TypeDir:
				case base == "control":
					fields := debControl(data)
					p.name, p.version, p.arch = fields["Package"], fields["Version"], fields["Architecture"]
				case base == "md5sums" || base == "conffiles":
				default:
					// preinst, postinst, prerm, postrm, config, triggers…
					p.scripts = append(p.scripts, "the control member "+base)
				}
				return nil
			})
		case sawControl && strings.HasPrefix(name, "data.tar"):
			sawData = true
			err = readDebTar(ar, strings.TrimPrefix(strings.TrimPrefix(name, "data.tar"), "."), func(hdr *tar.Header, data []byte) error {
				if hdr.Name != "./" && hdr.Name != "." {
					p.add(hdr.Name, tarFile(hdr, data))
				}
				return nil
			})
		default:
			return nil, fmt.Errorf("a member %s where dpkg expects %s", name, map[bool]string{false: "control.tar.*", true: "data.tar.*"}[sawControl])
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	if !sawControl || !sawData {
		return nil, errors.New("no control.tar or no data.tar member")
	}
	return p, nil
}

func readDebTar(r io.Reader, compressor string, each func(*tar.Header, []byte) error) error {
	plain, done, err := decompress(r, compressor)
	if err != nil {
		return err
	}
	defer done()
	if err := readTarInto(plain, each); err != nil {
		return err
	}
	return drain(plain)
}

// drain reads a decompressed stream to its end, past the end of the tar or
// cpio archive in it, so that the compressor's own end (gzip's CRC and
// length, xz's and zstd's checks) is read and checked: a package cut there
// is cut, however complete its archive looks.
func drain(plain io.Reader) error {
	if _, err := io.Copy(io.Discard, plain); err != nil {
		return fmt.Errorf("after the archive's end: %v", err)
	}
	return nil
}

// debControl is a control file's fields; continuation lines are dropped.
func debControl(data []byte) map[string]string {
	fields := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields
}

// The RPM header tags read here (rpm's lib/rpmtag.h).
const (
	rpmTagName              = 1000
	rpmTagVersion           = 1001
	rpmTagRelease           = 1002
	rpmTagArch              = 1022
	rpmTagFileModes         = 1030
	rpmTagFileDigests       = 1035
	rpmTagFileLinkTos       = 1036
	rpmTagFileFlags         = 1037
	rpmTagDirIndexes        = 1116
	rpmTagBaseNames         = 1117
	rpmTagDirNames          = 1118
	rpmTagPayloadFormat     = 1124
	rpmTagPayloadCompressor = 1125
	rpmTagFileDigestAlgo    = 5011
	rpmFileGhost            = 1 << 6 // RPMFILE_GHOST: listed, not in the payload
)

// rpmScriptTags are the scriptlets rpm runs as root, by tag.
var rpmScriptTags = map[uint32]string{
	1023: "%pre", 1024: "%post", 1025: "%preun", 1026: "%postun", 1065: "a trigger", 1079: "%verifyscript",
	1151: "%pretrans", 1152: "%posttrans", 5020: "a file trigger", 5024: "a transaction file trigger",
}

// rpmScriptProgs are the programs a scriptlet runs (%post -p <prog>), by
// tag, with their scriptlet's tag: a program alone runs too.
var rpmScriptProgs = map[uint32]uint32{1085: 1023, 1086: 1024, 1087: 1025, 1088: 1026, 1153: 1151, 1154: 1152}

// rpmHeader is a header structure's index and data store.
type rpmHeader struct {
	entries map[uint32][4]uint32 // tag → type, offset, count
	store   []byte
}

// readRPMHeader reads a header structure: magic, index, store.
func readRPMHeader(r io.Reader) (rpmHeader, int, error) {
	intro := make([]byte, 16)
	if _, err := io.ReadFull(r, intro); err != nil {
		return rpmHeader{}, 0, fmt.Errorf("header: %v", err)
	}
	if !bytes.Equal(intro[:4], []byte{0x8e, 0xad, 0xe8, 0x01}) {
		return rpmHeader{}, 0, errors.New("no header magic")
	}
	n, size := binary.BigEndian.Uint32(intro[8:12]), binary.BigEndian.Uint32(intro[12:16])
	if n > 1<<16 || size > 64<<20 {
		return rpmHeader{}, 0, fmt.Errorf("a header of %d entries and %d bytes is too large", n, size)
	}
	index, err := readExactly(r, 16*int64(n))
	if err != nil {
		return rpmHeader{}, 0, fmt.Errorf("header index of %d entries: %v", n, err)
	}
	store, err := readExactly(r, int64(size))
	if err != nil {
		return rpmHeader{}, 0, fmt.Errorf("header store of %d bytes: %v", size, err)
	}
	h := rpmHeader{entries: map[uint32][4]uint32{}, store: store}
	for i := 0; i < int(n); i++ {
		e := index[16*i:]
		h.entries[binary.BigEndian.Uint32(e)] = [4]uint32{binary.BigEndian.Uint32(e[4:]), binary.BigEndian.Uint32(e[8:]), binary.BigEndian.Uint32(e[12:])}
	}
	return h, 16 + len(index) + len(store), nil
}

// strings is a STRING, STRING_ARRAY or I18NSTRING entry's strings.
func (h rpmHeader) strings(tag uint32) ([]string, error) {
	e, ok := h.entries[tag]
	if !ok {
		return nil, nil
	}
	if e[0] != 6 && e[0] != 8 && e[0] != 9 {
		return nil, fmt.Errorf("tag %d is of type %d, not a string", tag, e[0])
	}
	if int64(e[1]) > int64(len(h.store)) || e[2] > uint32(len(h.store)) {
		return nil, fmt.Errorf("tag %d points outside the header", tag)
	}
	rest := h.store[e[1]:]
	var out []string
	for i := uint32(0); i < e[2]; i++ {
		end := bytes.IndexByte(rest, 0)
		if end < 0 {
			return nil, fmt.Errorf("tag %d runs past the header", tag)
		}
		out = append(out, string(rest[:end]))
		rest = rest[end+1:]
	}
	return out, nil
}

func (h rpmHeader) str(tag uint32) string {
	s, _ := h.strings(tag)
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// ints is an INT16 or INT32 entry's numbers.
func (h rpmHeader) ints(tag uint32) ([]uint32, error) {
	e, ok := h.entries[tag]
	if !ok {
		return nil, nil
	}
	width := map[uint32]uint32{3: 2, 4: 4}[e[0]]
	if width == 0 {
		return nil, fmt.Errorf("tag %d is of type %d, not a number", tag, e[0])
	}
	if uint64(e[1])+uint64(e[2])*uint64(width) > uint64(len(h.store)) {
		return nil, fmt.Errorf("tag %d points outside the header", tag)
	}
	out := make([]uint32, e[2])
	for i := range out {
		at := e[1] + uint32(i)*width
		if width == 2 {
			out[i] = uint32(binary.BigEndian.Uint16(h.store[at:]))
		} else {
			out[i] = binary.BigEndian.Uint32(h.store[at:])
		}
	}
	return out, nil
}

// readExactly reads n bytes of r, or fails with io.ErrUnexpectedEOF. The
// memory grows with the bytes that arrive, not with n: n is what a hostile
// header claims, and a few bytes claiming 500 MB must not cost 500 MB.
func readExactly(r io.Reader, n int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, n))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) < n {
		return nil, io.ErrUnexpectedEOF
	}
	return data, nil
}

// readRPM reads an .rpm: the lead, the signature header (padded to 8
// bytes), the header, and the payload, a compressed cpio archive. The
// files are the header's list, with the modes rpm installs them with; their
// bytes are the payload's, which must match the header's digests, as rpm
// refuses a payload that does not.
func readRPM(r io.Reader) (*pkgPayload, error) {
	br := bufio.NewReader(r)
	lead := make([]byte, 96)
	if _, err := io.ReadFull(br, lead); err != nil || !bytes.Equal(lead[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, errors.New("no rpm lead")
	}
	_, n, err := readRPMHeader(br)
	if err != nil {
		return nil, fmt.Errorf("signature %v", err)
	}
	if pad := (8 - n%8) % 8; pad > 0 {
		if _, err := br.Discard(pad); err != nil {
			return nil, err
		}
	}
	h, _, err := readRPMHeader(br)
	if err != nil {
		return nil, err
	}
	p := &pkgPayload{name: h.str(rpmTagName), arch: h.str(rpmTagArch)}
	p.version = h.str(rpmTagVersion) + "-" + h.str(rpmTagRelease)
	tags := make([]uint32, 0, len(rpmScriptTags)+len(rpmScriptProgs))
	for tag := range rpmScriptTags {
		tags = append(tags, tag)
	}
	for tag := range rpmScriptProgs {
		tags = append(tags, tag)
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	for _, tag := range tags {
		if _, ok := h.entries[tag]; !ok {
			continue
		}
		if script, isProg := rpmScriptProgs[tag]; !isProg {
			p.scripts = append(p.scripts, "the scriptlet "+rpmScriptTags[tag])
		} else if _, withScript := h.entries[script]; !withScript {
			p.scripts = append(p.scripts, "the program "+h.str(tag)+" as the scriptlet "+rpmScriptTags[script])
		}
	}

	base, err1 := h.strings(rpmTagBaseNames)
	dirs, err2 := h.strings(rpmTagDirNames)
	dirIndex, err3 := h.ints(rpmTagDirIndexes)
	modes, err4 := h.ints(rpmTagFileModes)
	digests, err5 := h.strings(rpmTagFileDigests)
	links, err6 := h.strings(rpmTagFileLinkTos)
	flags, err7 := h.ints(rpmTagFileFlags)
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
		return nil, err
	}
	if len(dirIndex) != len(base) || len(modes) != len(base) || (len(digests) != 0 && len(digests) != len(base)) {
		return nil, errors.New("the header's file lists differ in length")
	}
	// PGPHASHALGO_SHA256 is 8; rpmpack repeats it once per file.
	algo, _ := h.ints(rpmTagFileDigestAlgo)
	for _, a := range algo {
		if a != 8 && len(digests) > 0 {
			return nil, fmt.Errorf("the file digests are not sha256 (algorithm %v)", algo)
		}
	}
	if len(algo) == 0 && len(digests) > 0 {
		return nil, errors.New("the file digests are md5 (no FILEDIGESTALGO): rpm 4.6 and later write sha256")
	}

	format, compressor := h.str(rpmTagPayloadFormat), h.str(rpmTagPayloadCompressor)
	if format != "cpio" && format != "" {
		return nil, fmt.Errorf("the payload is %q, not cpio", format)
	}
	plain, done, err := decompress(br, compressor)
	if err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	defer done()
	// Decompressed whole, to the compressor's end: xz's reader reports a
	// stream cut in its index only to a reader that reads on past the data.
	raw, err := io.ReadAll(plain)
	if err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	payload, err := readCPIO(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}

	for i, b := range base {
		if int(dirIndex[i]) >= len(dirs) {
			return nil, fmt.Errorf("file %s names directory %d of %d", b, dirIndex[i], len(dirs))
		}
		name := path.Clean("/" + dirs[dirIndex[i]] + b)
		mode := modes[i]
		f := pkgFile{perm: mode & 0o7777}
		switch mode & 0o170000 {
		case 0o100000:
			f.kind = 'f'
			data, inPayload := payload[name]
			ghost := i < len(flags) && flags[i]&rpmFileGhost != 0
			if !inPayload && !ghost {
				p.problems = append(p.problems, fmt.Sprintf("lists %s, which its payload lacks", name))
			}
			f.data = data
			if inPayload && len(digests) > 0 && digest(data) != digests[i] {
				p.problems = append(p.problems, fmt.Sprintf("%s has sha256 %s in the payload, but the header says %s, which rpm would refuse", name, digest(data), digests[i]))
			}
		case 0o040000:
			f.kind = 'd'
		case 0o120000:
			f.kind = 'l'
			if i < len(links) {
				f.link = links[i]
			}
		default:
			f.kind = 'o'
		}
		p.add(name, f)
	}
	return p, nil
}

// readCPIO reads a cpio archive in the SVR4 format rpm writes (070701, or
// 070702 with checksums): each regular file's data by absolute path.
func readCPIO(r io.Reader) (map[string][]byte, error) {
	br := bufio.NewReader(r)
	out := map[string][]byte{}
	pad := func(n int64) error {
		if rem := n % 4; rem != 0 {
			_, err := br.Discard(int(4 - rem))
			return err
		}
		return nil
	}
	for {
		hdr := make([]byte, 110)
		if _, err := io.ReadFull(br, hdr); err != nil {
			return nil, fmt.Errorf("cpio header: %v", err)
		}
		if m := string(hdr[:6]); m != "070701" && m != "070702" {
			return nil, fmt.Errorf("cpio magic %q is not SVR4's", m)
		}
		field := func(i int) (int64, error) {
			return strconv.ParseInt(string(hdr[6+8*i:14+8*i]), 16, 64)
		}
		mode, err1 := field(1)
		size, err2 := field(6)
		nameSize, err3 := field(11)
		if err := errors.Join(err1, err2, err3); err != nil || nameSize < 1 || nameSize > 4096 || size < 0 || size > maxMember {
			return nil, errors.New("a broken cpio header")
		}
		name := make([]byte, nameSize)
		if _, err := io.ReadFull(br, name); err != nil {
			return nil, err
		}
		if err := pad(110 + nameSize); err != nil {
			return nil, err
		}
		n := strings.TrimSuffix(string(name), "\x00")
		if n == "TRAILER!!!" {
			return out, nil
		}
		data, err := readExactly(br, size)
		if err != nil {
			return nil, fmt.Errorf("cpio member %s: %v", n, err)
		}
		if err := pad(size); err != nil {
			return nil, err
		}
		if mode&0o170000 == 0o100000 {
			out[path.Clean("/"+strings.TrimPrefix(n, "./"))] = data
		}
	}
}

// readAPK reads an .apk: gzip streams, one after the other, each a tar
// without end blocks but the last: the signature (when signed), the
// control stream with .PKGINFO and any install scripts, then the data.
func readAPK(r io.Reader) (*pkgPayload, error) {
	br := bufio.NewReader(r)
	var streams [][]byte
	for {
		if _, err := br.Peek(1); err == io.EOF {
			break
		}
		if len(streams) == 3 {
			return nil, errors.New("gzip stream 4: an apk holds at most 3 (a signature, the control and the data)")
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip stream %d: %v", len(streams)+1, err)
		}
		zr.Multistream(false)
		plain, err := io.ReadAll(&capped{r: zr, left: maxDecompressed})
		if err != nil {
			return nil, fmt.Errorf("gzip stream %d: %v", len(streams)+1, err)
		}
		streams = append(streams, plain)
	}
	if len(streams) < 2 {
		return nil, fmt.Errorf("%d gzip streams, want the control and the data (and a signature)", len(streams))
	}
	p := &pkgPayload{}
	data := streams[len(streams)-1]
	for _, s := range streams[:len(streams)-1] {
		err := readTarInto(bytes.NewReader(s), func(hdr *tar.Header, body []byte) error {
			switch name := path.Base(hdr.Name); {
			case strings.HasPrefix(name, ".SIGN."):
			case name == ".PKGINFO":
				for _, line := range strings.Split(string(body), "\n") {
					k, v, _ := strings.Cut(line, " = ")
					switch k {
					case "pkgname":
						p.name = v
					case "pkgver":
						p.version = v
					case "arch":
						p.arch = v
					}
				}
			default:
				// .pre-install, .post-install, .trigger…
				p.scripts = append(p.scripts, "the control member "+name)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	err := readTarInto(bytes.NewReader(data), func(hdr *tar.Header, body []byte) error {
		p.add(hdr.Name, tarFile(hdr, body))
		return nil
	})
	return p, err
}

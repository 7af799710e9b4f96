package verify

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/safeextract"
	"github.com/tern-agent/tern/packager/internal/stamp"
)

// maxMember bounds how much of one archive member is read into memory.
const maxMember = 512 << 20

// member is one archive entry as read back.
type member struct {
	name   string
	dir    bool
	link   string // a link's target; empty for files and directories
	mode   fs.FileMode
	owner  int // uid+gid, 0 when both are root
	data   []byte
	isLink bool
	other  bool // a device, fifo or anything else
}

func (c *checker) archives(m *manifest.Manifest) {
	cfg := c.opts.Config
	seen := map[string]bool{}
	for _, a := range m.Artifacts {
		if a.Kind != "archive" {
			continue
		}
		t, ok := cfg.Target(a.Target)
		if !ok {
			c.fail(a.Name, "is for target %q, which release.yaml does not have", a.Target)
			continue
		}
		seen[t.Name] = true
		if want := layout.ArchiveName(cfg, m.Version, t); a.Name != want {
			c.fail(a.Name, "should be named %s", want)
			continue
		}
		members, err := readArchive(filepath.Join(c.dir, a.Name), layout.FormatFor(t))
		if err != nil {
			c.fail(a.Name, "%v", err)
			continue
		}
		c.tree(a, t, m, members)
	}
	for _, t := range cfg.Targets {
		if !seen[t.Name] {
			c.fail(layout.Manifest, "lists no archive for target %s", t.Name)
		}
	}
}

// tree checks that the members are exactly the target's staged tree.
func (c *checker) tree(a manifest.Artifact, t config.Target, m *manifest.Manifest, members []member) {
	cfg := c.opts.Config
	prefix := layout.Prefix(cfg, m.Version, t)
	var helpers []string
	for _, mt := range m.Targets {
		if mt.Name == t.Name {
			helpers = mt.Helpers
		}
	}
	wantFiles := map[string]bool{}
	wantDirs := map[string]bool{prefix + "/": true}
	for _, f := range layout.Tree(cfg, t, helpers) {
		full := path.Join(prefix, f)
		wantFiles[full] = true
		for d := path.Dir(full); d != prefix; d = path.Dir(d) {
			wantDirs[d+"/"] = true
		}
	}
	binName := path.Join(prefix, "bin", cfg.BinaryName(t))

	got := map[string]bool{}
	var binData []byte
	shipped := map[string]string{} // helper name → digest of the member
	for _, mb := range members {
		name := mb.name
		if v := safeextract.CheckName(name); v != nil {
			c.fail(a.Name, "member %q %s", name, v.Verb)
			continue
		}
		if mb.isLink {
			if safeextract.LinkLeaves(prefix, name, mb.link) {
				c.fail(a.Name, "member %s is a link leading out of the tree, to %s", name, mb.link)
			} else {
				c.fail(a.Name, "member %s is a link; a release tree holds none", name)
			}
			continue
		}
		if mb.other {
			c.fail(a.Name, "member %s is a special file", name)
			continue
		}
		if got[name] {
			c.fail(a.Name, "member %s appears twice", name)
		}
		got[name] = true
		if mb.owner != 0 {
			c.fail(a.Name, "member %s is not owned by uid 0 and gid 0", name)
		}
		switch {
		case mb.dir:
			if !wantDirs[name] {
				c.fail(a.Name, "unexpected directory %s", name)
			} else if mb.mode != 0o755 {
				c.fail(a.Name, "directory %s has mode %o, want 755", name, mb.mode)
			}
		case !wantFiles[name]:
			c.fail(a.Name, "unexpected file %s", name)
		default:
			wantMode := fs.FileMode(0o644)
			if name == binName || strings.HasPrefix(name, path.Join(prefix, cfg.HelperDir())+"/") {
				wantMode = 0o755
			}
			if mb.mode != wantMode {
				c.fail(a.Name, "%s has mode %o, want %o", name, mb.mode, wantMode)
			}
		}
		if name == binName {
			c.binary(a, t, m.Version, mb.data)
			binData = mb.data
		}
		if dst, ok := strings.CutPrefix(name, prefix+"/"); ok && !mb.dir && isExtraFile(cfg, dst) {
			c.sameExtraFile(a.Name, dst, digest(mb.data))
		}
		if dir, h := path.Split(name); dir == path.Join(prefix, cfg.HelperDir())+"/" && !mb.dir {
			shipped[h] = digest(mb.data)
		}
		for _, h := range a.Helpers {
			if name == path.Join(prefix, cfg.HelperDir(), h.Name) && digest(mb.data) != h.SHA256 {
				c.fail(a.Name, "helper %s has sha256 %s, %s says %s", h.Name, digest(mb.data), layout.Manifest, h.SHA256)
			}
		}
	}
	if binData != nil {
		c.stampedHelpers(a, path.Join(prefix, cfg.HelperDir()), binData, shipped)
	}
	for _, set := range []map[string]bool{wantFiles, wantDirs} {
		for name := range set {
			if !got[name] {
				c.fail(a.Name, "lacks %s", name)
			}
		}
	}
}

func isExtraFile(cfg *config.Config, dst string) bool {
	for _, f := range cfg.Files {
		if f.Dst == dst {
			return true
		}
	}
	return false
}

// sameExtraFile checks that an extra file of release.yaml's files: is the
// same in every archive, as every door ships one staged copy of it.
func (c *checker) sameExtraFile(archive, dst, sum string) {
	if c.extraFiles == nil {
		c.extraFiles = map[string][2]string{}
	}
	first, seen := c.extraFiles[dst]
	if !seen {
		c.extraFiles[dst] = [2]string{archive, sum}
		return
	}
	if first[1] != sum {
		c.fail(archive, "%s has sha256 %s, but %s's has %s: release.yaml's files ship one file alike in every tree", dst, sum, first[0], first[1])
	}
}

// binary checks the executable's digest, format, architecture and version.
func (c *checker) binary(a manifest.Artifact, t config.Target, version string, data []byte) {
	if a.Binary == nil {
		c.fail(a.Name, "%s records no binary digest", layout.Manifest)
	} else if got := digest(data); got != a.Binary.SHA256 {
		c.fail(a.Name, "binary sha256 is %s, %s says %s", got, layout.Manifest, a.Binary.SHA256)
	}
	if err := checkArch(data, t); err != nil {
		c.fail(a.Name, "binary %v", err)
	}
	c.platformSignature(a, t, version, data)
	if !c.opts.Config.UsesStamp() {
		c.versionCheck(a, t, version, data)
		return
	}
	st, err := stamp.Read(data)
	if err != nil {
		c.fail(a.Name, "binary %v", err)
		return
	}
	if st.Version != version {
		c.fail(a.Name, "binary is stamped with version %q, the release is %s", st.Version, version)
	}
}

// checkArch reads the executable's headers and compares them with t: the
// format of its OS, its machine, and for ELF the class, byte order and OS
// ABI; for arm, the ARM version Go recorded in the binary's build info
// (Go writes the same EABI flags for every GOARM).
func checkArch(data []byte, t config.Target) error {
	r := bytes.NewReader(data)
	switch t.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		f, err := elf.NewFile(r)
		if err != nil {
			return fmt.Errorf("is not an ELF executable, as %s needs: %v", t.Name, err)
		}
		want, ok := elfArchs[t.GOARCH]
		if !ok {
			return fmt.Errorf("has an architecture verify does not know: %s", t.GOARCH)
		}
		switch {
		case f.Machine != want.machine:
			return fmt.Errorf("is built for %v, not %s (%v)", f.Machine, t.Name, want.machine)
		case f.Class != want.class || f.Data != want.data:
			return fmt.Errorf("is a %v %v executable, not %s (%v %v)", f.Class, f.Data, t.Name, want.class, want.data)
		}
		if abi := elfOSABI[t.GOOS]; f.OSABI != abi && !(t.GOOS == "linux" && f.OSABI == elf.ELFOSABI_LINUX) {
			return fmt.Errorf("is built for OS ABI %v, not %s (%v)", f.OSABI, t.Name, abi)
		}
		if t.GOARCH == "arm" {
			// e_flags, which debug/elf does not expose, at 36 in an ELF32 header.
			if len(data) < 40 || f.ByteOrder.Uint32(data[36:40])&0xff000000 != 0x05000000 {
				return fmt.Errorf("is not an EABI5 ARM executable, as %s needs", t.Name)
			}
			if got := goarm(data); got != t.GOARM {
				return fmt.Errorf("is built for ARMv%s, not %s (ARMv%s)", got, t.Name, t.GOARM)
			}
		}
	case "darwin":
		f, err := macho.NewFile(r)
		if err != nil {
			return fmt.Errorf("is not a Mach-O executable, as %s needs: %v", t.Name, err)
		}
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[t.GOARCH]
		if f.Cpu != want {
			return fmt.Errorf("is built for %v, not %s (%v)", f.Cpu, t.Name, want)
		}
	case "windows":
		f, err := pe.NewFile(r)
		if err != nil {
			return fmt.Errorf("is not a PE executable, as %s needs: %v", t.Name, err)
		}
		want := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64, "386": pe.IMAGE_FILE_MACHINE_I386}[t.GOARCH]
		if f.Machine != want {
			return fmt.Errorf("is built for machine %#x, not %s (%#x)", f.Machine, t.Name, want)
		}
	default:
		return fmt.Errorf("has no known format for %s", t.GOOS)
	}
	return nil
}

// elfArchs is what an ELF header says for each GOARCH Go builds.
var elfArchs = map[string]struct {
	machine elf.Machine
	class   elf.Class
	data    elf.Data
}{
	"386":      {elf.EM_386, elf.ELFCLASS32, elf.ELFDATA2LSB},
	"amd64":    {elf.EM_X86_64, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"arm":      {elf.EM_ARM, elf.ELFCLASS32, elf.ELFDATA2LSB},
	"arm64":    {elf.EM_AARCH64, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"riscv64":  {elf.EM_RISCV, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"ppc64le":  {elf.EM_PPC64, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"ppc64":    {elf.EM_PPC64, elf.ELFCLASS64, elf.ELFDATA2MSB},
	"s390x":    {elf.EM_S390, elf.ELFCLASS64, elf.ELFDATA2MSB},
	"loong64":  {elf.EM_LOONGARCH, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"mips64le": {elf.EM_MIPS, elf.ELFCLASS64, elf.ELFDATA2LSB},
	"mipsle":   {elf.EM_MIPS, elf.ELFCLASS32, elf.ELFDATA2LSB},
}

// elfOSABI is the OS ABI byte Go writes for each ELF system.
var elfOSABI = map[string]elf.OSABI{
	"linux":   elf.ELFOSABI_NONE,
	"freebsd": elf.ELFOSABI_FREEBSD,
	"openbsd": elf.ELFOSABI_OPENBSD,
	"netbsd":  elf.ELFOSABI_NETBSD,
}

// goarm is the GOARM a Go binary was built with, from its build info
// ("7", or "7,softfloat" trimmed to "7"); "" when it has none.
func goarm(data []byte) string {
	bi, err := buildinfo.Read(bytes.NewReader(data))
	if err != nil {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "GOARM" {
			v, _, _ := strings.Cut(s.Value, ",")
			return v
		}
	}
	return ""
}

// stampedHelpers checks that the binary's stamp carries, for every helper
// the tree ships, that helper's digest: the binary refuses a helper whose
// digest differs from its stamp, and runs it unchecked when the stamp is
// empty, so an empty or wrong stamp is a broken release.
func (c *checker) stampedHelpers(a manifest.Artifact, helperDir string, bin []byte, shipped map[string]string) {
	st, _ := stamp.Read(bin) // a bad stamp is reported on its own; it stamps no digest
	names := make([]string, 0, len(shipped))
	for h := range shipped {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		file := path.Join(helperDir, h)
		stamped := st.Digest(h + "_sha256")
		switch {
		case stamped == "":
			c.fail(a.Name, "binary is stamped with no %s_sha256, but %s has sha256 %s: the binary would run it unchecked (rebuild with packager release)", h, file, shipped[h])
		case stamped != shipped[h]:
			c.fail(a.Name, "binary is stamped with %s_sha256 %s, but %s has sha256 %s: the binary would refuse its helper (rebuild with packager release)", h, stamped, file, shipped[h])
		}
	}
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// readArchive reads every member of an archive into memory, without
// extracting anything to disk.
func readArchive(p string, format layout.Format) ([]member, error) {
	if format == layout.Zip {
		return readZip(p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("not gzip: %v", err)
	}
	if gz.Header.Name != "" || !gz.Header.ModTime.IsZero() {
		return nil, fmt.Errorf("the gzip header carries a name (%q) or a time (%v)", gz.Header.Name, gz.Header.ModTime)
	}
	tr := tar.NewReader(gz)
	var out []member
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("not a valid tar: %v", err)
		}
		if len(hdr.PAXRecords) > 0 {
			return nil, fmt.Errorf("member %s carries PAX records %v", hdr.Name, hdr.PAXRecords)
		}
		mb := member{name: hdr.Name, mode: fs.FileMode(hdr.Mode).Perm(), owner: hdr.Uid + hdr.Gid}
		switch hdr.Typeflag {
		case tar.TypeDir:
			mb.dir = true
		case tar.TypeReg:
			if hdr.Size > maxMember {
				return nil, fmt.Errorf("member %s is %d bytes, over the %d limit", hdr.Name, hdr.Size, maxMember)
			}
			if mb.data, err = io.ReadAll(io.LimitReader(tr, maxMember)); err != nil {
				return nil, err
			}
		case tar.TypeSymlink, tar.TypeLink:
			mb.isLink, mb.link = true, hdr.Linkname
		default:
			mb.other = true
		}
		out = append(out, mb)
	}
}

func readZip(p string) ([]member, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("not a valid zip: %v", err)
	}
	defer zr.Close()
	var out []member
	for _, f := range zr.File {
		mode := f.Mode()
		mb := member{name: f.Name, mode: mode.Perm()}
		switch {
		case mode.IsDir():
			mb.dir = true
		case mode&fs.ModeSymlink != 0:
			mb.isLink = true
			if rc, err := f.Open(); err == nil {
				target, _ := io.ReadAll(io.LimitReader(rc, 4096))
				rc.Close()
				mb.link = string(target)
			}
		case mode.IsRegular():
			if f.UncompressedSize64 > maxMember {
				return nil, fmt.Errorf("member %s is %d bytes, over the %d limit", f.Name, f.UncompressedSize64, maxMember)
			}
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("member %s: %v", f.Name, err)
			}
			mb.data, err = io.ReadAll(io.LimitReader(rc, maxMember))
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("member %s: %v", f.Name, err)
			}
		default:
			mb.other = true
		}
		out = append(out, mb)
	}
	return out, nil
}

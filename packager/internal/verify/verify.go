// Package verify is the release gate. It reads a release directory as a user
// would receive it and refuses it, naming the file and the broken invariant,
// unless:
//
//   - SHA256SUMS is well formed, lists every release file but the signature,
//     and every digest matches;
//   - the signature bundle verifies over SHA256SUMS for the given key or
//     identity;
//   - manifest.json and SHA256SUMS agree, and sizes match;
//   - every archive holds exactly the expected tree, with normalised modes
//     and no absolute path, no "..", no link;
//   - each binary's format and architecture match its target, its stamped
//     version is the release's (or, for a project that declares a
//     version_check instead of the stamp, it holds the version and prints
//     it as declared), the digest it carries of each helper is that of the
//     helper it ships, and its digest is the manifest's;
//   - every target with npm names has an npm platform package holding its
//     archive's tree byte for byte, with the right os and cpu, and the meta
//     package pins them all at the release version with their binaries'
//     digests;
//   - every archive has a CycloneDX SBOM naming its binary, and the DotSlash
//     file points at every archive of a platform DotSlash runs on, with its
//     size and digest;
//   - every linux target has its .deb, .rpm and .apk, each holding its
//     archive's binary and helpers byte for byte at /usr/bin and
//     /usr/libexec/<product>, with its licences, the release version and
//     the target's architecture, no other file (but the .deb's own
//     documentation), no other executable and no install script; the apt repository's signatures and indexes cover every .deb;
//     the Homebrew cask, Scoop manifest and winget manifests name the
//     archives by URL and digest;
//   - a door release.yaml switches off (doors:) has no file in the release;
//   - an installer that pins a key pins the key that signed the release, and
//     none pins a key when the release is signed keyless.
//
// It executes nothing it reads, but for version_check: a binary this
// machine can run (natively or under qemu-user) is asked its version, and
// only once the signature and every digest have been checked.
package verify

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/checksum"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
)

// Options say what to check the signature against: a public key, or an
// identity with the trusted root that anchors it.
type Options struct {
	Config    *config.Config
	PublicKey crypto.PublicKey

	CertificateIdentityRegexp string
	CertificateOIDCIssuer     string
	TrustedRootPath           string // empty: fetch the public-good root over TUF

	// PlatformRoots, when set, replace release.yaml's platform_signing
	// roots: the test root a test release's darwin and windows
	// signatures chain to.
	PlatformRoots *x509.CertPool
}

// Error lists every broken invariant.
type Error struct {
	Dir      string
	Problems []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("release %s is refused, %d problem(s):\n  - %s", e.Dir, len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

type checker struct {
	dir      string
	opts     Options
	problems []string
	// extraFiles is, for each of release.yaml's files:, the first archive
	// holding it and its digest there.
	extraFiles map[string][2]string
}

func (c *checker) fail(file, format string, args ...any) {
	c.problems = append(c.problems, file+": "+fmt.Sprintf(format, args...))
}

// Release checks the release in dir. It returns nil or an *Error.
func Release(dir string, opts Options) error {
	c := &checker{dir: dir, opts: opts}
	c.run()
	if len(c.problems) > 0 {
		return &Error{Dir: dir, Problems: c.problems}
	}
	return nil
}

func (c *checker) run() {
	sumsPath := filepath.Join(c.dir, layout.Sums)
	sumsData, err := os.ReadFile(sumsPath)
	if err != nil {
		c.fail(layout.Sums, "cannot be read (%v); nothing in the release can be trusted without it", err)
		return
	}
	c.signature(sumsData)

	lines, err := checksum.Parse(bytes.NewReader(sumsData))
	if err != nil {
		c.fail(layout.Sums, "%v", err)
		return
	}
	sums := c.digests(lines)

	m, err := manifest.Read(filepath.Join(c.dir, layout.Manifest))
	if err != nil {
		c.fail(layout.Manifest, "%v", err)
		return
	}
	if _, ok := sums[layout.Manifest]; !ok {
		c.fail(layout.Sums, "does not cover %s", layout.Manifest)
	}
	c.agree(m, sums)
	c.archives(m)
	c.npmPackages(m)
	c.sboms(m)
	c.dotslashFile(m)
	c.packageManagers(m)
	c.linuxPackages(m)
	c.installerKeys()
	c.installerFactsCheck()
}

// signature checks the bundle over SHA256SUMS.
func (c *checker) signature(sumsData []byte) {
	bundlePath := filepath.Join(c.dir, layout.SumsBundle)
	if _, err := os.Stat(bundlePath); err != nil {
		c.fail(layout.SumsBundle, "missing: the release is unsigned")
		return
	}
	err := verifyBundle(bundlePath, sumsData, c.opts)
	switch {
	case errors.Is(err, errKeySigned):
		c.fail(layout.SumsBundle, "is signed with a key and carries no certificate, so it cannot be checked against the signer's identity: "+
			"verify with the key's public half, --key dist/%s for a snapshot (a throw-away key), or the release's cosign.pub", layout.SnapshotKey)
	case err != nil:
		c.fail(layout.SumsBundle, "does not verify over %s: %v", layout.Sums, err)
	}
}

// digests checks every SHA256SUMS line against the file, and that every file
// in the directory but the signature is listed. It returns name → digest.
func (c *checker) digests(lines []checksum.Line) map[string]string {
	sums := map[string]string{}
	for _, l := range lines {
		sums[l.Name] = l.SHA256
		if l.Name == layout.Sums || l.Name == layout.SumsBundle {
			c.fail(layout.Sums, "lists %s, which it cannot cover", l.Name)
			continue
		}
		got, _, err := fileutil.SHA256File(filepath.Join(c.dir, l.Name))
		switch {
		case errors.Is(err, os.ErrNotExist):
			c.fail(l.Name, "listed in %s but missing", layout.Sums)
		case err != nil:
			c.fail(l.Name, "%v", err)
		case got != l.SHA256:
			c.fail(l.Name, "sha256 is %s, %s says %s", got, layout.Sums, l.SHA256)
		}
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		c.fail(c.dir, "%v", err)
		return sums
	}
	for _, e := range entries {
		name := e.Name()
		if name == layout.Sums || name == layout.SumsBundle {
			continue
		}
		if _, ok := sums[name]; !ok {
			c.fail(name, "is in the release but not in %s", layout.Sums)
		}
	}
	return sums
}

// agree checks that manifest and SHA256SUMS describe the same files.
func (c *checker) agree(m *manifest.Manifest, sums map[string]string) {
	listed := map[string]bool{layout.Manifest: true}
	for _, a := range m.Artifacts {
		listed[a.Name] = true
		sum, ok := sums[a.Name]
		if !ok {
			c.fail(a.Name, "in %s but not in %s", layout.Manifest, layout.Sums)
			continue
		}
		if sum != a.SHA256 {
			c.fail(a.Name, "%s says sha256 %s, %s says %s", layout.Manifest, a.SHA256, layout.Sums, sum)
		}
		if st, err := os.Stat(filepath.Join(c.dir, a.Name)); err == nil && st.Size() != a.Size {
			c.fail(a.Name, "is %d bytes, %s says %d", st.Size(), layout.Manifest, a.Size)
		}
	}
	var names []string
	for name := range sums {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !listed[name] {
			c.fail(name, "in %s but not in %s", layout.Sums, layout.Manifest)
		}
	}
}

// Checks says, for a kind of release file, what the gate checked of it; the
// release summary prints it beside each file.
func Checks(kind artifact.Kind) string {
	switch kind {
	case artifact.Archive:
		return "checksum, exact tree, modes, binary format/arch/version, helper digests"
	case artifact.NPM:
		return "checksum, name, version pins, os/cpu, tree = archive's"
	case artifact.SBOM:
		return "checksum, CycloneDX, version, binary digest"
	case artifact.DotSlash:
		return "checksum, size/digest/path of every archive"
	case artifact.LinuxPackage:
		return "checksum, one per linux target and format; its binary and helpers byte-identical to the target's archive"
	case artifact.AptRepo:
		return "checksum, signatures, indexes, every .deb's digest"
	case artifact.Homebrew, artifact.Scoop, artifact.Winget:
		return "checksum, version, url/sha256/architecture of every archive"
	case artifact.Manifest:
		return "checksum, agrees with SHA256SUMS"
	case artifact.Checksums:
		return "signature, every line, every file"
	case artifact.Signature:
		return "verifies over SHA256SUMS"
	default:
		return "checksum"
	}
}

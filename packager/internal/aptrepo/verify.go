package aptrepo

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"

	"github.com/tern-agent/tern/packager/internal/fileutil"
)

// VerifyError lists every way a repository differs from what its signed
// Release promises, one line each.
type VerifyError struct {
	Dir      string
	Problems []string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("apt repository %s: %d problem(s):\n  %s", e.Dir, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// VerifyFlat checks the flat repository in dir as apt would, and more:
// InRelease and Release.gpg are signed by a key in pub and sign the same
// Release; Release lists Packages and Packages.gz, each with its size and
// SHA-256, and Packages.gz holds Packages; every package Packages lists is
// ./<name> in dir with its size and SHA-256, is one of debs, and is built
// for an architecture Release lists; every one of debs is listed; and the
// one *-archive-keyring.gpg in dir holds pub's keys. It reports every
// problem it finds, as a *VerifyError.
func VerifyFlat(dir string, debs []string, pub KeyRing) error {
	v := &VerifyError{Dir: dir}
	bad := func(format string, a ...any) { v.Problems = append(v.Problems, fmt.Sprintf(format, a...)) }
	keys := strings.Join(pub.Fingerprints(), ", ")

	release, err := os.ReadFile(filepath.Join(dir, ReleaseFile))
	if err != nil {
		bad("%s: %v", ReleaseFile, err)
		return v
	}
	if sig, err := os.ReadFile(filepath.Join(dir, ReleaseGPGFile)); err != nil {
		bad("%s: %v", ReleaseGPGFile, err)
	} else if _, err := openpgp.CheckArmoredDetachedSignature(pub.list, bytes.NewReader(release), bytes.NewReader(sig), nil); err != nil {
		bad("%s does not sign %s with a key of %s: %v", ReleaseGPGFile, ReleaseFile, keys, err)
	}
	if in, err := os.ReadFile(filepath.Join(dir, InReleaseFile)); err != nil {
		bad("%s: %v", InReleaseFile, err)
	} else if block, _ := clearsign.Decode(in); block == nil {
		bad("%s is not a clearsigned message", InReleaseFile)
	} else {
		if _, err := block.VerifySignature(pub.list, nil); err != nil {
			bad("%s is not signed by a key of %s: %v", InReleaseFile, keys, err)
		}
		if !bytes.Equal(bytes.TrimRight(block.Plaintext, "\n"), bytes.TrimRight(release, "\n")) {
			bad("%s signs other text than %s", InReleaseFile, ReleaseFile)
		}
	}

	paras, err := parseParagraphs(release)
	if err != nil || len(paras) != 1 {
		bad("%s is not one deb822 paragraph: %v", ReleaseFile, err)
		return v
	}
	rel := paras[0]
	listed := map[string]bool{}
	for _, line := range strings.Split(rel.Get("SHA256"), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			bad("%s: a SHA256 line %q is not \"digest size name\"", ReleaseFile, strings.TrimSpace(line))
			continue
		}
		name := fields[2]
		if !fs.ValidPath(name) || strings.Contains(name, "/") {
			bad("%s lists %q, not a file beside it", ReleaseFile, name)
			continue
		}
		listed[name] = true
		checkFile(name, filepath.Join(dir, name), fields[1], fields[0], bad)
	}
	for _, name := range []string{PackagesFile, PackagesGzFile} {
		if !listed[name] {
			bad("%s does not list %s in its SHA256 field", ReleaseFile, name)
		}
	}
	archs := map[string]bool{"all": true}
	for _, a := range strings.Fields(rel.Get("Architectures")) {
		archs[a] = true
	}

	index, err := os.ReadFile(filepath.Join(dir, PackagesFile))
	if err != nil {
		return v // reported with its digest
	}
	if gz, err := os.ReadFile(filepath.Join(dir, PackagesGzFile)); err == nil {
		if got, err := gunzip(gz); err != nil {
			bad("%s: %v", PackagesGzFile, err)
		} else if !bytes.Equal(got, index) {
			bad("%s does not hold %s", PackagesGzFile, PackagesFile)
		}
	}
	stanzas, err := parseParagraphs(index)
	if err != nil {
		bad("%s: %v", PackagesFile, err)
		return v
	}
	given := map[string]bool{}
	for _, d := range debs {
		given[filepath.Base(d)] = true
	}
	inIndex := map[string]bool{}
	for _, s := range stanzas {
		file := s.Get("Filename")
		base := strings.TrimPrefix(file, "./")
		if !strings.HasPrefix(file, "./") || !fs.ValidPath(base) || strings.Contains(base, "/") {
			bad("%s: package %s has Filename %q, not ./<file> beside the index", PackagesFile, s.Get("Package"), file)
			continue
		}
		if inIndex[base] {
			bad("%s lists %s twice", PackagesFile, file)
			continue
		}
		inIndex[base] = true
		if !given[base] {
			bad("%s lists %s, which is not one of the release's packages", PackagesFile, file)
		}
		if a := s.Get("Architecture"); !archs[a] {
			bad("%s: %s is for %s, which %s's Architectures does not list", PackagesFile, file, a, ReleaseFile)
		}
		checkFile(base, filepath.Join(dir, base), s.Get("Size"), s.Get("SHA256"), bad)
	}
	var unlisted []string
	for b := range given {
		if !inIndex[b] {
			unlisted = append(unlisted, b)
		}
	}
	sort.Strings(unlisted)
	for _, b := range unlisted {
		bad("%s is a package of the release but %s does not list it", b, PackagesFile)
	}

	// The keyring users install must hold the keys the release is checked
	// with, or apt refuses what VerifyFlat passed.
	rings, _ := filepath.Glob(filepath.Join(dir, "*"+keyringSuffix))
	switch len(rings) {
	case 1:
		kr, err := ReadKeyRingFile(rings[0])
		if err != nil {
			bad("%v", err)
		} else if got := strings.Join(kr.Fingerprints(), ", "); got != keys {
			bad("%s holds %s, not the release's key %s", filepath.Base(rings[0]), got, keys)
		}
	default:
		bad("the repository holds %d files *%s, not the one users install", len(rings), keyringSuffix)
	}
	if len(v.Problems) > 0 {
		return v
	}
	return nil
}

// maxIndex bounds what Packages.gz may inflate to: an index of a release's
// few packages is kilobytes.
const maxIndex = 64 << 20

func gunzip(b []byte) ([]byte, error) {
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(z, maxIndex+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxIndex {
		return nil, fmt.Errorf("inflates to more than %d bytes", maxIndex)
	}
	return out, nil
}

// checkFile reports a file whose size or SHA-256 is not what an index says.
func checkFile(name, p, size, sum string, bad func(string, ...any)) {
	want, err := strconv.ParseInt(size, 10, 64)
	if err != nil || len(sum) != 64 {
		bad("%s: the index gives no size and SHA256 for it", name)
		return
	}
	got, n, err := fileutil.SHA256File(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		bad("%s is listed but missing", name)
	case err != nil:
		bad("%s: %v", name, err)
	case n != want:
		bad("%s is %d bytes, the index says %d", name, n, want)
	case got != strings.ToLower(sum):
		bad("%s has sha256 %s, the index says %s", name, got, sum)
	}
}

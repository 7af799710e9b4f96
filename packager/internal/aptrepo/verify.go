package aptrepo

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
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

// Verify checks the repository in dir as apt would, and more: InRelease and
// Release.gpg are signed by a key in pub and sign the same Release; every
// index Release lists has its size and SHA-256; every package each Packages
// lists has its size and SHA-256; and the pool holds no file no index lists.
// It reports every problem it finds, as a *VerifyError.
func Verify(dir string, pub KeyRing) error {
	v := &VerifyError{Dir: dir}
	bad := func(format string, a ...any) { v.Problems = append(v.Problems, fmt.Sprintf(format, a...)) }
	dists := filepath.Join(dir, "dists", Suite)

	release, err := os.ReadFile(filepath.Join(dists, "Release"))
	if err != nil {
		bad("dists/%s/Release: %v", Suite, err)
		return v
	}
	if sig, err := os.ReadFile(filepath.Join(dists, "Release.gpg")); err != nil {
		bad("dists/%s/Release.gpg: %v", Suite, err)
	} else if _, err := openpgp.CheckArmoredDetachedSignature(pub.list, bytes.NewReader(release), bytes.NewReader(sig), nil); err != nil {
		bad("dists/%s/Release.gpg does not sign Release with a key of %s: %v", Suite, strings.Join(pub.Fingerprints(), ", "), err)
	}
	if in, err := os.ReadFile(filepath.Join(dists, "InRelease")); err != nil {
		bad("dists/%s/InRelease: %v", Suite, err)
	} else if block, _ := clearsign.Decode(in); block == nil {
		bad("dists/%s/InRelease is not a clearsigned message", Suite)
	} else {
		if _, err := block.VerifySignature(pub.list, nil); err != nil {
			bad("dists/%s/InRelease is not signed by a key of %s: %v", Suite, strings.Join(pub.Fingerprints(), ", "), err)
		}
		if !bytes.Equal(bytes.TrimRight(block.Plaintext, "\n"), bytes.TrimRight(release, "\n")) {
			bad("dists/%s/InRelease signs other text than Release", Suite)
		}
	}

	paras, err := parseParagraphs(release)
	if err != nil || len(paras) != 1 {
		bad("dists/%s/Release is not one deb822 paragraph: %v", Suite, err)
		return v
	}
	rel := paras[0]
	for _, f := range []string{"Suite", "Codename"} {
		if got := rel.Get(f); got != Suite {
			bad("dists/%s/Release: %s is %q, not %q", Suite, f, got, Suite)
		}
	}
	if got := rel.Get("Components"); got != Component {
		bad("dists/%s/Release: Components is %q, not %q", Suite, got, Component)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(rel.Get("SHA256"), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 3 {
			bad("dists/%s/Release: a SHA256 line %q is not \"digest size path\"", Suite, strings.TrimSpace(line))
			continue
		}
		name := fields[2]
		if !fs.ValidPath(name) {
			bad("dists/%s/Release lists %q, a path outside the suite", Suite, name)
			continue
		}
		listed[name] = true
		checkFile(path.Join("dists", Suite, name), filepath.Join(dists, filepath.FromSlash(name)), fields[1], fields[0], bad)
	}
	var packages []string
	for _, arch := range strings.Fields(rel.Get("Architectures")) {
		p := path.Join(Component, "binary-"+arch, "Packages")
		if !listed[p] {
			bad("dists/%s/Release lists architecture %s but no %s", Suite, arch, p)
			continue
		}
		packages = append(packages, p)
	}

	inIndex := map[string]bool{}
	for _, p := range packages {
		b, err := os.ReadFile(filepath.Join(dists, filepath.FromSlash(p)))
		if err != nil {
			continue // reported with its digest
		}
		stanzas, err := parseParagraphs(b)
		if err != nil {
			bad("dists/%s/%s: %v", Suite, p, err)
			continue
		}
		for _, s := range stanzas {
			name := s.Get("Filename")
			if !fs.ValidPath(name) || !strings.HasPrefix(name, "pool/") {
				bad("dists/%s/%s: package %s has Filename %q, not a path under pool/", Suite, p, s.Get("Package"), name)
				continue
			}
			if inIndex[name] {
				continue
			}
			inIndex[name] = true
			checkFile(name, filepath.Join(dir, filepath.FromSlash(name)), s.Get("Size"), s.Get("SHA256"), bad)
		}
	}

	// The keyring users install must hold the keys the release is checked
	// with, or apt refuses what Verify passed.
	rings, _ := filepath.Glob(filepath.Join(dir, "*"+keyringSuffix))
	switch len(rings) {
	case 1:
		kr, err := ReadKeyRingFile(rings[0])
		if err != nil {
			bad("%v", err)
		} else if got, want := strings.Join(kr.Fingerprints(), ", "), strings.Join(pub.Fingerprints(), ", "); got != want {
			bad("%s holds %s, not the release's key %s", filepath.Base(rings[0]), got, want)
		}
	default:
		bad("the repository holds %d files *%s at its root, not the one users install", len(rings), keyringSuffix)
	}

	var stray []string
	_ = filepath.WalkDir(filepath.Join(dir, "pool"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			if !inIndex[filepath.ToSlash(rel)] {
				stray = append(stray, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	sort.Strings(stray)
	for _, s := range stray {
		bad("%s is in the pool but in no Packages index", s)
	}
	if len(v.Problems) > 0 {
		return v
	}
	return nil
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

// Package image builds the release's container image from the same staged
// trees as the archives: scratch, plus the tree at /, plus CA certificates,
// with the binary as the entrypoint, one image per linux target in one
// index. It needs no Docker daemon. Determinism is built in: every layer
// is written with fixed modes, owners and times, and the configs, labels
// and annotations carry the commit and its time, never the clock, so the
// same commit always gives the same index digest.
//
// The image is the binary's carrier, not a workstation: it holds tern, its
// helpers, its licences and CA certificates, and no shell or tools. It runs
// as the unprivileged user 65532 (distroless's "nonroot") with a HOME of
// its own, so `docker run` of it can ask tern for its version or its
// doctor's report, and a Dockerfile copies /bin/tern and /libexec/<binary>/
// into an image that has the tools its commands need.
//
// The image is signed by the cosign CLI, while SHA256SUMS is signed
// in-process (package sign), on purpose: a blob's signature is a file we
// write and `cosign verify-blob` reads, which sigstore-go makes without any
// tool; an image's signature is attached in the registry, in the layout
// `cosign verify` and admission controllers look up (tag or referrer,
// simple-signing payload), which sigstore-go does not write. Reimplementing
// that layout would risk signatures cosign cannot find. Both read the same
// sign.Options, so COSIGN_KEY and COSIGN_PASSWORD mean the same for both.
//
// It never pushes what it cannot sign: the signing options are checked
// before the push.
package image

import (
	"archive/tar"
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/pack"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
)

// CABundlePath is where the image keeps its CA certificates, where Go and
// most TLS stacks look on Linux.
const CABundlePath = "etc/ssl/certs/ca-certificates.crt"

// The user the image runs as: distroless's "nonroot", so a cluster that
// insists on runAsNonRoot accepts it and a volume's files keep a known owner.
const (
	UID  = 65532
	User = "nonroot"
	Home = "home/" + User
)

// Release is what the image says of the release it holds.
type Release struct {
	Version string
	Commit  string
	Created time.Time // the commit's time, so a rebuild gives the same bytes
}

// Build makes the multi-arch index for every linux target with a staged tree
// under stageDir: one image per target, under its OCI platform, each and the
// index annotated with the org.opencontainers.image keys (Annotations).
func Build(cfg *config.Config, stageDir string, rel Release) (v1.ImageIndex, error) {
	var linux []config.Target
	owner := map[string]string{} // platform → the target that has it
	for _, t := range cfg.Targets {
		if t.GOOS != "linux" {
			continue
		}
		p := Platform(t).String()
		if other, dup := owner[p]; dup {
			return nil, fmt.Errorf("targets %s and %s are both the image's %s, and an image index holds one image per platform: "+
				"remove one of them from release.yaml, or set doors: {image: false}", other, t.Name, p)
		}
		owner[p] = t.Name
		linux = append(linux, t)
	}
	if len(linux) == 0 {
		return nil, fmt.Errorf("release.yaml has no linux target to build an image from: add one, or set doors: {image: false}")
	}
	certs, err := caBundle()
	if err != nil {
		return nil, err
	}
	helperLicenses, err := helperLicenses(cfg)
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var all []config.Target
	for _, t := range linux {
		anns := Annotations(cfg, rel, licenses(cfg, helperLicenses, t))
		img, err := platformImage(cfg, t, filepath.Join(stageDir, t.Name), rel, anns, certs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: Platform(t)},
		})
		all = append(all, t)
	}
	return mutate.Annotations(idx, Annotations(cfg, rel, licenses(cfg, helperLicenses, all...))).(v1.ImageIndex), nil
}

// Annotations are the org.opencontainers.image keys the index, every
// manifest and every config's labels carry: what `crane manifest`, `docker
// inspect`, registries' pages and scanners read. created is the commit's
// time in RFC 3339, as the spec asks, never the build's clock.
func Annotations(cfg *config.Config, rel Release, licenses string) map[string]string {
	const ns = "org.opencontainers.image."
	anns := map[string]string{
		ns + "title":       cfg.Product,
		ns + "description": cfg.NPM.Description,
		ns + "version":     rel.Version,
		ns + "revision":    rel.Commit,
		ns + "created":     rel.Created.UTC().Format(time.RFC3339),
		ns + "source":      cfg.Repository,
		ns + "url":         cfg.Repository,
		ns + "licenses":    licenses,
	}
	for k, v := range anns {
		if v == "" {
			delete(anns, k) // an empty value says nothing; leave the key out
		}
	}
	return anns
}

// licenses is the SPDX expression of what the targets' images hold: the
// product under release.yaml's npm.license (its one SPDX licence field)
// and each shipped helper under its manifest's licence.
func licenses(cfg *config.Config, helpers map[string]string, targets ...config.Target) string {
	own := cfg.NPM.License
	if own == "" || strings.HasPrefix(own, "SEE LICENSE") {
		own = "NOASSERTION" // SPDX's word for a licence the release does not state
	}
	parts := []string{own}
	for _, t := range targets {
		for _, h := range t.Helpers {
			l := helpers[h]
			if l == "" {
				l = "NOASSERTION"
			}
			if !slices.Contains(parts, l) {
				parts = append(parts, l)
			}
		}
	}
	if len(parts) == 1 {
		return own
	}
	for i, p := range parts {
		if strings.Contains(p, " ") {
			parts[i] = "(" + p + ")" // an expression inside an AND keeps its meaning
		}
	}
	return strings.Join(parts, " AND ")
}

// helperLicenses maps each helper's binary name to its licence, from
// third_party/<name>/manifest.yaml beside release.yaml.
func helperLicenses(cfg *config.Config) (map[string]string, error) {
	ms, err := thirdparty.Load(cfg.Dir())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, m := range ms {
		out[m.Binary] = m.License
	}
	return out, nil
}

// Platform is a linux target's OCI platform. The OCI image spec takes Go's
// GOOS and GOARCH values as they are (386, riscv64, ppc64le, s390x,
// loong64 …), and tells the ARM versions apart by the variant: v5, v6 or
// v7 from GOARM, as a runtime pulling for an armv6 board looks for.
func Platform(t config.Target) *v1.Platform {
	p := &v1.Platform{OS: t.GOOS, Architecture: t.GOARCH}
	if t.GOARCH == "arm" {
		p.Variant = "v" + t.GOARM
	}
	return p
}

func platformImage(cfg *config.Config, t config.Target, tree string, rel Release, anns map[string]string, certs []byte) (v1.Image, error) {
	created := rel.Created
	layerBytes, err := treeLayer(tree, created, certs)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "packager image: the " + t.Name + " staged tree",
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	p := Platform(t)
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = v1.Time{Time: created}
	cf.Config.Entrypoint = []string{"/bin/" + cfg.Binary}
	cf.Config.Env = []string{"PATH=/bin", "SSL_CERT_FILE=/" + CABundlePath, "HOME=/" + Home}
	cf.Config.WorkingDir = "/work"
	// Numeric, so a runtime that must prove the user is not root
	// (Kubernetes' runAsNonRoot) can, without reading /etc/passwd.
	cf.Config.User = fmt.Sprintf("%d:%d", UID, UID)
	cf.Config.Labels = anns
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, anns).(v1.Image), nil
}

// treeLayer writes the layer: the staged tree at /, the CA bundle, the
// user's passwd and group entries, and the directories a sandboxing agent
// needs (/tmp, /work, the user's HOME), with pack's normalised writer:
// fixed modes, one mtime, sorted entries, everything owned by root but
// the user's HOME and /work, which are the user's (userOwned).
func treeLayer(tree string, mtime time.Time, certs []byte) ([]byte, error) {
	files, err := pack.Tree(tree)
	if err != nil {
		return nil, err
	}
	files = append(files,
		pack.File{Name: "etc/", Mode: 0o755},
		pack.File{Name: "etc/group", Mode: 0o644, Data: fmt.Appendf(nil, "root:x:0:\n%s:x:%d:\n", User, UID)},
		pack.File{Name: "etc/passwd", Mode: 0o644, Data: fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:/%s:/sbin/nologin\n", User, UID, UID, User, Home)},
		pack.File{Name: "etc/ssl/", Mode: 0o755},
		pack.File{Name: "etc/ssl/certs/", Mode: 0o755},
		pack.File{Name: CABundlePath, Mode: 0o644, Data: certs},
		pack.File{Name: "home/", Mode: 0o755},
		pack.File{Name: Home + "/", Mode: 0o755},
		pack.File{Name: "tmp/", Mode: 0o1777},
		pack.File{Name: "work/", Mode: 0o755},
	)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	var b bytes.Buffer
	if err := pack.WriteTar(&b, files, mtime); err != nil {
		return nil, err
	}
	return chownTar(b.Bytes(), userOwned, UID)
}

// userOwned are the directories the image's user owns: its HOME, and the
// working directory, so tern and the commands it runs can write there
// without a volume.
var userOwned = map[string]bool{Home + "/": true, "work/": true}

// chownTar rewrites a tar made by pack.WriteTar (which owns every entry by
// root) with the named entries owned by uid, the same gid; every other
// byte of each header and file stays as written.
func chownTar(in []byte, owned map[string]bool, uid int) ([]byte, error) {
	var out bytes.Buffer
	tr := tar.NewReader(bytes.NewReader(in))
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if owned[h.Name] {
			h.Uid, h.Gid = uid, uid
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// caBundle is the Mozilla root store as golang.org/x/crypto/x509roots
// ships it, pinned by go.sum, so the image's certificates do not depend on
// the build machine. Roots with constraints PEM cannot express are left out.
func caBundle() ([]byte, error) {
	var b bytes.Buffer
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		if err := pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate}); err != nil {
			return nil, err
		}
	}
	if b.Len() == 0 {
		return nil, fmt.Errorf("the CA bundle is empty")
	}
	return b.Bytes(), nil
}

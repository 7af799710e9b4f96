// Package image builds the release's container image from the same staged
// trees as the archives: scratch, plus the tree at /, plus CA certificates,
// with the binary as the entrypoint, one image per linux target in one
// index. It needs no Docker daemon. Determinism is built in: every layer
// is written with fixed modes, owners and times, and the configs carry the
// commit time, so the same release always gives the same index digest.
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
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/pack"
)

// CABundlePath is where the image keeps its CA certificates, where Go and
// most TLS stacks look on Linux.
const CABundlePath = "etc/ssl/certs/ca-certificates.crt"

// Build makes the multi-arch index for every linux target with a staged tree
// under stageDir: one image per target, under its OCI platform.
func Build(cfg *config.Config, stageDir, version string, created time.Time) (v1.ImageIndex, error) {
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
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, t := range linux {
		img, err := platformImage(cfg, t, filepath.Join(stageDir, t.Name), version, created, certs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: Platform(t)},
		})
	}
	return idx, nil
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

func platformImage(cfg *config.Config, t config.Target, tree, version string, created time.Time, certs []byte) (v1.Image, error) {
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
	cf.Config.Env = []string{"PATH=/bin", "SSL_CERT_FILE=/" + CABundlePath}
	cf.Config.WorkingDir = "/work"
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":   cfg.Product,
		"org.opencontainers.image.version": version,
		"org.opencontainers.image.source":  cfg.Repository,
	}
	return mutate.ConfigFile(img, cf)
}

// treeLayer writes the layer: the staged tree at /, the CA bundle, and the
// directories a sandboxing agent needs (/tmp, /work), with pack's
// normalised writer: fixed modes, uid and gid 0, one mtime, sorted entries.
func treeLayer(tree string, mtime time.Time, certs []byte) ([]byte, error) {
	files, err := pack.Tree(tree)
	if err != nil {
		return nil, err
	}
	files = append(files,
		pack.File{Name: "etc/", Mode: 0o755},
		pack.File{Name: "etc/ssl/", Mode: 0o755},
		pack.File{Name: "etc/ssl/certs/", Mode: 0o755},
		pack.File{Name: CABundlePath, Mode: 0o644, Data: certs},
		pack.File{Name: "tmp/", Mode: 0o1777},
		pack.File{Name: "work/", Mode: 0o755},
	)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	var b bytes.Buffer
	if err := pack.WriteTar(&b, files, mtime); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
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

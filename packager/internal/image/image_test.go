package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/sign"
)

// registry is go-containerregistry's in-process registry; it returns its
// host:port.
func registry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// stage writes a staged tree for each target: a binary that names its
// target, and the LICENSE.
func stage(t *testing.T, targets []config.Target) string {
	t.Helper()
	dir := t.TempDir()
	for _, tg := range targets {
		bin := filepath.Join(dir, tg.Name, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, "tern"), []byte("binary for "+tg.Name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, tg.Name, "LICENSE"), []byte("licence"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func testConfig(targets ...config.Target) *config.Config {
	return &config.Config{Product: "tern", Binary: "tern", Repository: "https://github.com/example/tern", Targets: targets}
}

// Every linux target is in the index under its OCI platform, the ARM ones
// told apart by variant; the image's config states the same platform; the
// other systems' targets are not in it.
func TestEveryLinuxTargetIsInTheIndex(t *testing.T) {
	targets := []config.Target{
		{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"},
		{Name: "linux-arm64", GOOS: "linux", GOARCH: "arm64"},
		{Name: "linux-armv5", GOOS: "linux", GOARCH: "arm", GOARM: "5"},
		{Name: "linux-armv6", GOOS: "linux", GOARCH: "arm", GOARM: "6"},
		{Name: "linux-armv7", GOOS: "linux", GOARCH: "arm", GOARM: "7"},
		{Name: "linux-ia32", GOOS: "linux", GOARCH: "386"},
		{Name: "linux-riscv64", GOOS: "linux", GOARCH: "riscv64"},
		{Name: "linux-ppc64le", GOOS: "linux", GOARCH: "ppc64le"},
		{Name: "linux-s390x", GOOS: "linux", GOARCH: "s390x"},
		{Name: "linux-loong64", GOOS: "linux", GOARCH: "loong64"},
		{Name: "darwin-arm64", GOOS: "darwin", GOARCH: "arm64"},
		{Name: "freebsd-x64", GOOS: "freebsd", GOARCH: "amd64"},
		{Name: "windows-x64", GOOS: "windows", GOARCH: "amd64"},
	}
	want := map[string]string{ // OCI platform → the target's binary
		"linux/amd64":   "linux-x64",
		"linux/arm64":   "linux-arm64",
		"linux/arm/v5":  "linux-armv5",
		"linux/arm/v6":  "linux-armv6",
		"linux/arm/v7":  "linux-armv7",
		"linux/386":     "linux-ia32",
		"linux/riscv64": "linux-riscv64",
		"linux/ppc64le": "linux-ppc64le",
		"linux/s390x":   "linux-s390x",
		"linux/loong64": "linux-loong64",
	}
	cfg := testConfig(targets...)
	idx, err := Build(cfg, stage(t, targets), Release{Version: "1.2.3", Created: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := Push(context.Background(), idx, registry(t)+"/example/tern", "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, err := pulled.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != len(want) {
		t.Errorf("the index holds %d images, want %d", len(im.Manifests), len(want))
	}
	for _, d := range im.Manifests {
		p := d.Platform.String()
		target, ok := want[p]
		if !ok {
			t.Errorf("the index holds an image for %s", p)
			continue
		}
		delete(want, p)
		img, err := pulled.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if got := cf.Platform().String(); got != p {
			t.Errorf("%s: the image's config says %s", p, got)
		}
		if bin := binaryOf(t, img); bin != "binary for "+target {
			t.Errorf("%s: the image holds %q, want %s's binary", p, bin, target)
		}
	}
	for p := range want {
		t.Errorf("the index has no image for %s", p)
	}
}

// binaryOf is bin/tern of the image's one layer.
func binaryOf(t *testing.T, img v1.Image) string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files, err := readTar(rc)
	if err != nil {
		t.Fatal(err)
	}
	return files["bin/tern"]
}

// Two targets of one platform cannot both be in the index: refused, naming
// both and the way out.
func TestTwoTargetsOfOnePlatformAreRefused(t *testing.T) {
	targets := []config.Target{
		{Name: "linux-armv7", GOOS: "linux", GOARCH: "arm", GOARM: "7"},
		{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"},
		{Name: "linux-armhf", GOOS: "linux", GOARCH: "arm", GOARM: "7"},
	}
	_, err := Build(testConfig(targets...), stage(t, targets), Release{Version: "1.2.3", Created: time.Now()})
	want := "targets linux-armv7 and linux-armhf are both the image's linux/arm/v7, and an image index holds one image per platform: remove one of them from release.yaml, or set doors: {image: false}"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// A release without a linux target has no image to build.
func TestNoLinuxTargetIsRefused(t *testing.T) {
	targets := []config.Target{{Name: "darwin-arm64", GOOS: "darwin", GOARCH: "arm64"}}
	_, err := Build(testConfig(targets...), stage(t, targets), Release{Version: "1.2.3", Created: time.Now()})
	if err == nil || !strings.Contains(err.Error(), "release.yaml has no linux target to build an image from: add one, or set doors: {image: false}") {
		t.Fatalf("got %v", err)
	}
}

// With doors.image false, Publish says so and does nothing else: it reads
// no release, needs no key and pushes nothing.
func TestDoorOffPublishesNothing(t *testing.T) {
	reg := registry(t)
	shut := false
	cfg := testConfig(config.Target{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"})
	cfg.Doors.Image = &shut
	var out bytes.Buffer
	ref, err := Publish(context.Background(), Options{
		Config: cfg, ReleaseDir: filepath.Join(t.TempDir(), "no-release"), StageDir: filepath.Join(t.TempDir(), "no-stage"),
		Repo: reg + "/example/tern", Cosign: "cosign-must-not-run", Sign: sign.Options{},
	}, &out)
	if err != nil || ref != (name.Digest{}) {
		t.Fatalf("Publish with doors.image false: %v, %v", ref, err)
	}
	if want := "skipped the image: doors.image is false in release.yaml, so nothing is built, pushed or signed\n"; out.String() != want {
		t.Errorf("it says %q, want %q", out.String(), want)
	}
	regName, err := name.NewRegistry(reg, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if repos, err := remote.Catalog(context.Background(), regName); err != nil || len(repos) != 0 {
		t.Fatalf("the registry holds %v (%v)", repos, err)
	}
}

// The index, each manifest and each config's labels say what the image is
// with the org.opencontainers.image keys, from the commit and release.yaml,
// not the clock; the image runs as the unprivileged 65532 with a HOME and a
// /work it owns; and the same commit gives the same index.
func TestImageSaysWhatItIsAndRunsAsNonroot(t *testing.T) {
	targets := []config.Target{{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"}, {Name: "linux-arm64", GOOS: "linux", GOARCH: "arm64"}}
	cfg := testConfig(targets...)
	cfg.NPM.Description = "tern, a coding agent that runs commands in a sandbox"
	cfg.NPM.License = "Apache-2.0"
	rel := Release{Version: "1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Created: time.Date(2026, 11, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))}
	dir := stage(t, targets)
	idx, err := Build(cfg, dir, rel)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"org.opencontainers.image.title":       "tern",
		"org.opencontainers.image.description": "tern, a coding agent that runs commands in a sandbox",
		"org.opencontainers.image.version":     "1.2.3",
		"org.opencontainers.image.revision":    "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.created":     "2026-11-01T11:00:00Z",
		"org.opencontainers.image.source":      "https://github.com/example/tern",
		"org.opencontainers.image.url":         "https://github.com/example/tern",
		"org.opencontainers.image.licenses":    "Apache-2.0",
	}
	same := func(what string, got map[string]string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d keys %v, want %v", what, len(got), got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", what, k, got[k], v)
			}
		}
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	same("index annotations", im.Annotations)
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		same(d.Platform.String()+" manifest annotations", m.Annotations)
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		same(d.Platform.String()+" labels", cf.Config.Labels)
		if cf.Config.User != "65532:65532" || !slices.Contains(cf.Config.Env, "HOME=/home/nonroot") {
			t.Errorf("%s: user %q, env %v; want 65532:65532 and HOME=/home/nonroot", d.Platform, cf.Config.User, cf.Config.Env)
		}
		owners := layerOwners(t, img)
		for name, uid := range map[string]int{"home/nonroot/": 65532, "work/": 65532, "bin/tern": 0, "etc/passwd": 0, "tmp/": 0} {
			if got, ok := owners[name]; !ok || got != uid {
				t.Errorf("%s: %s is owned by %d (present %v), want %d", d.Platform, name, got, ok, uid)
			}
		}
	}
	again, err := Build(cfg, dir, rel)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := idx.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("the same commit gave the indexes %s and %s", d1, d2)
	}
}

// layerOwners is each entry of the image's one layer with its owner's uid,
// after checking that the gid is the same.
func layerOwners(t *testing.T, img v1.Image) map[string]int {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	owners := map[string]int{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return owners
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != h.Gid {
			t.Errorf("%s: uid %d, gid %d", h.Name, h.Uid, h.Gid)
		}
		if h.Name == "etc/passwd" {
			b, _ := io.ReadAll(tr)
			if !strings.Contains(string(b), "nonroot:x:65532:65532:nonroot:/home/nonroot:") {
				t.Errorf("etc/passwd lacks the nonroot user:\n%s", b)
			}
		}
		owners[h.Name] = h.Uid
	}
}

// readTar is a tar's regular files, name → content.
func readTar(r io.Reader) (map[string]string, error) {
	files := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		files[h.Name] = string(b)
	}
}

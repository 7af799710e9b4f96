//go:build unix

package release

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/image"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/version"
)

// localRegistry is go-containerregistry's registry on 127.0.0.1.
func localRegistry(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))}}
	srv.Start()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestImage(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the test runs the amd64 image's binary")
	}
	repo := newRepo(t)
	dir := mustRelease(t, repo, Options{Snapshot: true})
	m, err := manifest.Read(filepath.Join(dir, layout.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	stage := filepath.Join(repo, "dist", "stage")

	rel := image.Release{Version: m.Version, Commit: m.Commit, Created: m.Time}
	idx, err := image.Build(cfg(t), stage, rel)
	if err != nil {
		t.Fatal(err)
	}
	again, err := image.Build(cfg(t), stage, rel)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := idx.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Fatalf("two builds gave index digests %s and %s", d1, d2)
	}
	im, _ := idx.IndexManifest()
	if im.MediaType != "application/vnd.oci.image.index.v1+json" || len(im.Manifests) != 2 {
		t.Fatalf("want an OCI index of two images, got %s with %d", im.MediaType, len(im.Manifests))
	}
	// One image per linux target of release.yaml, under the target's platform.
	var linux []string
	for _, tg := range cfg(t).Targets {
		if tg.GOOS == "linux" {
			linux = append(linux, image.Platform(tg).String())
		}
	}
	for i, d := range im.Manifests {
		if d.Platform == nil || i >= len(linux) || d.Platform.String() != linux[i] {
			t.Errorf("image %d is for %v, want the linux targets' platforms %v in release.yaml's order", i, d.Platform, linux)
		}
	}

	reg := localRegistry(t)
	ref, err := image.Push(context.Background(), idx, reg+"/tern-agent/tern", m.Version)
	if err != nil {
		t.Fatal(err)
	}
	if ref.DigestStr() != d1.String() {
		t.Fatalf("pushed %s, built %s", ref.DigestStr(), d1)
	}

	// Pull the amd64 image back, take bin/tern out of its layer and run it.
	pulled, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := pulled.IndexManifest()
	var amd64 v1.Hash
	for _, d := range pm.Manifests {
		if d.Platform != nil && d.Platform.Architecture == "amd64" {
			amd64 = d.Digest
		}
	}
	img, err := pulled.Image(amd64)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	if strings.Join(cf.Config.Entrypoint, " ") != "/bin/tern" || !cf.Created.Time.Equal(m.Time) {
		t.Fatalf("config: entrypoint %v, created %v", cf.Config.Entrypoint, cf.Created)
	}
	// The labels and the index's and manifest's annotations name the
	// commit, its time (not the build's), and the SPDX licences of tern and
	// the bubblewrap it ships, from release.yaml and bubblewrap's manifest.
	im2, _ := img.Manifest()
	for what, got := range map[string]map[string]string{"labels": cf.Config.Labels, "manifest annotations": im2.Annotations, "index annotations": pm.Annotations} {
		for k, want := range map[string]string{
			"org.opencontainers.image.revision": m.Commit,
			"org.opencontainers.image.created":  m.Time.UTC().Format(time.RFC3339),
			"org.opencontainers.image.version":  m.Version,
			"org.opencontainers.image.licenses": "Apache-2.0 AND LGPL-2.0-or-later",
			"org.opencontainers.image.source":   "https://github.com/tern-agent/tern",
		} {
			if got[k] != want {
				t.Errorf("%s: %s = %q, want %q", what, k, got[k], want)
			}
		}
		if got["org.opencontainers.image.description"] == "" || got["org.opencontainers.image.title"] != "tern" {
			t.Errorf("%s: %v lacks the title or description", what, got)
		}
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("the image runs as %q, want 65532:65532", cf.Config.User)
	}
	layers, _ := img.Layers()
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	bin := filepath.Join(t.TempDir(), "tern")
	found := map[string]bool{}
	for _, m := range readTar(t, rc) {
		found[m.hdr.Name] = true
		if m.hdr.Name == "bin/tern" {
			if m.hdr.Mode != 0o755 || m.hdr.Uid != 0 {
				t.Fatalf("bin/tern has mode %o uid %d", m.hdr.Mode, m.hdr.Uid)
			}
			if err := os.WriteFile(bin, m.data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, want := range []string{"bin/tern", "libexec/tern/bwrap", "LICENSE", "THIRD_PARTY_NOTICES.md", image.CABundlePath, "tmp/"} {
		if !found[want] {
			t.Errorf("the image lacks %s", want)
		}
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out), m.Version) {
		t.Fatalf("the image's tern --version: %v %q", err, out)
	}

	// Sign with a cosign key through the CLI, and verify with it.
	cosign := cosignCLI(t)
	privPEM, pubPEM, err := sign.GenerateCosignKey([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	keys := t.TempDir()
	writeFile(t, filepath.Join(keys, "cosign.key"), string(privPEM))
	writeFile(t, filepath.Join(keys, "cosign.pub"), string(pubPEM))
	t.Setenv("COSIGN_PASSWORD", "pw")
	var log strings.Builder
	if err := image.Sign(context.Background(), ref, image.SignOptions{Cosign: cosign, Sign: sign.Options{Key: filepath.Join(keys, "cosign.key"), Password: []byte("pw")}, Offline: true}, &log); err != nil {
		t.Fatal(err)
	}
	r := runEnv(t, keys, []string{"COSIGN_PASSWORD=pw"}, cosign, "verify", "--key", filepath.Join(keys, "cosign.pub"),
		"--insecure-ignore-tlog=true", "--allow-http-registry", ref.String())
	if r.code != 0 {
		t.Fatalf("cosign verify refused the image: %s", r.out)
	}
}

// imageRelease makes a snapshot release whose staged trees the image is
// built from.
func imageRelease(t *testing.T) (repo, dir string) {
	t.Helper()
	repo = newRepo(t)
	return repo, mustRelease(t, repo, Options{Snapshot: true})
}

// COSIGN_KEY means the same for `packager image` as for `packager release`:
// a path, or the PEM itself as a CI secret holds it.
func TestImageSignsWithAPEMInCOSIGN_KEY(t *testing.T) {
	cosign := cosignCLI(t)
	repo, dir := imageRelease(t)
	privPEM, pubPEM, err := sign.GenerateCosignKey([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(t.TempDir(), "cosign.pub")
	writeFile(t, pub, string(pubPEM))
	t.Setenv("COSIGN_KEY", string(privPEM))
	t.Setenv("COSIGN_PASSWORD", "pw")
	reg := localRegistry(t)
	var out strings.Builder
	ref, err := image.Publish(context.Background(), imageOptions(t, repo, dir, reg, cosign), &out)
	if err != nil {
		t.Fatalf("image with a PEM in COSIGN_KEY: %v\n%s", err, out.String())
	}
	r := runEnv(t, repo, nil, cosign, "verify", "--key", pub, "--insecure-ignore-tlog=true", "--allow-http-registry", ref.String())
	if r.code != 0 {
		t.Fatalf("cosign verify refused the image: %s", r.out)
	}
}

// Without a key or --keyless the image is refused before anything is
// pushed: an unsigned image must never reach the registry.
func TestImageWithoutAKeyPushesNothing(t *testing.T) {
	repo, dir := imageRelease(t)
	t.Setenv("COSIGN_KEY", "")
	t.Setenv("COSIGN_PASSWORD", "")
	reg := localRegistry(t)
	var out strings.Builder
	_, refusal := image.Publish(context.Background(), imageOptions(t, repo, dir, reg, "cosign-must-not-run"), &out)
	if refusal == nil || !strings.Contains(refusal.Error(), "set COSIGN_KEY and COSIGN_PASSWORD, or pass --keyless") {
		t.Fatalf("image without a key: %v", refusal)
	}
	regName, err := name.NewRegistry(reg, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := remote.Catalog(context.Background(), regName)
	if err != nil {
		t.Fatal(err)
	}
	if len(repos) != 0 {
		t.Fatalf("the refused image reached the registry: %v", repos)
	}
	if strings.Contains(refusal.Error(), "pushed") {
		t.Errorf("the refusal says something was pushed: %v", refusal)
	}
}

// imageOptions are the image command's options for the fixture release,
// signing as the environment says.
func imageOptions(t *testing.T, repo, dir, reg, cosign string) image.Options {
	t.Helper()
	return image.Options{
		Config: cfg(t), ReleaseDir: dir, StageDir: filepath.Join(repo, "dist", "stage"),
		Repo: reg + "/tern-agent/tern", Cosign: cosign, Offline: true, Sign: sign.OptionsFromEnv(false),
	}
}

// A project that ships no helper, has no third_party/, and closes the
// image, SBOM and DotSlash doors: its release verifies and holds no SBOM
// and no DotSlash file, and the image step says it is skipped and pushes
// nothing.
func TestImageDoorOffOnAProjectWithoutHelpers(t *testing.T) {
	repo := newRepo(t)
	if err := os.RemoveAll(filepath.Join(repo, "third_party")); err != nil {
		t.Fatal(err)
	}
	yaml := regexp.MustCompile(`,\s*helpers: \[bwrap\]`).ReplaceAllString(readFile(t, filepath.Join(repo, "release.yaml")), "")
	writeFile(t, filepath.Join(repo, "release.yaml"), yaml+"\ndoors: {image: false, sbom: false, dotslash: false}\n")
	c, err := config.Load(filepath.Join(repo, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The binaries that shipped bwrap carried its digest: build them again
	// without it, as the project's own build would.
	ver, err := version.FromGit(repo, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range cfg(t).Targets {
		if len(tg.Helpers) == 0 {
			continue
		}
		tg.Helpers = nil
		out := filepath.Join(repo, "dist", "build", "tern_"+tg.GOOS+"_"+tg.GOARCH, c.BinaryName(tg))
		if err := buildFixture(filepath.Join(fixtureBins, "src"), out, tg, fixtureVersion, ver.Commit); err != nil {
			t.Fatal(err)
		}
	}
	var log bytes.Buffer
	_, err = Run(context.Background(), Options{Root: repo, Snapshot: true, ReuseBuild: true, Log: &log, SourceCache: t.TempDir(), Until: Verify})
	if err != nil {
		t.Fatalf("release: %v\n%s", err, log.String())
	}
	dir := layout.ReleaseDir(repo)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), layout.SBOMSuffix) || e.Name() == layout.DotSlashName(c) {
			t.Errorf("the release holds %s, whose door is closed", e.Name())
		}
	}

	reg := localRegistry(t)
	o := imageOptions(t, repo, dir, reg, "cosign-must-not-run")
	o.Config = c
	var out strings.Builder
	if _, err := image.Publish(context.Background(), o, &out); err != nil || !strings.Contains(out.String(), "skipped the image: doors.image is false in release.yaml") {
		t.Fatalf("image with doors.image false: %v\n%s", err, out.String())
	}
	regName, err := name.NewRegistry(reg, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if repos, err := remote.Catalog(context.Background(), regName); err != nil || len(repos) != 0 {
		t.Fatalf("the registry holds %v (%v)", repos, err)
	}
}

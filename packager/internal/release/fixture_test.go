package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
	"github.com/tern-agent/tern/packager/internal/version"
)

// The fixture is a tiny repository whose commit is the same on every run
// (fixed content, author and dates), and six tiny binaries stamped the way
// the release build stamps tern, cross-compiled once for all tests.

const fixtureCommitDate = "2026-11-01T12:00:00Z"

var (
	fixtureBins    string // dir holding <goos>_<goarch>/<binary>
	fixtureVersion string
	realConfig     string // the repository's release.yaml
	fixtureCache   string // a source cache primed with the fake helper's tarball
)

// The fake helper stands in for bubblewrap: a third_party entry whose
// "source" is a tiny tarball, with one patch and a recipe that copies the
// patched script. It exercises fetch, safe extraction, patches, the lock,
// staging and notices without a C toolchain.
const (
	fakeHelperScript  = "#!/bin/sh\necho fake 1.0\n"
	fakeHelperPatched = "#!/bin/sh\necho fake 1.0 patched\n"
	fakeHelperPatch   = "--- a/helper.sh\n+++ b/helper.sh\n@@ -1,2 +1,2 @@\n #!/bin/sh\n-echo fake 1.0\n+echo fake 1.0 patched\n"
	fakeHelperRecipe  = "#!/bin/sh\nset -eu\ncp helper.sh \"$OUT\"\n"
)

var fakeHelperSource []byte // the tarball, made in TestMain

// fixtureProgram prints its stamp, which holds the version, or exits with
// the code it is given: enough to check that launchers pass both through.
const fixtureProgram = `package main

import (
	"os"
	"strconv"
	"strings"
)

var stamp string

func main() {
	if len(os.Args) == 3 && os.Args[1] == "exit" {
		n, _ := strconv.Atoi(os.Args[2])
		os.Exit(n)
	}
	// Like tern: "tern <version> (...)", the stamp in the brackets. (The
	// marker and the key stay apart: the binary must hold one stamp only.)
	version, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(stamp, "@(#)"), "version="), ";")
	os.Stdout.WriteString("tern " + version + " (" + stamp + ")\n")
}
`

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	realConfig = filepath.Join(filepath.Dir(file), "..", "..", "..", "release.yaml")
	dir, err := os.MkdirTemp("", "packager-fixture-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		fixtureCache = filepath.Join(dir, "cache")
		if err := primeFakeHelper(dir); err != nil { // the repo's manifest names its digest
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		repo, err := makeRepo(filepath.Join(dir, "probe"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		info, err := version.FromGit(repo, true)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fixtureVersion = info.String()
		fixtureBins = filepath.Join(dir, "bins")
		if err := buildFixtureBinaries(fixtureBins, fixtureVersion, info.Commit); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.RemoveAll(dir)
	os.Exit(code)
}

// makeRepo creates the fixture repository at dir.
func makeRepo(dir string) (string, error) {
	cfg, err := os.ReadFile(realConfig)
	if err != nil {
		return "", err
	}
	files := map[string]string{
		"release.yaml": string(cfg),
		"LICENSE":      "Fixture licence.\n",
		".gitignore":   "/dist/\n",
		"third_party/fake/manifest.yaml": fmt.Sprintf(`name: fakehelper
binary: bwrap
version: "1.0"
license: MIT
license_files: [COPYING]
source:
  sha256: %s
  root: fakehelper-1.0
  urls: []
patches:
  - {file: patches/0001-patched.patch, sha256: %s, reason: says it is patched}
recipe: build.sh
targets:
  linux-x64: {host: x86_64-linux-gnu}
  linux-arm64: {host: aarch64-linux-gnu}
`, sha256Hex(fakeHelperSource), sha256Hex([]byte(fakeHelperPatch))),
		"third_party/fake/patches/0001-patched.patch": fakeHelperPatch,
		"third_party/fake/build.sh":                   fakeHelperRecipe,
		"third_party/fake/lock.yaml": fmt.Sprintf("linux-x64: %s\nlinux-arm64: %s\n",
			sha256Hex([]byte(fakeHelperPatched)), sha256Hex([]byte(fakeHelperPatched))),
	}
	// The npm templates and installers are the repository's own: the
	// launcher and scripts under test.
	tmplRoot := filepath.Dir(realConfig)
	err = walkFiles(tmplRoot, []string{"npm-template", "installers"}, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmplRoot, p)
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		return "", err
	}
	for name, text := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			return "", err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") || strings.HasSuffix(name, "bin/tern.js") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), mode); err != nil {
			return "", err
		}
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "."},
		{"-c", "user.name=fixture", "-c", "user.email=fixture@example.com", "commit", "-q", "-m", "fixture"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+fixtureCommitDate, "GIT_COMMITTER_DATE="+fixtureCommitDate, "SOURCE_DATE_EPOCH=")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir, nil
}

func walkFiles(root string, dirs []string, fn func(string, os.DirEntry, error) error) error {
	for _, d := range dirs {
		if err := filepath.WalkDir(filepath.Join(root, d), fn); err != nil {
			return err
		}
	}
	return nil
}

// primeFakeHelper makes the fake helper's source tarball and primes the
// fixture cache with it.
func primeFakeHelper(dir string) error {
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, f := range []struct{ name, body string }{
		{"fakehelper-1.0/helper.sh", fakeHelperScript},
		{"fakehelper-1.0/COPYING", "Fake helper licence, MIT.\n"},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(f.body))
	}
	tw.Close()
	gz.Close()
	fakeHelperSource = b.Bytes()
	p := filepath.Join(dir, "fakehelper-1.0.tar.gz")
	if err := os.WriteFile(p, fakeHelperSource, 0o644); err != nil {
		return err
	}
	return thirdparty.Cache{Dir: fixtureCache}.PrimeFrom(p, sha256Hex(fakeHelperSource))
}

func buildFixtureBinaries(dir, ver, commit string) error {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(fixtureProgram), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module fixture\n\ngo 1.22\n"), 0o644); err != nil {
		return err
	}
	cfg, err := config.Load(realConfig)
	if err != nil {
		return err
	}
	for _, t := range cfg.Targets {
		if err := buildFixture(src, filepath.Join(dir, t.GOOS+"_"+t.GOARCH, cfg.BinaryName(t)), t, ver, commit); err != nil {
			return err
		}
	}
	return nil
}

// buildFixture stamps the binary as .goreleaser.yaml does, with the digest
// of the fake bwrap for a target that ships it, and empty for the others.
func buildFixture(src, out string, t config.Target, ver, commit string) error {
	bwrap := ""
	for _, h := range t.Helpers {
		if h == "bwrap" {
			bwrap = sha256Hex([]byte(fakeHelperPatched))
		}
	}
	return buildFixtureStamp(src, out, t, fmt.Sprintf("@(#)version=%s;commit=%s;date=%s;bwrap_sha256=%s", ver, commit, fixtureCommitDate, bwrap))
}

func buildFixtureStamp(src, out string, t config.Target, stamp string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -X 'main.stamp="+stamp+"'", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS="+t.GOOS, "GOARCH="+t.GOARCH, "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the %s fixture: %v\n%s", t.Name, err, b)
	}
	return nil
}

// newRepo makes a fixture repository with GoReleaser's output already in
// dist/build, as if `goreleaser build` had just run.
func newRepo(t *testing.T) string {
	t.Helper()
	repo, err := makeRepo(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(realConfig)
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, tg := range cfg.Targets {
		rel := filepath.Join("dist", "build", "tern_"+tg.GOOS+"_"+tg.GOARCH, cfg.BinaryName(tg))
		copyFile(t, filepath.Join(fixtureBins, tg.GOOS+"_"+tg.GOARCH, cfg.BinaryName(tg)), filepath.Join(repo, rel))
		entries = append(entries, fmt.Sprintf(`{"name":%q,"path":%q,"goos":%q,"goarch":%q,"type":"Binary"}`,
			cfg.BinaryName(tg), filepath.ToSlash(rel), tg.GOOS, tg.GOARCH))
	}
	entries = append(entries, `{"name":"metadata.json","path":"dist/build/metadata.json","type":"Metadata"}`)
	writeFile(t, filepath.Join(repo, "dist", "build", "artifacts.json"), "["+strings.Join(entries, ",")+"]")
	return repo
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cosignCLI returns the real cosign binary. `make test` sets COSIGN and
// TERN_TEST_REQUIRE_TOOLS, so that a missing cosign fails there; a bare
// `go test` skips.
func cosignCLI(t *testing.T) string {
	t.Helper()
	p := os.Getenv("COSIGN")
	if p == "" {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
			t.Fatal("COSIGN is not set; `make test` builds cosign and sets it")
		}
		t.Skip("COSIGN is not set (run `make test`, which builds cosign v3.1.3)")
	}
	return p
}

func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

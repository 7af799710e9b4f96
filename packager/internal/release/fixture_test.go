package release

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
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
)

const fixtureProgram = `package main

import "os"

var stamp string

func main() { os.Stdout.WriteString(stamp + "\n") }
`

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	realConfig = filepath.Join(filepath.Dir(file), "..", "..", "..", "release.yaml")
	dir, err := os.MkdirTemp("", "packager-fixture-")
	if err != nil {
		panic(err)
	}
	code := func() int {
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
	}
	for name, text := range files {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
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

func buildFixture(src, out string, t config.Target, ver, commit string) error {
	stamp := fmt.Sprintf("@(#)version=%s;commit=%s;date=%s", ver, commit, fixtureCommitDate)
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

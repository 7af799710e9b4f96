// Package doorstest gives the package-manager doors' tests one release to
// describe: a config of every kind of target a door keeps or leaves out,
// its archives with digests, and bare git repositories to publish to. It
// is for tests only; no release code imports it.
package doorstest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/doors"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

// Version is the release's version.
const Version = "1.2.3"

// Targets are macOS and Linux on Intel and Arm, windows on x64 and arm64,
// and two targets no door installs.
var Targets = []config.Target{
	{Name: "darwin-arm64", GOOS: "darwin", GOARCH: "arm64"},
	{Name: "darwin-x64", GOOS: "darwin", GOARCH: "amd64"},
	{Name: "linux-arm64", GOOS: "linux", GOARCH: "arm64"},
	{Name: "linux-armv7", GOOS: "linux", GOARCH: "arm", GOARM: "7"},
	{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"},
	{Name: "freebsd-x64", GOOS: "freebsd", GOARCH: "amd64"},
	{Name: "windows-arm64", GOOS: "windows", GOARCH: "arm64"},
	{Name: "windows-x64", GOOS: "windows", GOARCH: "amd64"},
}

// Config is the release's config.
func Config() *config.Config {
	return &config.Config{
		Product: "tern", Binary: "tern", Repository: "https://github.com/example-org/tern",
		Targets: Targets,
		NPM:     config.NPM{Scope: "@example", Package: "cli", Description: "An agent for your terminal", License: "Apache-2.0"},
	}
}

// Archives are the release's archives, each with the digest of its name.
func Archives(c *config.Config) []doors.Archive {
	var out []doors.Archive
	for _, t := range c.Targets {
		name := layout.ArchiveName(c, Version, t)
		sum := sha256.Sum256([]byte("archive " + name))
		out = append(out, doors.Archive{Target: t.Name, Name: name, SHA256: hex.EncodeToString(sum[:])})
	}
	return out
}

// Context is a pipeline context whose release holds an archive file of
// every target, registered, for a pipe to read.
func Context(t *testing.T) (*pipeline.Context, map[string]string) {
	t.Helper()
	return ContextFor(t, Config())
}

// ContextFor is Context for another config.
func ContextFor(t *testing.T, c *config.Config) (*pipeline.Context, map[string]string) {
	t.Helper()
	ctx := pipelinetest.New(t)
	ctx.Config = c
	digests := map[string]string{}
	for _, tg := range ctx.Config.Targets {
		name := layout.ArchiveName(ctx.Config, Version, tg)
		p := filepath.Join(ctx.Release, name)
		body := []byte("archive of " + tg.Name)
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		digests[name] = hex.EncodeToString(sum[:])
		ctx.Artifacts.Add(artifact.Artifact{Name: name, Path: p, Kind: artifact.Archive, Target: tg.Name})
	}
	return ctx, digests
}

// RequireTool skips the test without the tool, or fails it when the run
// promised real tools (TERN_TEST_REQUIRE_TOOLS=1, as make test sets).
func RequireTool(t *testing.T, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (TERN_TEST_REQUIRE_TOOLS=1): apt-get install %s", tool, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s); set TERN_TEST_REQUIRE_TOOLS=1 to fail instead", tool, pkg)
	}
}

// Git runs git in dir and returns its output.
func Git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// BareRepo is a bare repository made with git init --bare, whose default
// branch main holds one commit with a README, as a new tap or fork does.
func BareRepo(t *testing.T) string {
	t.Helper()
	RequireTool(t, "git", "git")
	bare := filepath.Join(t.TempDir(), "repo.git")
	Git(t, "", "init", "--quiet", "--bare", "--initial-branch=main", bare)
	work := t.TempDir()
	Git(t, "", "clone", "--quiet", bare, work)
	if err := os.WriteFile(filepath.Join(work, "README.md"), []byte("# repository\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Git(t, work, "add", "README.md")
	Git(t, work, "commit", "--quiet", "-m", "first")
	Git(t, work, "push", "--quiet", "origin", "HEAD:refs/heads/main")
	return bare
}

// Show is a file's contents on a branch of a bare repository.
func Show(t *testing.T, bare, branch, file string) string {
	t.Helper()
	return Git(t, bare, "show", branch+":"+file)
}

// Commits counts a branch's commits.
func Commits(t *testing.T, bare, branch string) string {
	t.Helper()
	return Git(t, bare, "rev-list", "--count", branch)
}

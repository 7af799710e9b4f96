package stage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/notices"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

// An extra file is read inside release.yaml's directory: a link put in
// its place after release.yaml was loaded, leading to a file of the host,
// stops the staging instead of shipping that file.
func TestExtraFilesStayInsideReleaseYAMLsDirectory(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	dir := filepath.Join(outside, "repo")
	if err := os.MkdirAll(filepath.Join(dir, "doc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for p, body := range map[string]string{
		secret:                        "host secret",
		filepath.Join(dir, "LICENSE"): "licence",
		filepath.Join(dir, "doc/x.1"): "manual",
		filepath.Join(dir, "release.yaml"): "product: x\nbinary: x\nlicense_file: LICENSE\ndoors: {npm: false}\n" +
			"targets:\n - {name: linux-x64, goos: linux, goarch: amd64}\nfiles:\n - {src: doc/x.1, dst: share/man/man1/x.1}\n",
	} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(filepath.Join(dir, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "doc/x.1")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "doc/x.1")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	ctx := pipelinetest.New(t)
	ctx.Config, ctx.Root = cfg, dir
	bin := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(bin, []byte("not a Go binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: "x", Path: bin, Kind: artifact.Binary, Target: "linux-x64"})
	err = Pipe{Notices: &notices.Writer{}}.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "linux-x64: release.yaml's files[0].src: ") {
		t.Fatalf("err = %v, want the link refused", err)
	}
	if got, err := os.ReadFile(filepath.Join(ctx.StageDir(), "linux-x64", "share/man/man1/x.1")); err == nil {
		t.Errorf("the tree ships the host's file: %q", got)
	}
}

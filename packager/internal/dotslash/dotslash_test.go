package dotslash

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

func TestAnArchiveForAnUnknownTargetIsAnError(t *testing.T) {
	ctx := pipelinetest.New(t)
	p := filepath.Join(ctx.Release, "tern-1.2.3-plan9-x64.tar.gz")
	if err := os.WriteFile(p, []byte("archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: "tern-1.2.3-plan9-x64.tar.gz", Path: p, Kind: artifact.Archive, Target: "plan9-x64"})
	err := Pipe{}.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), `tern-1.2.3-plan9-x64.tar.gz is for target "plan9-x64", which release.yaml does not have`) {
		t.Fatalf("got %v", err)
	}
}

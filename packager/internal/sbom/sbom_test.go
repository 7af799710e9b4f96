package sbom

import (
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

func TestAnArchiveForAnUnknownTargetIsAnError(t *testing.T) {
	ctx := pipelinetest.New(t)
	ctx.Artifacts.Add(artifact.Artifact{Name: "tern-1.2.3-plan9-x64.tar.gz", Path: "/nonexistent", Kind: artifact.Archive, Target: "plan9-x64"})
	ctx.Artifacts.Add(artifact.Artifact{Name: "plan9-x64", Path: t.TempDir(), Kind: artifact.Tree, Target: "plan9-x64"})
	err := Pipe{}.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), `tern-1.2.3-plan9-x64.tar.gz is for target "plan9-x64", which release.yaml does not have`) {
		t.Fatalf("got %v", err)
	}
}

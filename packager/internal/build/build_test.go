package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

func testContext(t *testing.T) *pipeline.Context { return pipelinetest.New(t) }

func TestHelperDigestsStampEveryShippedHelper(t *testing.T) {
	ctx := testContext(t)
	p := filepath.Join(t.TempDir(), "bwrap")
	if err := os.WriteFile(p, []byte("bwrap"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: "bwrap", Path: p, Kind: artifact.Helper, Target: "linux-x64"})
	env, err := helperDigests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum, _, _ := fileutil.SHA256File(p)
	want := map[string]bool{EnvHelperPrefix + "bwrap_linux_amd64=" + sum: false, EnvHelperPrefix + "bwrap_darwin_arm64=": false}
	for _, e := range env {
		if _, ok := want[e]; !ok {
			t.Errorf("unexpected %s", e)
		}
		want[e] = true
	}
	for e, seen := range want {
		if !seen {
			t.Errorf("missing %s", e)
		}
	}
}

// A helper that cannot be hashed must stop the build: an empty digest in the
// stamp would let the agent run the shipped helper unchecked.
func TestBuildRefusesAHelperItCannotHash(t *testing.T) {
	for _, tc := range []struct {
		name string
		add  func(ctx *pipeline.Context)
		want []string
	}{
		{"an unreadable helper", func(ctx *pipeline.Context) {
			ctx.Artifacts.Add(artifact.Artifact{Name: "bwrap", Path: filepath.Join(ctx.Root, "gone", "bwrap"), Kind: artifact.Helper, Target: "linux-x64"})
		}, []string{filepath.Join("gone", "bwrap"), "bwrap_sha256", "packager helpers"}},
		{"a helper never built", func(*pipeline.Context) {}, []string{"linux-x64 ships bwrap", "bwrap_sha256"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			tc.add(ctx)
			err := Pipe{GoReleaser: filepath.Join(ctx.Root, "goreleaser-must-not-run")}.Run(ctx)
			if err == nil {
				t.Fatal("the build went ahead")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q: %v", w, err)
				}
			}
		})
	}
}

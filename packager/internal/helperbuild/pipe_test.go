package helperbuild

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
)

// A project whose targets list no helper needs no third_party/: the pipe
// neither reads nor requires it, even when one is there and broken.
func TestNoHelpersNeedsNoThirdParty(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, root string)
	}{
		{"no third_party", func(*testing.T, string) {}},
		{"a broken third_party", func(t *testing.T, root string) {
			dir := filepath.Join(root, "third_party", "broken")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), []byte("not: [a manifest"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := pipelinetest.New(t)
			for i := range ctx.Config.Targets {
				ctx.Config.Targets[i].Helpers = nil
			}
			tc.setup(t, ctx.Root)
			// The builder has no cache nor output directory: touching either
			// would fail.
			if err := (Pipe{}).Run(ctx); err != nil {
				t.Fatalf("a release without helpers: %v", err)
			}
			if n := len(ctx.Artifacts.Filter(func(artifact.Artifact) bool { return true })); n != 0 {
				t.Fatalf("registered %d artifacts, want none", n)
			}
			if log := ctx.Log.(*bytes.Buffer).String(); !strings.Contains(log, "skipped: no target lists helpers in release.yaml") {
				t.Errorf("the log does not say why nothing was built: %q", log)
			}
		})
	}
}

// A target that lists a helper in a repository without third_party/ is
// refused, naming the target, the helper and the two ways out.
func TestAHelperWithoutThirdPartyNamesTheRemedy(t *testing.T) {
	ctx := pipelinetest.New(t)
	ms, err := thirdparty.Load(ctx.Root)
	if err != nil || len(ms) != 0 {
		t.Fatalf("thirdparty.Load of a repository without third_party/: %v, %v; want nothing and no error", ms, err)
	}
	err = Pipe{}.Run(ctx)
	want := `target linux-x64 lists helper bwrap: no third_party/*/manifest.yaml builds a helper named "bwrap": add third_party/<name>/manifest.yaml with binary: bwrap, or remove bwrap from the target's helpers in release.yaml`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/brew"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/doors/doorstest"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/scoop"
	"github.com/tern-agent/tern/packager/internal/winget"
)

// packager publish brew, scoop and winget, with the repository's own
// release.yaml, each run twice against a bare repository: the first run
// commits, the second changes nothing; without the repository's flag the
// command fails.
func TestPublishDoorCommands(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(root, "release.yaml")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, _ := doorstest.ContextFor(t, cfg)
	for _, p := range []pipeline.Pipe{brew.Pipe{}, scoop.Pipe{}, winget.Pipe{}} {
		if err := p.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	m := manifest.Manifest{Schema: manifest.Schema, Product: cfg.Product, Version: doorstest.Version, Time: ctx.Version.Time}
	for _, a := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Archive)) {
		m.Artifacts = append(m.Artifacts, manifest.Artifact{Name: a.Name, Target: a.Target, Kind: a.Kind, SHA256: a.SHA256})
	}
	raw, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(ctx.Release, layout.Manifest), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, id, err := winget.Identity(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ door, flag, branch string }{
		{"brew", "--tap", "main"},
		{"scoop", "--bucket", "main"},
		{"winget", "--fork", id + "-" + doorstest.Version},
	} {
		t.Run(tc.door, func(t *testing.T) {
			bare := doorstest.BareRepo(t)
			args := []string{"--root", root, "--config", cfgPath, "publish", tc.door, tc.flag, bare, "--dir", ctx.Release}
			for run := 1; run <= 2; run++ {
				if code := Execute(args); code != 0 {
					t.Fatalf("run %d: packager %v: exit %d", run, args, code)
				}
			}
			if n := doorstest.Commits(t, bare, tc.branch); n != "2" {
				t.Errorf("%s has %s commits after two runs, want 2", tc.branch, n)
			}
			if code := Execute([]string{"--root", root, "--config", cfgPath, "publish", tc.door, "--dir", ctx.Release}); code != 1 {
				t.Errorf("without %s: exit %d, want 1", tc.flag, code)
			}
		})
	}
}

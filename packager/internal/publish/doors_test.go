package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/brew"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/doors/doorstest"
	"github.com/tern-agent/tern/packager/internal/gitpublish"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/scoop"
	"github.com/tern-agent/tern/packager/internal/winget"
)

// release writes the three doors' files and a manifest.json of the
// archives into a release directory, as a release run does.
func release(t *testing.T) (*pipeline.Context, string) {
	t.Helper()
	ctx, _ := doorstest.Context(t)
	for _, p := range []pipeline.Pipe{brew.Pipe{}, scoop.Pipe{}, winget.Pipe{}} {
		if err := p.Run(ctx); err != nil {
			t.Fatal(err)
		}
	}
	m := manifest.Manifest{Schema: manifest.Schema, Product: "tern", Version: doorstest.Version, Time: ctx.Version.Time}
	for _, a := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Archive)) {
		m.Artifacts = append(m.Artifacts, manifest.Artifact{Name: a.Name, Target: a.Target, Kind: a.Kind, Size: a.Size, SHA256: a.SHA256})
	}
	raw, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(ctx.Release, layout.Manifest), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return ctx, ctx.Release
}

// Each door publishes its file where its package manager reads it, and a
// second run changes nothing.
func TestPublishDoorsTwice(t *testing.T) {
	ctx, dir := release(t)
	for _, tc := range []struct {
		name   string
		run    func(context.Context, *config.Config, GitOptions) (gitpublish.Result, error)
		branch string
		file   string
	}{
		{"brew", Homebrew, "main", "Casks/tern.rb"},
		{"scoop", Scoop, "main", "bucket/tern.json"},
		{"winget", Winget, "example-org.tern-1.2.3", "manifests/e/example-org/tern/1.2.3/example-org.tern.installer.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bare := doorstest.BareRepo(t)
			var log bytes.Buffer
			o := GitOptions{Repo: bare, Dir: dir, Log: &log}
			for i, want := range []bool{true, false} {
				r, err := tc.run(context.Background(), ctx.Config, o)
				if err != nil {
					t.Fatal(err)
				}
				if r.Changed != want || r.Branch != tc.branch {
					t.Errorf("run %d: %+v", i+1, r)
				}
			}
			want, _ := os.ReadFile(filepath.Join(dir, filepath.Base(tc.file)))
			if got := doorstest.Show(t, bare, tc.branch, tc.file); got != strings.TrimSpace(string(want)) {
				t.Errorf("%s on %s:\n%s\nwant\n%s", tc.file, tc.branch, got, want)
			}
			if n := doorstest.Commits(t, bare, tc.branch); n != "2" {
				t.Errorf("%s has %s commits, want the first and ours", tc.branch, n)
			}
		})
	}
}

// A door's file that does not match the release's archives is refused
// before anything is cloned.
func TestPublishRefusesAFileThatIsNotTheRelease(t *testing.T) {
	ctx, dir := release(t)
	p := filepath.Join(dir, "tern.rb")
	raw, _ := os.ReadFile(p)
	if err := os.WriteFile(p, bytes.Replace(raw, []byte(`version "1.2.3"`), []byte(`version "9.9.9"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Homebrew(context.Background(), ctx.Config, GitOptions{Repo: "never-cloned", Dir: dir, Log: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), `tern.rb: version "9.9.9", want "1.2.3"`) || !strings.Contains(err.Error(), "run packager verify") {
		t.Fatalf("got %v", err)
	}
}

// With the door off, publish says so and touches no repository.
func TestPublishDoorOff(t *testing.T) {
	ctx, dir := release(t)
	off := false
	ctx.Config.Doors.Scoop = &off
	var log bytes.Buffer
	r, err := Scoop(context.Background(), ctx.Config, GitOptions{Repo: "never-cloned", Dir: dir, Log: &log})
	if err != nil || r.Changed || !strings.Contains(log.String(), "scoop skipped: doors.scoop is false in release.yaml") {
		t.Errorf("%+v, %v, %s", r, err, log.String())
	}
}

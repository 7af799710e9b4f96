// Package pipelinetest makes a small pipeline context for a step's unit
// tests, as GoReleaser's testctx does: a config of two targets (one shipping
// bwrap), version 1.2.3, an empty artifact list and temporary directories.
// It is for tests only; no release code imports it.
package pipelinetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/version"
)

// New returns the context; its Log is a *bytes.Buffer.
func New(t *testing.T) *pipeline.Context {
	t.Helper()
	root := t.TempDir()
	return &pipeline.Context{
		Context: context.Background(),
		Config: &config.Config{Product: "tern", Binary: "tern", Repository: "https://github.com/example/tern",
			Targets: []config.Target{
				{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64", NPMOS: "linux", NPMCPU: "x64", Helpers: []string{"bwrap"}},
				{Name: "darwin-arm64", GOOS: "darwin", GOARCH: "arm64", NPMOS: "darwin", NPMCPU: "arm64"},
			},
			NPM: config.NPM{Scope: "@example", Package: "cli"}},
		Version:   version.Info{Version: semver.MustParse("1.2.3"), Commit: "abc", Time: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)},
		Root:      root,
		Dist:      layout.Dist(root),
		Release:   t.TempDir(),
		Artifacts: &artifact.List{},
		Log:       &bytes.Buffer{},
	}
}

// Package manifest writes and reads manifest.json: the release's own
// description of itself (version, commit, build time, targets) and of every
// artifact in it, with the binary and helpers inside each archive. It is a
// release file, so SHA256SUMS covers it and the signature covers that.
package manifest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/checksum"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Schema is the manifest format's version; readers refuse others.
const Schema = 1

// Manifest is manifest.json.
type Manifest struct {
	Schema    int        `json:"schema"`
	Product   string     `json:"product"`
	Version   string     `json:"version"`
	Commit    string     `json:"commit"`
	Time      time.Time  `json:"time"`
	Targets   []Target   `json:"targets"`
	Artifacts []Artifact `json:"artifacts"`
}

// Target is a release target as users and tools see it.
type Target struct {
	Name    string   `json:"name"`
	GOOS    string   `json:"goos"`
	GOARCH  string   `json:"goarch"`
	NPMOS   string   `json:"npm_os"`
	NPMCPU  string   `json:"npm_cpu"`
	Helpers []string `json:"helpers"`
}

// Artifact is one release file.
type Artifact struct {
	Name    string          `json:"name"`
	Target  string          `json:"target,omitempty"`
	Kind    artifact.Kind   `json:"kind"`
	Size    int64           `json:"size"`
	SHA256  string          `json:"sha256"`
	Binary  *artifact.File  `json:"binary,omitempty"`
	Helpers []artifact.File `json:"helpers,omitempty"`
}

// Pipe writes manifest.json over every release file made so far.
type Pipe struct{}

func (Pipe) String() string { return "write " + layout.Manifest }

func (Pipe) Run(ctx *pipeline.Context) error {
	described := artifact.And(artifact.ReleaseFiles, artifact.Not(artifact.ByKind(artifact.Checksums, artifact.Manifest, artifact.Signature)))
	if err := checksum.Digest(ctx, described); err != nil {
		return err
	}
	m := Manifest{
		Schema:  Schema,
		Product: ctx.Config.Product,
		Version: ctx.Version.String(),
		Commit:  ctx.Version.Commit,
		Time:    ctx.Version.Time.UTC(),
	}
	for _, t := range ctx.Config.Targets {
		helpers := t.Helpers
		if helpers == nil {
			helpers = []string{}
		}
		m.Targets = append(m.Targets, Target{Name: t.Name, GOOS: t.GOOS, GOARCH: t.GOARCH, NPMOS: t.NPMOS, NPMCPU: t.NPMCPU, Helpers: helpers})
	}
	for _, a := range ctx.Artifacts.Filter(described) {
		m.Artifacts = append(m.Artifacts, Artifact{
			Name: a.Name, Target: a.Target, Kind: a.Kind, Size: a.Size, SHA256: a.SHA256,
			Binary: a.Binary, Helpers: a.Helpers,
		})
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(ctx.Release, layout.Manifest)
	if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		return err
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: layout.Manifest, Path: path, Kind: artifact.Manifest})
	return nil
}

// Read parses a manifest and checks its schema.
func Read(path string) (*Manifest, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %d, this packager reads schema %d", path, m.Schema, Schema)
	}
	return &m, nil
}

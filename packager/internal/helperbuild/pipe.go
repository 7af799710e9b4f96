package helperbuild

import (
	"fmt"
	"slices"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
)

// Pipe makes sure every helper a target ships is built and matches its
// lock, and registers it for staging. A project whose targets ship no
// helper has no third_party/, and the pipe does not look for one: most Go
// CLIs are one binary.
type Pipe struct{ Builder Builder }

func (Pipe) String() string { return "build helpers from third_party" }

func (p Pipe) Run(ctx *pipeline.Context) error {
	if !slices.ContainsFunc(ctx.Config.Targets, func(t config.Target) bool { return len(t.Helpers) > 0 }) {
		ctx.Logf("skipped: no target lists helpers in release.yaml")
		return nil
	}
	manifests, err := thirdparty.Load(ctx.Root)
	if err != nil {
		return err
	}
	for _, t := range ctx.Config.Targets {
		for _, name := range t.Helpers {
			m, err := thirdparty.ForBinary(manifests, name)
			if err != nil {
				return fmt.Errorf("target %s lists helper %s: %w: add third_party/<name>/manifest.yaml with binary: %s, or remove %s from the target's helpers in release.yaml", t.Name, name, err, name, name)
			}
			a, err := p.Builder.Ensure(ctx, m, t.Name)
			if err != nil {
				return err
			}
			ctx.Artifacts.Add(a)
		}
	}
	return nil
}

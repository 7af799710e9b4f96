package helperbuild

import (
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
)

// Pipe makes sure every helper a target ships is built and matches its
// lock, and registers it for staging.
type Pipe struct{ Builder Builder }

func (Pipe) String() string { return "build helpers from third_party" }

func (p Pipe) Run(ctx *pipeline.Context) error {
	manifests, err := thirdparty.Load(ctx.Root)
	if err != nil {
		return err
	}
	for _, t := range ctx.Config.Targets {
		for _, name := range t.Helpers {
			m, err := thirdparty.ForBinary(manifests, name)
			if err != nil {
				return err
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

// Package pipeline runs a release as a list of small steps ("pipes") over one
// shared Context. Logging, timing and error wrapping happen here, around each
// pipe, so no pipe repeats them. A pipe reads what earlier pipes made from
// the artifact list and adds what it makes.
package pipeline

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/version"
)

// Context is what every pipe sees.
type Context struct {
	context.Context
	Config    *config.Config
	Version   version.Info
	Root      string // the repository root
	Dist      string // dist/
	Release   string // the release directory being written
	Artifacts *artifact.List
	Log       io.Writer
}

// BuildDir is where GoReleaser writes: its --clean wipes only this.
func (c *Context) BuildDir() string { return layout.BuildDir(c.Dist) }

// StageDir holds one staged tree per target.
func (c *Context) StageDir() string { return layout.StageDir(c.Dist) }

// Logf writes one line of progress.
func (c *Context) Logf(format string, args ...any) {
	fmt.Fprintf(c.Log, "  "+format+"\n", args...)
}

// Pipe is one step of a release.
type Pipe interface {
	// String names the step in logs and errors.
	String() string
	Run(ctx *Context) error
}

// Run runs the pipes in order and stops at the first error, which it wraps
// with the step's name.
func Run(ctx *Context, pipes ...Pipe) error {
	for _, p := range pipes {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := time.Now()
		fmt.Fprintf(ctx.Log, "• %s\n", p)
		if err := p.Run(ctx); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		fmt.Fprintf(ctx.Log, "  done in %s\n", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

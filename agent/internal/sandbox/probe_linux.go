package sandbox

import (
	"context"
	"errors"

	"github.com/tern-agent/tern/agent/internal/helperbin"
)

// Probe looks at what this host offers. It reads a few kernel settings and,
// when bwrap comes from PATH, asks it for its version: cheap enough to run
// before every command.
func Probe() Host {
	h := Host{OS: "linux"}
	b, err := helperbin.FindBwrap()
	var notFound *helperbin.NotFoundError
	switch {
	case err == nil:
		h.Bwrap = &b
	case errors.As(err, &notFound):
		h.BwrapErr = err.Error()
	default:
		h.BwrapErr, h.BwrapConfigErr = err.Error(), true
	}
	bwrapPath := ""
	if h.Bwrap != nil {
		bwrapPath = h.Bwrap.Path
	}
	h.UserNS = SystemUserNSProbe().Check(bwrapPath)
	h.LandlockABI, h.LandlockErr = LandlockABI()
	return h
}

func runSandboxed(ctx context.Context, pl Plan, p Policy, c Command) (int, error) {
	switch pl.Backend {
	case Bubblewrap:
		return runBwrap(ctx, pl.Bwrap, p, c)
	case Landlock:
		return runLandlock(ctx, pl, p, c)
	}
	return ExitSandboxFailed, errors.New("no sandbox mechanism " + string(pl.Backend) + " on Linux")
}

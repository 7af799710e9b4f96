package sandbox

import (
	"context"
	"errors"
	"strings"

	"github.com/tern-agent/tern/agent/internal/helperbin"
)

// Probe looks at what this host offers. It reads a few kernel settings,
// asks a bwrap from PATH for its version and, when the settings allow bwrap,
// starts it once on nothing (startsBwrap): about 15 ms in all
// (BenchmarkProbe), cheap enough to run once per tern command, and the only
// way to learn that a container forbids the namespaces bwrap needs before a
// user's command fails on it.
func Probe() Host {
	h := Host{OS: "linux"}
	b, passed, err := FindBwrap()
	var notFound *helperbin.NotFoundError
	switch {
	case err == nil:
		h.Bwrap = &b
	case errors.As(err, &notFound):
		h.BwrapErr = err.Error()
		if len(passed) > 0 {
			h.BwrapErr += "; passed over " + strings.Join(passed, ", ") + ": a sandboxed command may write there, and tern runs bwrap outside the sandbox"
		}
	default:
		h.BwrapErr, h.BwrapConfigErr = err.Error(), true
	}
	bwrapPath := ""
	if h.Bwrap != nil {
		bwrapPath = h.Bwrap.Path
	}
	h.UserNS = SystemUserNSProbe().Check(bwrapPath)
	if h.Bwrap != nil && h.UserNS.OK {
		if err := startsBwrap(*h.Bwrap); err != nil {
			h.BwrapStartErr = err.Error()
			var start *bwrapStartError
			h.BwrapStartPassing = errors.As(err, &start) && !start.lasting
		}
	}
	h.LandlockABI, h.LandlockErr = LandlockABI()
	if h.BwrapStartErr != "" && !h.BwrapStartPassing && h.LandlockABI > 0 {
		h.LandlockMounts = &Check{OK: true, Detail: "a mount namespace keeps protected paths read-only"}
		if err := mountsProtect(); err != nil {
			h.LandlockMounts = &Check{Detail: "no mount namespace for protected paths: " + err.Error()}
		}
	}
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

//go:build unix

package cli

import (
	"os"
	"os/signal"
	"syscall"
)

// forwardedSignals catches the signals tern passes on to a sandboxed command.
func forwardedSignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	return ch, func() { signal.Stop(ch) }
}

package cli

import (
	"os"
	"os/signal"
)

// forwardedSignals catches Ctrl-C, which Windows delivers to the child too;
// catching it keeps tern alive to report the child's exit code.
func forwardedSignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, os.Interrupt)
	return ch, func() { signal.Stop(ch) }
}

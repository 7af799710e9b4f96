package sandbox

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

// The sandbox says once per tern process when it cannot keep protected
// paths read-only, on tern's own stderr: the person, not the command's
// output, must read it.
var warned sync.Once

func warnUnprotected(paths []string, why string) {
	if len(paths) == 0 {
		return
	}
	warned.Do(func() {
		fmt.Fprintf(os.Stderr, "tern: warning: %s stay writable in this sandbox: %s; run `tern doctor` for the remedy\n", strings.Join(paths, ", "), why)
	})
}

// warnLinked says that protected entries which are symlinks can be swapped.
func warnLinked(p Policy) {
	if len(p.LinkedProtected) > 0 {
		warnUnprotected(p.LinkedProtected, "each is a symlink, which a command can replace with a directory of its own; make it a real directory")
	}
}

var warnedFallback sync.Once

// warnFallback says once per tern process that Landlock stands in for a
// bwrap that was found but cannot run here, and why.
func warnFallback(why string) {
	if why == "" {
		return
	}
	warnedFallback.Do(func() {
		fmt.Fprintf(os.Stderr, "tern: warning: bwrap cannot run here (%s), so Landlock confines commands instead; run `tern doctor` for details\n", why)
	})
}

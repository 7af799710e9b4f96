// Command packager turns the binaries GoReleaser compiled into a release:
// staged trees, archives, npm packages, checksums and signatures. It meets the
// agent only at the artifact (binary, tree layout, version stamp) and never
// imports its code.
package main

import (
	"os"

	"github.com/tern-agent/tern/packager/internal/cli"
)

func main() {
	os.Exit(cli.Execute(os.Args[1:]))
}

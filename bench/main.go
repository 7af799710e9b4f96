// Command bench prints tern's figures: start-up, packaging, the npm
// launcher, the installer and the agent's runtime. Each subcommand measures
// what it compares side by side in one run, so that a ratio holds on any
// machine, and prints the target each figure is held to. It asserts nothing:
// a figure that misses says MISSED and the program still exits 0.
//
// It is a module of its own, outside the workspace, with no requirements:
// benchmarks never steer, or get steered by, the product's dependencies.
// Build it, then run it from the repository's root:
//
//	go build -C bench -o ../dist/tools/bench . && dist/tools/bench startup -tern dist/stage/linux-x64/bin/tern
package main

import (
	"flag"
	"fmt"
	"os"
)

// A benchmark's options: it declares them as flags, and runs with them
// parsed, printing its table.
type benchmark interface {
	flags(*flag.FlagSet)
	run()
}

var subcommands = []struct {
	name, about string
	bench       benchmark
}{
	{"startup", "tern --version against /bin/true and a bare Go program; peak RSS; size", &startupOptions{}},
	{"packaging", "the packager's steps against GoReleaser's pipes; hashing; archive formats", &packagingOptions{}},
	{"npm", "tern --version through the npm bin and the JS launcher, against node -e ''", &npmOptions{}},
	{"installer", "install.sh end to end against curl, sha256sum -c and tar", &installerOptions{}},
	{"split", "one packager release against 2 and 3 parallel packager builds + merge; merge alone", &splitOptions{}},
	{"exec", "tern exec: RSS waiting on the model, first request, sandbox overhead per call", &execOptions{}},
	{"signing", "darwin code signing (ad hoc, Developer ID) and Authenticode, per release binary", &signingOptions{}},
}

func main() {
	if len(os.Args) > 1 {
		for _, c := range subcommands {
			if c.name == os.Args[1] {
				prog = c.name
				flags := flag.NewFlagSet(c.name, flag.ExitOnError)
				c.bench.flags(flags)
				flags.Parse(os.Args[2:])
				c.bench.run()
				return
			}
		}
		fmt.Fprintf(os.Stderr, "bench: no subcommand %q\n", os.Args[1])
	}
	fmt.Fprintln(os.Stderr, "usage: bench SUBCOMMAND [flags] (run from the repository's root; -h lists a subcommand's flags)")
	for _, c := range subcommands {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.name, c.about)
	}
	os.Exit(2)
}

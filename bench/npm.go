package main

// npm prints what the npm layer costs at start-up: `tern --version` through
// the npm bin, linked by the launcher's first run and through the JS
// launcher, beside the native binary and a bare `node -e ''`, interleaved in
// one run. It lays out node_modules by hand from the release's npm
// tarballs, the way npm would, so that only the launcher is measured. The
// launcher is held to 10 ms over bare node. Then it installs through every
// package manager from a local verdaccio and times each door (npmdoors.go).
//
//	bench npm -release dist/release

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type npmOptions struct {
	release string
	runs    int
}

func (o *npmOptions) flags(f *flag.FlagSet) {
	f.StringVar(&o.release, "release", "dist/release", "the release directory")
	f.IntVar(&o.runs, "runs", 31, "timed runs of each command")
}

func (o *npmOptions) run() {
	platform := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	key := runtime.GOOS + "-" + platform
	meta := glob(filepath.Join(o.release, "tern-agent-cli-[0-9]*.tgz"))
	plat := glob(filepath.Join(o.release, "tern-agent-cli-"+key+"-*.tgz"))

	dir := mustTemp("bench-npm-")
	defer os.RemoveAll(dir)
	mods := filepath.Join(dir, "node_modules", "@tern-agent")
	untar(meta, filepath.Join(mods, "cli"))
	untar(plat, filepath.Join(mods, "cli-"+key))
	native := filepath.Join(mods, "cli-"+key, "bin", "tern")
	shim := filepath.Join(mods, "cli", "bin", "tern.js")
	// What the first run does on npm: the bin becomes a launcher that sh
	// runs to exec the binary (lib/firstrun.js). A bin link to the launcher,
	// run once, makes it.
	linked := filepath.Join(dir, "tern-linked")
	must(os.Symlink(shim, linked))
	inDir(dir, nil, linked, "--version")
	if head, _ := os.ReadFile(shim); !strings.HasPrefix(string(head), "#!/bin/sh\n") {
		fail("the first run through %s did not replace %s", linked, shim)
	}
	// The JS launcher, for its own rows: a second copy of the meta package.
	untar(meta, filepath.Join(mods, "cli-js"))
	shim = filepath.Join(mods, "cli-js", "bin", "tern.js")

	// The launcher hashes the binary once and records it in a stamp beside
	// it (lib/platform.js, verify); later starts only stat. The last row
	// removes the stamp before each run, to show what the first start costs.
	stamp := native + ".verified"
	type row struct {
		name   string
		argv   []string
		before func()
	}
	var (
		nativeRow   = row{"native binary", []string{native, "--version"}, nil}
		linkedRow   = row{"npm bin, linked by the first run", []string{linked, "--version"}, nil}
		launcherRow = row{"npm bin, JS launcher", []string{shim, "--version"}, nil}
		nodeRow     = row{"node -e ''", []string{"node", "-e", ""}, nil}
		firstRow    = row{"JS launcher, first run (hashes)", []string{shim, "--version"}, func() { os.Remove(stamp) }}
		rows        = []row{nativeRow, linkedRow, launcherRow, nodeRow, firstRow}
	)
	measure := make([]func() time.Duration, len(rows))
	for j, r := range rows {
		measure[j] = func() time.Duration {
			if r.before != nil {
				r.before()
			}
			return timed(exec.Command(r.argv[0], r.argv[1:]...))
		}
	}
	times := interleave(3, o.runs, measure...)
	med := map[string]time.Duration{}
	fmt.Printf("npm launcher start-up, tern --version (%s, medians of %d runs)\n", key, o.runs)
	for j, r := range rows {
		med[r.name] = median(times[j])
		fmt.Printf("  %-32s %8.2f ms\n", r.name, ms(med[r.name]))
	}
	opt := ratio(med[linkedRow.name], med[nativeRow.name])
	fmt.Printf("  linked / native                  %8.2f×   target ≤ 1.1×           %s\n", opt, verdict(opt <= 1.1))
	over := med[launcherRow.name] - med[nodeRow.name]
	fmt.Printf("  JS launcher - node -e ''         %8.2f ms  target ≤ 10 ms          %s\n", ms(over), verdict(over <= 10*time.Millisecond))
	first := med[firstRow.name] - med[nodeRow.name]
	fmt.Printf("  first run - node -e ''           %8.2f ms  (once per install: the package has no install script)\n", ms(first))

	o.doors(key)
}

func glob(pattern string) string {
	m, _ := filepath.Glob(pattern)
	if len(m) != 1 {
		fail("want one %s, found %v (run make snapshot)", pattern, m)
	}
	return m[0]
}

func untar(tgz, into string) {
	must(os.MkdirAll(into, 0o755))
	out, err := exec.Command("tar", "-xzf", tgz, "-C", into, "--strip-components=1").CombinedOutput()
	if err != nil {
		fail("tar %s: %v\n%s", tgz, err, strings.TrimSpace(string(out)))
	}
}

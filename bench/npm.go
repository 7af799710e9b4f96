//go:build ignore

// npm prints what the npm layer costs at start-up: `tern --version` through
// the npm bin, with the postinstall link and through the JS launcher, beside
// the native binary and a bare `node -e ”`, interleaved in one run. It
// lays out node_modules by hand from the release's npm tarballs, the way npm
// would, so that only the launcher is measured. It asserts nothing.
//
//	GOWORK=off go run ./bench/npm.go -release dist/release
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

func main() {
	release := flag.String("release", "dist/release", "the release directory")
	runs := flag.Int("runs", 31, "timed runs of each command")
	flag.Parse()

	platform := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	key := runtime.GOOS + "-" + platform
	meta := glob(filepath.Join(*release, "tern-agent-cli-[0-9]*.tgz"))
	plat := glob(filepath.Join(*release, "tern-agent-cli-"+key+"-*.tgz"))

	dir, err := os.MkdirTemp("", "bench-npm-")
	must(err)
	defer os.RemoveAll(dir)
	mods := filepath.Join(dir, "node_modules", "@tern-agent")
	untar(meta, filepath.Join(mods, "cli"))
	untar(plat, filepath.Join(mods, "cli-"+key))
	native := filepath.Join(mods, "cli-"+key, "bin", "tern")
	shim := filepath.Join(mods, "cli", "bin", "tern.js")
	// What postinstall does on npm: the bin becomes a link to the binary.
	linked := filepath.Join(dir, "tern-linked")
	must(os.Symlink(native, linked))

	// The launcher hashes the binary once and records it in a stamp beside
	// it (lib/platform.js, verify); later starts only stat. The last row
	// removes the stamp before each run, to show what the first start costs.
	stamp := native + ".verified"
	commands := []struct {
		name   string
		argv   []string
		before func()
	}{
		{"native binary", []string{native, "--version"}, nil},
		{"npm bin, linked by postinstall", []string{linked, "--version"}, nil},
		{"npm bin, JS launcher", []string{shim, "--version"}, nil},
		{"node -e ''", []string{"node", "-e", ""}, nil},
		{"JS launcher, first run (hashes)", []string{shim, "--version"}, func() { os.Remove(stamp) }},
	}
	times := make([][]time.Duration, len(commands))
	for i := 0; i < *runs+3; i++ {
		for j, c := range commands {
			if c.before != nil {
				c.before()
			}
			start := time.Now()
			out, err := exec.Command(c.argv[0], c.argv[1:]...).CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n%s", c.name, err, out)
				os.Exit(1)
			}
			if i >= 3 {
				times[j] = append(times[j], time.Since(start))
			}
		}
	}
	med := make([]time.Duration, len(commands))
	fmt.Printf("npm launcher start-up, tern --version (%s, medians of %d runs)\n", key, *runs)
	for j, c := range commands {
		med[j] = median(times[j])
		fmt.Printf("  %-32s %8.2f ms\n", c.name, float64(med[j].Microseconds())/1000)
	}
	opt := float64(med[1]) / float64(med[0])
	fmt.Printf("  linked / native                  %8.2f×   target ≤ 1.1×           %s\n", opt, verdict(opt <= 1.1))
	over := med[2] - med[3]
	fmt.Printf("  JS launcher - node -e ''         %8.2f ms  target ≤ 10 ms          %s\n", float64(over.Microseconds())/1000, verdict(over <= 10*time.Millisecond))
	first := med[4] - med[3]
	fmt.Printf("  first run - node -e ''           %8.2f ms  (once per install; postinstall pays it where scripts run)\n", float64(first.Microseconds())/1000)
}

func glob(pattern string) string {
	m, _ := filepath.Glob(pattern)
	if len(m) != 1 {
		fmt.Fprintf(os.Stderr, "npm: want one %s, found %v (run make snapshot)\n", pattern, m)
		os.Exit(1)
	}
	return m[0]
}

func untar(tgz, into string) {
	must(os.MkdirAll(into, 0o755))
	out, err := exec.Command("tar", "-xzf", tgz, "-C", into, "--strip-components=1").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "tar %s: %v\n%s", tgz, err, strings.TrimSpace(string(out)))
		os.Exit(1)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "npm:", err)
		os.Exit(1)
	}
}

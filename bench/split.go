package main

// split prints what a release split across machines costs on this one: the
// wall time of one `packager release` against the same release built by 2
// and 3 parallel `packager build` processes (each in its own clone, as on
// its own runner) followed by one `packager merge`, and the merge alone.
// Every variant runs in the same rounds, so load drift hits all alike.
//
//	bench split -root . -goreleaser PATH -packager PATH

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

type splitOptions struct {
	root, goreleaser, packager string
	warm, runs                 int
}

func (o *splitOptions) flags(f *flag.FlagSet) {
	f.StringVar(&o.root, "root", ".", "the repository; its HEAD is cloned")
	f.StringVar(&o.goreleaser, "goreleaser", "goreleaser", "the GoReleaser binary")
	f.StringVar(&o.packager, "packager", "dist/tools/packager", "the packager binary")
	f.IntVar(&o.warm, "warm", 1, "untimed rounds first (they build each clone's helpers and fill the caches)")
	f.IntVar(&o.runs, "runs", 1, "timed rounds; the median is printed")
}

// The target groups, as the release workflow splits them.
var (
	splitTwo   = []string{"linux-x64,linux-arm64,darwin-x64,darwin-arm64", "windows-x64,windows-arm64"}
	splitThree = []string{"linux-x64,linux-arm64", "darwin-x64,darwin-arm64", "windows-x64,windows-arm64"}
)

func (o *splitOptions) run() {
	packager, err := filepath.Abs(o.packager)
	must(err)
	o.packager = packager
	work := mustTemp("bench-split-")
	defer os.RemoveAll(work)
	// One clone per process that runs at once, and one that merges and
	// runs the one-machine release.
	clones := make([]string, 4)
	for i := range clones {
		clones[i] = filepath.Join(work, fmt.Sprintf("clone%d", i))
		timed(exec.Command("git", "clone", "--quiet", o.root, clones[i]))
	}
	merger := clones[0]
	var mergeTimes [2]time.Duration
	times := interleave(o.warm, o.runs,
		func() time.Duration {
			return timed(o.cmd(merger, "release", "--snapshot", "--goreleaser", o.goreleaser))
		},
		func() time.Duration { d, m := o.split(work, clones[1:], splitTwo); mergeTimes[0] = m; return d },
		func() time.Duration { d, m := o.split(work, clones[1:], splitThree); mergeTimes[1] = m; return d },
		// The merge alone, warm: the handoffs of the last split.
		func() time.Duration { return timed(o.merge(work, len(splitThree))) },
	)
	one, two, three, merge := median(times[0]), median(times[1]), median(times[2]), median(times[3])
	fmt.Printf("split release, six targets (medians of %d runs after %d warm; %d cores)\n", o.runs, o.warm, runtime.NumCPU())
	fmt.Printf("  packager release, one process      %8s\n", msText(one))
	fmt.Printf("  2 parallel builds + merge          %8s  ratio %.2f×  (its merge, last run: %s)\n", msText(two), ratio(two, one), msText(mergeTimes[0]))
	fmt.Printf("  3 parallel builds + merge          %8s  ratio %.2f×  (its merge, last run: %s)\n", msText(three), ratio(three, one), msText(mergeTimes[1]))
	fmt.Printf("  packager merge alone, warm         %8s  target < 2 s  %s\n", msText(merge), verdict(merge < 2*time.Second))
	fmt.Println("  (on one machine the builds share its cores: the split pays off on separate runners)")
}

// split runs one `packager build` per group at once, each in its own clone,
// then merges in the first clone; it returns the wall time of it all and
// of the merge.
func (o *splitOptions) split(work string, clones []string, groups []string) (total, merge time.Duration) {
	start := time.Now()
	var wg sync.WaitGroup
	for i, targets := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			timed(o.cmd(clones[i], "build", "--snapshot", "--goreleaser", o.goreleaser,
				"--targets", targets, "--out", filepath.Join(work, fmt.Sprintf("handoff%d", i))))
		}()
	}
	wg.Wait()
	merge = timed(o.merge(work, len(groups)))
	return time.Since(start), merge
}

func (o *splitOptions) merge(work string, n int) *exec.Cmd {
	args := []string{"merge", "--snapshot"}
	for i := 0; i < n; i++ {
		args = append(args, filepath.Join(work, fmt.Sprintf("handoff%d", i)))
	}
	return o.cmd(filepath.Join(work, "clone0"), args...)
}

func (o *splitOptions) cmd(clone string, args ...string) *exec.Cmd {
	cmd := exec.Command(o.packager, append([]string{"--root", clone}, args...)...)
	cmd.Dir = clone
	return cmd
}

package main

// startup prints tern's start-up time, peak memory and size, beside /bin/true
// measured in the same run so that the ratio holds on any machine. A bare Go
// program that prints one line, built here with the same flags, is measured
// too: it is the floor that the Go runtime sets, which no Go CLI can beat.
//
//	bench startup -tern dist/stage/linux-x64/bin/tern

import (
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	targetRatio = 2.0 // startup ≤ 2× /bin/true
	targetRSS   = 12  // MiB
	targetSize  = 8   // MiB
)

type startupOptions struct {
	tern string
	runs int
}

func (o *startupOptions) flags(f *flag.FlagSet) {
	f.StringVar(&o.tern, "tern", "", "the tern binary to measure")
	f.IntVar(&o.runs, "runs", 51, "timed runs of each command (at least 20)")
}

func (o *startupOptions) run() {
	if o.tern == "" || o.runs < 20 {
		fmt.Fprintln(os.Stderr, "usage: bench startup -tern PATH [-runs N>=20]")
		os.Exit(2)
	}

	goHello := buildGoHello()
	defer os.RemoveAll(filepath.Dir(goHello))

	// Output goes to the null device, as a file: no pipe for this process
	// to drain, so only the command's own start is timed.
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	must(err)
	defer null.Close()
	start := func(name string, args ...string) func() time.Duration {
		return func() time.Duration {
			cmd := exec.Command(name, args...)
			cmd.Stdout, cmd.Stderr = null, null
			return timed(cmd)
		}
	}
	// Five warm-up rounds: page cache, branch predictors.
	times := interleave(5, o.runs, start(o.tern, "--version"), start("/bin/true"), start(goHello))
	ternMed, trueMed, goMed := median(times[0]), median(times[1]), median(times[2])
	r := ratio(ternMed, trueMed)
	ternRSS, trueRSS, goRSS := peakRSS(o.tern, "--version"), peakRSS("/bin/true"), peakRSS(goHello)

	st, err := os.Stat(o.tern)
	must(err)
	sizeMiB := float64(st.Size()) / (1 << 20)

	fmt.Printf("tern startup benchmark (%s, %d runs each, medians)\n", o.tern, o.runs)
	fmt.Printf("  tern --version   %8.3f ms\n", ms(ternMed))
	fmt.Printf("  /bin/true        %8.3f ms\n", ms(trueMed))
	fmt.Printf("  bare Go hello    %8.3f ms\n", ms(goMed))
	fmt.Printf("  ratio tern/true  %8.2f×    target ≤ %.0f×   %s\n", r, targetRatio, verdict(r <= targetRatio))
	fmt.Printf("  ratio Go/true    %8.2f×    (the Go runtime's floor)\n", ratio(goMed, trueMed))
	fmt.Printf("  ratio tern/Go    %8.2f×    (what tern adds to that floor)\n", ratio(ternMed, goMed))
	fmt.Printf("  peak RSS tern    %8.2f MiB  target ≤ %d MiB  %s\n", mib(ternRSS), targetRSS, verdict(mib(ternRSS) <= targetRSS))
	fmt.Printf("  peak RSS true    %8.2f MiB\n", mib(trueRSS))
	fmt.Printf("  peak RSS Go      %8.2f MiB\n", mib(goRSS))
	fmt.Printf("  binary size      %8.2f MiB  target ≤ %d MiB   %s (%s)\n", sizeMiB, targetSize, verdict(sizeMiB <= targetSize), stripped(o.tern))
}

// buildGoHello builds the smallest Go program that prints a line, static and
// stripped like tern, and returns its path.
func buildGoHello() string {
	dir := mustTemp("bench-gohello-")
	src := filepath.Join(dir, "main.go")
	must(os.WriteFile(src, []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n"), 0o644))
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	timed(cmd)
	return bin
}

// peakRSS returns the command's peak RSS in KiB, the most of five runs. It
// asks GNU time: a child's own rusage would also count the memory of this Go
// process, which the child shares until it executes.
func peakRSS(name string, args ...string) int64 {
	var peak int64
	for i := 0; i < 5; i++ {
		out, err := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", "/dev/stdout", name}, args...)...).Output()
		must(err)
		lines := strings.Fields(string(out))
		kib, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
		must(err)
		peak = max(peak, kib)
	}
	return peak
}

func stripped(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return "not ELF"
	}
	defer f.Close()
	if f.Section(".symtab") != nil {
		return "NOT stripped"
	}
	return "stripped"
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

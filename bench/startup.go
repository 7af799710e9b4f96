//go:build ignore

// startup prints tern's start-up time, peak memory and size, beside /bin/true
// measured in the same run so that the ratio holds on any machine. A bare Go
// program that prints one line, built here with the same flags, is measured
// too: it is the floor that the Go runtime sets, which no Go CLI can beat. It
// prints figures and the targets they are held to; it asserts nothing.
//
//	GOWORK=off go run ./bench/startup.go -tern dist/stage/linux-x64/bin/tern
package main

import (
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	targetRatio = 2.0 // startup ≤ 2× /bin/true
	targetRSS   = 12  // MiB
	targetSize  = 8   // MiB
)

func main() {
	tern := flag.String("tern", "", "the tern binary to measure")
	runs := flag.Int("runs", 51, "timed runs of each command (at least 20)")
	flag.Parse()
	if *tern == "" || *runs < 20 {
		fmt.Fprintln(os.Stderr, "usage: startup -tern PATH [-runs N>=20]")
		os.Exit(2)
	}

	goHello := buildGoHello()
	defer os.RemoveAll(filepath.Dir(goHello))

	// Interleave the commands so that drift in machine load hits all alike.
	var ternTimes, trueTimes, goTimes []time.Duration
	for i := 0; i < *runs+5; i++ {
		t1 := run(*tern, "--version")
		t2 := run("/bin/true")
		t3 := run(goHello)
		if i < 5 {
			continue // warm-up: page cache, branch predictors
		}
		ternTimes, trueTimes, goTimes = append(ternTimes, t1), append(trueTimes, t2), append(goTimes, t3)
	}
	ternMed, trueMed, goMed := median(ternTimes), median(trueTimes), median(goTimes)
	ratio := float64(ternMed) / float64(trueMed)
	ternRSS, trueRSS, goRSS := peakRSS(*tern, "--version"), peakRSS("/bin/true"), peakRSS(goHello)

	st, err := os.Stat(*tern)
	must(err)
	sizeMiB := float64(st.Size()) / (1 << 20)

	fmt.Printf("tern startup benchmark (%s, %d runs each, medians)\n", *tern, *runs)
	fmt.Printf("  tern --version   %8.3f ms\n", ms(ternMed))
	fmt.Printf("  /bin/true        %8.3f ms\n", ms(trueMed))
	fmt.Printf("  bare Go hello    %8.3f ms\n", ms(goMed))
	fmt.Printf("  ratio tern/true  %8.2f×    target ≤ %.0f×   %s\n", ratio, targetRatio, verdict(ratio <= targetRatio))
	fmt.Printf("  ratio Go/true    %8.2f×    (the Go runtime's floor)\n", float64(goMed)/float64(trueMed))
	fmt.Printf("  ratio tern/Go    %8.2f×    (what tern adds to that floor)\n", float64(ternMed)/float64(goMed))
	fmt.Printf("  peak RSS tern    %8.2f MiB  target ≤ %d MiB  %s\n", mib(ternRSS), targetRSS, verdict(mib(ternRSS) <= targetRSS))
	fmt.Printf("  peak RSS true    %8.2f MiB\n", mib(trueRSS))
	fmt.Printf("  peak RSS Go      %8.2f MiB\n", mib(goRSS))
	fmt.Printf("  binary size      %8.2f MiB  target ≤ %d MiB   %s (%s)\n", sizeMiB, targetSize, verdict(sizeMiB <= targetSize), stripped(*tern))
}

// buildGoHello builds the smallest Go program that prints a line, static and
// stripped like tern, and returns its path.
func buildGoHello() string {
	dir, err := os.MkdirTemp("", "bench-gohello-")
	must(err)
	src := filepath.Join(dir, "main.go")
	must(os.WriteFile(src, []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n"), 0o644))
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
	cmd.Stderr = os.Stderr
	must(cmd.Run())
	return bin
}

// run starts the command once and returns its wall time.
func run(name string, args ...string) time.Duration {
	cmd := exec.Command(name, args...)
	start := time.Now()
	must(cmd.Run())
	return time.Since(start)
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

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
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

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(kib int64) float64      { return float64(kib) / 1024 }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

package main

// exec prints what the agent runtime costs: tern exec's RSS while it waits
// on the model, the time from start to its first request, and the overhead
// of one sandboxed tool call: the sandbox package's benchmark runs `true`
// through the session's plan and a bare `true` in one run. The whole
// `tern sandbox run -- true` command is printed too.
//
//	bench exec -tern dist/stage/linux-x64/bin/tern

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

type execOptions struct {
	tern string
	runs int
}

func (o *execOptions) flags(f *flag.FlagSet) {
	f.StringVar(&o.tern, "tern", "", "the tern binary")
	f.IntVar(&o.runs, "runs", 21, "timed runs")
}

func (o *execOptions) run() {
	// A model API that takes a request and answers only when released.
	requests := make(chan time.Time, 16)
	release := make(chan struct{})
	base, stop := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests <- time.Now()
		<-release
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: [DONE]\n\n")
	}))
	defer stop()
	ws := mustTemp("bench-exec-")
	defer os.RemoveAll(ws)

	var firstRequest []time.Duration
	var idleRSS int64
	for i := 0; i < 5; i++ {
		cmd := exec.Command(o.tern, "exec", "say ok")
		cmd.Dir = ws
		cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+base, "OPENAI_API_KEY=k")
		start := time.Now()
		must(cmd.Start())
		got := <-requests
		firstRequest = append(firstRequest, got.Sub(start))
		time.Sleep(300 * time.Millisecond) // idle, waiting on the model
		idleRSS = max(idleRSS, rssKiB(cmd.Process.Pid))
		release <- struct{}{}
		must(cmd.Wait())
	}

	inWorkspace := func(name string, args ...string) func() time.Duration {
		return func() time.Duration {
			cmd := exec.Command(name, args...)
			cmd.Dir = ws
			return timed(cmd)
		}
	}
	times := interleave(2, o.runs,
		inWorkspace(o.tern, "sandbox", "run", "--mode", "workspace-write", "--", "true"),
		inWorkspace("true"))
	sandboxed, bare := times[0], times[1]
	perCall, bareCall := sandboxBenchmark()
	over := perCall - bareCall
	fmt.Printf("tern exec runtime (%s)\n", o.tern)
	fmt.Printf("  start to first model request  %8.2f ms (median of 5)\n", ms(median(firstRequest)))
	fmt.Printf("  RSS while waiting on the model %7.2f MiB  target ≤ 20 MiB  %s\n", float64(idleRSS)/1024, verdict(idleRSS <= 20*1024))
	fmt.Printf("  tool call: sandboxed true     %8.2f ms\n", ms(perCall))
	fmt.Printf("  tool call: bare true          %8.2f ms\n", ms(bareCall))
	fmt.Printf("  sandbox overhead per call     %8.2f ms  target ≤ 10 ms   %s\n", ms(over), verdict(over <= 10*time.Millisecond))
	fmt.Printf("  whole `tern sandbox run -- true` %5.2f ms against a bare true %.2f ms (adds tern's start and probe)\n", ms(median(sandboxed)), ms(median(bare)))
}

// sandboxBenchmark runs the sandbox package's benchmarks and returns the
// time per sandboxed and per bare `true`.
func sandboxBenchmark() (sandboxed, bare time.Duration) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^Benchmark(Sandboxed|Bare)True$", "-benchtime", "50x", "./agent/internal/sandbox")
	cmd.Env = append(os.Environ(), "GOWORK=") // this program runs outside the workspace; the benchmark inside it
	out, err := cmd.CombinedOutput()
	if err != nil {
		fail("%v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "ns/op" {
			continue
		}
		ns, _ := strconv.ParseFloat(f[2], 64)
		switch {
		case strings.HasPrefix(f[0], "BenchmarkSandboxedTrue"):
			sandboxed = time.Duration(ns)
		case strings.HasPrefix(f[0], "BenchmarkBareTrue"):
			bare = time.Duration(ns)
		}
	}
	return sandboxed, bare
}

func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	must(err)
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

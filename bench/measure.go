package main

// What every benchmark measures with: interleaved timing rounds, medians,
// timed commands, verdicts and failure. One implementation, so that every
// table's "median" and "met" mean the same thing.

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// prog names the running subcommand in error messages.
var prog = "bench"

// interleave calls each f once a round, warm rounds first and then runs
// timed rounds, and returns each f's times from the timed rounds. The
// commands take turns so that drift in machine load hits all alike; the
// warm rounds fill the page cache and whatever else a first start pays.
func interleave(warm, runs int, fs ...func() time.Duration) [][]time.Duration {
	times := make([][]time.Duration, len(fs))
	for i := 0; i < warm+runs; i++ {
		for j, f := range fs {
			d := f()
			if i >= warm {
				times[j] = append(times[j], d)
			}
		}
	}
	return times
}

// medianOf runs f runs times and returns the median.
func medianOf(runs int, f func() time.Duration) time.Duration {
	return median(interleave(0, runs, f)[0])
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// timed runs cmd once and returns its wall time. Output the caller did not
// direct elsewhere is kept, and printed if the command fails, which ends
// the benchmark: a figure from a failed run would be a lie.
func timed(cmd *exec.Cmd) time.Duration {
	var out bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &out
	}
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		fail("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.Bytes())
	}
	return d
}

// serve serves h on a loopback port until stop is called and returns its
// base URL.
func serve(h http.Handler) (base string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }
}

func ms(d time.Duration) float64       { return float64(d.Microseconds()) / 1000 }
func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func mustTemp(prefix string) string {
	d, err := os.MkdirTemp("", prefix)
	must(err)
	return d
}

func must(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintln(os.Stderr, prog+": "+strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
	os.Exit(1)
}

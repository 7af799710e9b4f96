package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// signingOptions time the platform signatures the release adds per
// binary, on the release's own binaries, through the signing packages' Go
// benchmarks (the packager's internals are not importable from here).
type signingOptions struct{ darwin, windows string }

func (o *signingOptions) flags(f *flag.FlagSet) {
	f.StringVar(&o.darwin, "darwin", "dist/stage/darwin-arm64/bin/tern", "a darwin binary to sign")
	f.StringVar(&o.windows, "windows", "dist/stage/windows-x64/bin/tern.exe", "a windows binary to sign")
}

func (o *signingOptions) run() {
	fmt.Println("platform signing: the release time each binary adds (no network: no timestamp, no notarization)")
	fmt.Printf("  %-44s %10s\n", "step", "ms/binary")
	o.bench("./packager/internal/codesign", "^Benchmark(SignAdHoc|SignCertificate|Verify)$", "CODESIGN_BENCH_BINARY="+o.darwin)
	o.bench("./packager/internal/authenticode", "^BenchmarkSign$", "AUTHENTICODE_BENCH_BINARY="+o.windows)
	fmt.Println("  notarization waits on Apple (minutes) and a secure timestamp on a TSA round trip; neither is timed here.")
}

func (o *signingOptions) bench(pkg, pattern, env string) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", pattern, "-benchtime", "10x", pkg)
	cmd.Env = append(os.Environ(), env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		fmt.Printf("  %s: %v\n%s", pkg, err, out.String())
		return
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || f[3] != "ns/op" {
			continue
		}
		ns, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			continue
		}
		name := pkg[strings.LastIndex(pkg, "/")+1:] + " " + strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 { // the -GOMAXPROCS suffix
			name = name[:i]
		}
		fmt.Printf("  %-44s %10.1f\n", name, ns/1e6)
	}
}

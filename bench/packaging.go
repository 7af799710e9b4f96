package main

// packaging prints how the packager's release steps compare with
// GoReleaser's own archive and checksum pipes, how its hashing compares with
// openssl and sha256sum, and what each archive format costs users. Every
// comparison is measured side by side in this one run.
//
//	bench packaging -root . -goreleaser PATH -packager PATH

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

type packagingOptions struct {
	root, goreleaser, packager string
	runs                       int
}

func (o *packagingOptions) flags(f *flag.FlagSet) {
	f.StringVar(&o.root, "root", ".", "the repository")
	f.StringVar(&o.goreleaser, "goreleaser", "goreleaser", "the GoReleaser binary")
	f.StringVar(&o.packager, "packager", "dist/tools/packager", "the packager binary")
	f.IntVar(&o.runs, "runs", 3, "runs of each measurement; the median is printed")
}

func (o *packagingOptions) run() {
	fmt.Println("packaging benchmark (medians of", o.runs, "runs)")
	o.pipelines()
	o.hashing()
	o.formats()
}

// pipelines: GoReleaser's archive and checksum pipes are timed as
// `goreleaser release --snapshot` minus `goreleaser build --snapshot` on a
// warm build cache; the packager's steps are read from its own log.
func (o *packagingOptions) pipelines() {
	work := mustTemp("bench-goreleaser-")
	defer os.RemoveAll(work)
	base, err := os.ReadFile(filepath.Join(o.root, ".goreleaser.yaml"))
	must(err)
	cfg := strings.Replace(string(base), "dist: dist/build", "dist: "+filepath.Join(work, "dist"), 1) + `
archives:
  - formats: [tar.gz]
    format_overrides:
      - goos: windows
        formats: [zip]
checksum:
  name_template: SHA256SUMS
`
	cfgPath := filepath.Join(work, "goreleaser.yaml")
	must(os.WriteFile(cfgPath, []byte(cfg), 0o644))
	env := o.releaseEnv()
	grBuild := medianOf(o.runs, func() time.Duration {
		return timed(o.inRoot(env, o.goreleaser, "build", "--snapshot", "--clean", "--config", cfgPath))
	})
	grRelease := medianOf(o.runs, func() time.Duration {
		return timed(o.inRoot(env, o.goreleaser, "release", "--snapshot", "--clean", "--skip=publish,announce,sign,sbom,validate", "--config", cfgPath))
	})
	grPack := grRelease - grBuild

	cold := medianOf(o.runs, func() time.Duration {
		must(os.RemoveAll(filepath.Join(o.root, "dist", "cache")))
		d, _ := o.packagerSteps()
		return d
	})
	warm := medianOf(o.runs, func() time.Duration { _, all := o.packagerSteps(); return all })

	fmt.Println("\nrelease packaging, six targets")
	fmt.Printf("  goreleaser build only          %8s\n", msText(grBuild))
	fmt.Printf("  goreleaser build+archive+sums  %8s\n", msText(grRelease))
	fmt.Printf("  goreleaser archive+checksum    %8s  (the difference)\n", msText(grPack))
	fmt.Printf("  packager stage+pack+sums+sign  %8s  ratio to goreleaser %.2f×  target ≤ 1×  %s\n", msText(cold), ratio(cold, grPack), verdict(cold <= grPack))
	fmt.Printf("  packager re-run, nothing new   %8s  all steps but verify, npm included; target < 1 s  %s\n", msText(warm), verdict(warm < time.Second))
}

// packagerSteps runs the packager on the last build and sums the durations
// it reports for stage, pack, manifest, checksum and sign: the work
// GoReleaser's pipes do. Helpers, npm packages and verify, which GoReleaser
// does not do, are left out of the sum.
func (o *packagingOptions) packagerSteps() (comparable, all time.Duration) {
	out, err := o.inRoot(nil, o.packager, "release", "--snapshot", "--reuse-build").CombinedOutput()
	if err != nil {
		fail("%s: %v\n%s", o.packager, err, out)
	}
	lines := strings.Split(string(out), "\n")
	step := ""
	for _, l := range lines {
		if s, ok := strings.CutPrefix(l, "• "); ok {
			step = s
		}
		skipped := strings.HasPrefix(step, "verify") || strings.HasPrefix(step, "read") ||
			strings.HasPrefix(step, "build helpers") || strings.HasPrefix(step, "pack npm") ||
			strings.HasPrefix(step, "write the handoff") // the split's hand-over, which GoReleaser has no match for
		if d, ok := strings.CutPrefix(l, "  done in "); ok && !strings.HasPrefix(step, "verify") {
			dur, err := time.ParseDuration(d)
			must(err)
			all += dur
			if !skipped {
				comparable += dur
			}
		}
	}
	return comparable, all
}

// hashing compares the packager's hasher with openssl and sha256sum on the
// same 200 MiB: the release's binaries, repeated.
func (o *packagingOptions) hashing() {
	dir := mustTemp("bench-hash-")
	defer os.RemoveAll(dir)
	bins, _ := filepath.Glob(filepath.Join(o.root, "dist", "build", "*", "tern*"))
	if len(bins) == 0 {
		fmt.Println("\nhashing: no binaries in dist/build; run make snapshot")
		return
	}
	var files []string
	var total int64
	for i := 0; total < 200<<20; i++ {
		b, err := os.ReadFile(bins[i%len(bins)])
		must(err)
		p := filepath.Join(dir, fmt.Sprintf("f%02d", i))
		must(os.WriteFile(p, b, 0o644))
		files, total = append(files, p), total+int64(len(b))
	}
	mib := float64(total) / (1 << 20)
	ours := medianOf(o.runs, func() time.Duration { return timed(o.inRoot(nil, o.packager, append([]string{"sums"}, files...)...)) })
	openssl := medianOf(o.runs, func() time.Duration {
		return timed(o.inRoot(nil, "openssl", append([]string{"dgst", "-sha256"}, files...)...))
	})
	coreutils := medianOf(o.runs, func() time.Duration { return timed(o.inRoot(nil, "sha256sum", files...)) })
	fmt.Printf("\nSHA-256 over %.0f MiB in %d files\n", mib, len(files))
	fmt.Printf("  packager sums   %8s  %7.0f MiB/s\n", msText(ours), mib/ours.Seconds())
	fmt.Printf("  openssl dgst    %8s  %7.0f MiB/s\n", msText(openssl), mib/openssl.Seconds())
	fmt.Printf("  sha256sum       %8s  %7.0f MiB/s\n", msText(coreutils), mib/coreutils.Seconds())
	fmt.Printf("  packager/openssl throughput %.2f×  target ≥ 0.9×  %s\n", ratio(openssl, ours), verdict(ratio(openssl, ours) >= 0.9))
}

// formats compares what users download and how long stock tar takes to
// unpack it, for the linux-x64 tree.
func (o *packagingOptions) formats() {
	tree := filepath.Join(o.root, "dist", "stage", "linux-x64")
	dir := mustTemp("bench-formats-")
	defer os.RemoveAll(dir)
	plain := filepath.Join(dir, "tree.tar")
	timed(o.inRoot(nil, "tar", "-C", tree, "-cf", plain, "."))
	variants := []struct {
		name, file, unpackFlag string
		compress               []string
	}{
		{"tar.gz (gzip -6)", "t.tar.gz", "-xzf", []string{"gzip", "-6", "-n", "-c"}},
		{"tar.xz (xz -9)", "t.tar.xz", "-xJf", []string{"xz", "-9", "-c"}},
		{"tar.zst (zstd -19)", "t.tar.zst", "--zstd -xf", []string{"zstd", "-19", "-q", "-c"}},
	}
	fmt.Println("\narchive formats, linux-x64 tree (download at 10 Mbit/s + unpack with stock tar)")
	for _, v := range variants {
		out := filepath.Join(dir, v.file)
		cmd := exec.Command(v.compress[0], append(v.compress[1:], plain)...)
		f, err := os.Create(out)
		must(err)
		cmd.Stdout = f
		must(cmd.Run())
		f.Close()
		st, err := os.Stat(out)
		must(err)
		unpack := medianOf(o.runs, func() time.Duration {
			dest := mustTemp("bench-unpack-")
			defer os.RemoveAll(dest)
			return timed(o.inRoot(nil, "tar", append(strings.Fields(v.unpackFlag), out, "-C", dest)...))
		})
		download := time.Duration(float64(st.Size()) * 8 / 10e6 * float64(time.Second))
		fmt.Printf("  %-20s %8.2f MiB  unpack %8s  download+unpack %8s\n", v.name, float64(st.Size())/(1<<20), msText(unpack), msText(download+unpack))
	}
	fmt.Println("  kept: tar.gz. Every stock tar (GNU, bsdtar, busybox) unpacks it with no extra")
	fmt.Println("  tool; xz and zstd need xz-utils or zstd, which minimal images and busybox lack.")
}

func (o *packagingOptions) releaseEnv() []string {
	out, err := exec.Command("git", "-C", o.root, "log", "-1", "--format=%H %ct").Output()
	must(err)
	f := strings.Fields(string(out))
	epoch, _ := strconv.ParseInt(f[1], 10, 64)
	return []string{"RELEASE_VERSION=0.0.0-bench", "RELEASE_COMMIT=" + f[0],
		"RELEASE_DATE=" + time.Unix(epoch, 0).UTC().Format(time.RFC3339), "RELEASE_EPOCH=" + f[1]}
}

// inRoot is a command run in the repository, with env added to ours.
func (o *packagingOptions) inRoot(env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = o.root
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func msText(d time.Duration) string { return fmt.Sprintf("%.0f ms", ms(d)) }

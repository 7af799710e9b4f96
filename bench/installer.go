//go:build ignore

// installer times install.sh end to end against the bare minimum a careful
// user would do by hand (curl the archive and SHA256SUMS, sha256sum -c, tar
// -x), both from the same local server in one run. It asserts nothing.
//
// install.sh checks the signature too (cosign, else openssl), so it is given
// the release's public key: dist/snapshot-cosign.pub beside a snapshot.
//
//	GOWORK=off go run ./bench/installer.go -release dist/release
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

func main() {
	release := flag.String("release", "dist/release", "the release directory")
	script := flag.String("script", "installers/install.sh", "install.sh")
	runs := flag.Int("runs", 9, "timed runs of each")
	pubKey := flag.String("public-key", "", "the cosign public key the release is signed with (default: snapshot-cosign.pub beside the release, if there)")
	flag.Parse()
	if *pubKey == "" {
		if p := filepath.Join(filepath.Dir(*release), "snapshot-cosign.pub"); fileExists(p) {
			*pubKey = p
		}
	}

	sums, err := os.ReadFile(filepath.Join(*release, "SHA256SUMS"))
	must(err)
	m := regexp.MustCompile(`tern-(\S+)-linux-x64\.tar\.gz`).FindSubmatch(sums)
	if m == nil {
		must(fmt.Errorf("no linux-x64 archive in %s", *release))
	}
	version, archive := string(m[1]), string(m[0])

	mux := http.NewServeMux()
	files := http.StripPrefix("/download/v"+version+"/", http.FileServer(http.Dir(*release)))
	mux.Handle("/download/v"+version+"/", files)
	mux.Handle("/latest/download/", http.StripPrefix("/latest/download/", http.FileServer(http.Dir(*release))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	scriptRun := func() time.Duration {
		home, err := os.MkdirTemp("", "bench-install-home-")
		must(err)
		defer os.RemoveAll(home)
		cmd := exec.Command("sh", *script, "--version", version, "--no-modify-path")
		cmd.Env = append(os.Environ(), "HOME="+home, "TERN_DOWNLOAD_URL="+base, "XDG_DATA_HOME=", "TERN_PUBLIC_KEY="+*pubKey)
		return timed(cmd)
	}
	rawRun := func() time.Duration {
		dir, err := os.MkdirTemp("", "bench-install-raw-")
		must(err)
		defer os.RemoveAll(dir)
		url := base + "/download/v" + version
		cmd := exec.Command("sh", "-c", strings.Join([]string{
			"set -e",
			"curl -fsSL -o " + archive + " " + url + "/" + archive,
			"curl -fsSL -o SHA256SUMS " + url + "/SHA256SUMS",
			"grep ' " + archive + "$' SHA256SUMS | sha256sum -c - >/dev/null",
			"tar -xzf " + archive,
		}, "\n"))
		cmd.Dir = dir
		return timed(cmd)
	}
	var viaScript, raw []time.Duration
	for i := 0; i < *runs+1; i++ {
		s, r := scriptRun(), rawRun()
		if i > 0 {
			viaScript, raw = append(viaScript, s), append(raw, r)
		}
	}
	ms, mr := median(viaScript), median(raw)
	ratio := float64(ms) / float64(mr)
	fmt.Printf("install.sh against curl + sha256sum + tar (%s, linux-x64, medians of %d runs)\n", version, *runs)
	fmt.Printf("  install.sh end to end        %8.1f ms\n", float64(ms.Microseconds())/1000)
	fmt.Printf("  curl + sha256sum -c + tar    %8.1f ms\n", float64(mr.Microseconds())/1000)
	verdict := "met"
	if ratio > 1.5 {
		verdict = "MISSED"
	}
	fmt.Printf("  ratio                        %8.2f×   target ≤ 1.5×  %s\n", ratio, verdict)
	switch _, err := exec.LookPath("cosign"); {
	case err == nil:
		fmt.Println("  (install.sh also checked the signature, with cosign)")
	default:
		if _, err := exec.LookPath("openssl"); err == nil {
			fmt.Println("  (install.sh also checked the signature, with openssl)")
		} else {
			fmt.Println("  (install.sh could not check the signature: neither cosign nor openssl)")
		}
	}
}

func timed(cmd *exec.Cmd) time.Duration {
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "%v: %v\n%s", cmd.Args, err, out)
		os.Exit(1)
	}
	return time.Since(start)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "installer:", err)
		os.Exit(1)
	}
}

package main

// installer times install.sh end to end against the bare minimum a careful
// user would do by hand (curl the archive and SHA256SUMS, sha256sum -c, tar
// -x), both from the same local server in one run.
//
// install.sh checks the signature too (cosign, else openssl), so it is given
// the release's public key: dist/snapshot-cosign.pub beside a snapshot.
//
//	bench installer -release dist/release

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

type installerOptions struct {
	release, script, pubKey string
	runs                    int
}

func (o *installerOptions) flags(f *flag.FlagSet) {
	f.StringVar(&o.release, "release", "dist/release", "the release directory")
	f.StringVar(&o.script, "script", "installers/install.sh", "install.sh")
	f.IntVar(&o.runs, "runs", 9, "timed runs of each")
	f.StringVar(&o.pubKey, "public-key", "", "the cosign public key the release is signed with (default: snapshot-cosign.pub beside the release, if there)")
}

func (o *installerOptions) run() {
	if o.pubKey == "" {
		if p := filepath.Join(filepath.Dir(o.release), "snapshot-cosign.pub"); fileExists(p) {
			o.pubKey = p
		}
	}

	sums, err := os.ReadFile(filepath.Join(o.release, "SHA256SUMS"))
	must(err)
	m := regexp.MustCompile(`tern-(\S+)-linux-x64\.tar\.gz`).FindSubmatch(sums)
	if m == nil {
		fail("no linux-x64 archive in %s", o.release)
	}
	version, archive := string(m[1]), string(m[0])

	mux := http.NewServeMux()
	mux.Handle("/download/v"+version+"/", http.StripPrefix("/download/v"+version+"/", http.FileServer(http.Dir(o.release))))
	mux.Handle("/latest/download/", http.StripPrefix("/latest/download/", http.FileServer(http.Dir(o.release))))
	base, stop := serve(mux)
	defer stop()

	scriptRun := func() time.Duration {
		home := mustTemp("bench-install-home-")
		defer os.RemoveAll(home)
		cmd := exec.Command("sh", o.script, "--version", version, "--no-modify-path")
		cmd.Env = append(os.Environ(), "HOME="+home, "TERN_DOWNLOAD_URL="+base, "XDG_DATA_HOME=", "TERN_PUBLIC_KEY="+o.pubKey)
		return timed(cmd)
	}
	rawRun := func() time.Duration {
		dir := mustTemp("bench-install-raw-")
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
	times := interleave(1, o.runs, scriptRun, rawRun)
	viaScript, raw := median(times[0]), median(times[1])
	r := ratio(viaScript, raw)
	fmt.Printf("install.sh against curl + sha256sum + tar (%s, linux-x64, medians of %d runs)\n", version, o.runs)
	fmt.Printf("  install.sh end to end        %8.1f ms\n", ms(viaScript))
	fmt.Printf("  curl + sha256sum -c + tar    %8.1f ms\n", ms(raw))
	fmt.Printf("  ratio                        %8.2f×   target ≤ 1.5×  %s\n", r, verdict(r <= 1.5))
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

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

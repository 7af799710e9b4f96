package verify

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/manifest"
)

// A binary with no build stamp is checked by release.yaml's version_check:
// its bytes hold the version, and run on this host it prints it, on stdout
// or stderr, whatever its exit status, as the installers read it (2>&1).
func TestVersionCheck(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in binary is a shell script")
	}
	defer func(d, w time.Duration) { versionTimeout, versionWaitDelay = d, w }(versionTimeout, versionWaitDelay)
	versionTimeout, versionWaitDelay = 2*time.Second, 500*time.Millisecond
	host := config.Target{Name: "host", GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	cfg := &config.Config{VersionCheck: &config.VersionCheck{Args: []string{"--version"}, Contains: "version v{{.Version}}"}}
	for _, tc := range []struct {
		name, script, want string
	}{
		{"prints it", "#!/bin/sh\n# 1.2.3\necho \"acme (https://x/) version v1.2.3\"\n", ""},
		{"prints it on stderr", "#!/bin/sh\n# 1.2.3\necho \"acme version v1.2.3\" >&2\n", ""},
		{"prints it, then exits non-zero", "#!/bin/sh\n# 1.2.3\necho \"acme version v1.2.3\"; exit 2\n", ""},
		{"prints it after a newer one", "#!/bin/sh\n# 1.2.3\necho \"update notice: version v1.2.30 is out\" >&2; echo \"acme version v1.2.3\"\n", ""},
		{"prints another", "#!/bin/sh\n# 1.2.3\necho \"acme version v1.2.30\"\n", `binary prints "acme version v1.2.30" for --version, which does not state "version v1.2.3"`},
		{"does not hold it", "#!/bin/sh\necho \"acme version v9\"\n", "binary does not hold its version 1.2.3 anywhere"},
		{"holds it only inside another", "#!/bin/sh\n# 1.2.30 v1.2.3-rc.1 crypto/internal/fips140/v1.2.3\necho \"acme version v1.2.$((2+1))\"\n",
			"binary does not hold its version 1.2.3 anywhere, as a string of its own (Go's module information and runtime do not count): add -X <var>={{ .Env.RELEASE_VERSION }} to builds[0].ldflags, as release.yaml's version_check expects"},
		{"fails", "#!/bin/sh\n# 1.2.3\necho nope >&2; exit 3\n",
			`binary prints "nope" for --version, which does not state "version v1.2.3" as release.yaml's version_check.contains asks: set version_check.args to the arguments that make it print its version`},
		{"cannot start", "#!/nonexistent/sh\n# 1.2.3\n",
			"binary could not be asked its version with --version: fork/exec "},
		{"never exits", "#!/bin/sh\n# 1.2.3\nexec sleep 30\n",
			"binary could not be asked its version with --version: it did not exit within 2s; set release.yaml's version_check.args to the arguments that make it print its version and exit"},
		{"leaves its output open", "#!/bin/sh\n# 1.2.3\nsleep 5 &\necho \"acme version v1.2.3\"\n",
			"binary could not be asked its version with --version: exited, but left a process holding its output open"},
		{"prints without end", "#!/bin/sh\n# 1.2.3\nwhile :; do echo \"acme version v1.2.30\"; done\n",
			"binary could not be asked its version with --version: it did not exit within 2s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &checker{opts: Options{Config: cfg}}
			start := time.Now()
			c.versionCheck(manifest.Artifact{Name: "acme.tar.gz"}, host, "1.2.3", []byte(tc.script))
			got := strings.Join(c.problems, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("problems %q, want %q", got, tc.want)
			}
			if d := time.Since(start); d > versionTimeout+versionWaitDelay+time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
	// Nothing runs once the release has another problem.
	c := &checker{opts: Options{Config: cfg}, problems: []string{"SHA256SUMS: bad"}}
	c.versionCheck(manifest.Artifact{Name: "a"}, host, "1.2.3", []byte("#!/bin/sh\n# 1.2.3\ntouch /nonexistent/ran\nexit 1\n"))
	if len(c.problems) != 1 {
		t.Errorf("ran a binary of a refused release: %q", c.problems)
	}
}

// What a binary prints is kept up to versionOutputMax, and the rest read
// and dropped, so it exits rather than blocking on a full pipe.
func TestRunVersionCapsItsOutput(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in binary is a shell script")
	}
	out, err := runVersion(nil, []byte("#!/bin/sh\nhead -c 1000000 /dev/zero\necho done >&2\n"), nil)
	if err != nil || len(out) != versionOutputMax {
		t.Fatalf("%d bytes, %v; want %d", len(out), err, versionOutputMax)
	}
}

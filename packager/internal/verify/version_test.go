package verify

import (
	"runtime"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/manifest"
)

// A binary with no build stamp is checked by release.yaml's version_check:
// its bytes hold the version, and run on this host it prints it.
func TestVersionCheck(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in binary is a shell script")
	}
	host := config.Target{Name: "host", GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	cfg := &config.Config{VersionCheck: &config.VersionCheck{Args: []string{"--version"}, Contains: "version v{{.Version}}"}}
	for _, tc := range []struct {
		name, script, want string
	}{
		{"prints it", "#!/bin/sh\n# 1.2.3\necho \"acme (https://x/) version v1.2.3\"\n", ""},
		{"prints another", "#!/bin/sh\n# 1.2.3\necho \"acme version v1.2.30\"\n", `binary prints "acme version v1.2.30" for --version, which does not state "version v1.2.3"`},
		{"does not hold it", "#!/bin/sh\necho \"acme version v9\"\n", "binary does not hold its version 1.2.3 anywhere"},
		{"fails", "#!/bin/sh\n# 1.2.3\necho nope >&2; exit 3\n", "binary could not be asked its version with --version: exit status 3: nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &checker{opts: Options{Config: cfg}}
			c.versionCheck(manifest.Artifact{Name: "acme.tar.gz"}, host, "1.2.3", []byte(tc.script))
			got := strings.Join(c.problems, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("problems %q, want %q", got, tc.want)
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

package doors_test

import (
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/doors"
	"github.com/tern-agent/tern/packager/internal/doors/doorstest"
)

// windowsOnly is a door's platform table for the tests: windows, by arch.
func windowsOnly(t config.Target) (string, bool) { return t.GOARCH, t.GOOS == "windows" }

// Select keeps what the door's table names, in order, with each
// archive's URL and paths, and names the targets it leaves out.
func TestSelect(t *testing.T) {
	c := doorstest.Config()
	ps, left, err := doors.Select(c, doorstest.Version, doorstest.Archives(c), "scoop", windowsOnly)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Key != "arm64" || ps[1].Key != "amd64" {
		t.Fatalf("%+v", ps)
	}
	p := ps[1]
	if p.URL != "https://github.com/example-org/tern/releases/download/v1.2.3/tern-1.2.3-windows-x64.zip" ||
		p.Prefix != "tern-1.2.3-windows-x64" || p.Binary != "tern-1.2.3-windows-x64/bin/tern.exe" {
		t.Errorf("%+v", p)
	}
	if strings.Join(left, " ") != "darwin-arm64 darwin-x64 linux-arm64 linux-armv7 linux-x64 freebsd-x64" {
		t.Errorf("left out %v", left)
	}
}

// Each archive a door cannot describe truthfully is an error that says
// which and what to do.
func TestSelectRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*config.Config, []doors.Archive) []doors.Archive
		want string
	}{
		{"an unknown target", func(_ *config.Config, a []doors.Archive) []doors.Archive {
			return append(a, doors.Archive{Target: "plan9-x64", Name: "tern-1.2.3-plan9-x64.tar.gz", SHA256: strings.Repeat("a", 64)})
		}, `tern-1.2.3-plan9-x64.tar.gz is for target "plan9-x64", which release.yaml does not have`},
		{"another name", func(_ *config.Config, a []doors.Archive) []doors.Archive {
			a[0].Name = "tern.tar.gz"
			return a
		}, "archive tern.tar.gz of target darwin-arm64 should be named tern-1.2.3-darwin-arm64.tar.gz for version 1.2.3: run packager release again"},
		{"no digest", func(_ *config.Config, a []doors.Archive) []doors.Archive {
			a[0].SHA256 = ""
			return a
		}, `archive tern-1.2.3-darwin-arm64.tar.gz has no sha256 (""): run packager release again`},
		{"two targets of one platform", func(c *config.Config, a []doors.Archive) []doors.Archive {
			c.Targets = append(c.Targets, config.Target{Name: "windows-x64-v3", GOOS: "windows", GOARCH: "amd64"})
			return doorstest.Archives(c)
		}, "targets windows-x64 and windows-x64-v3 are both scoop's platform amd64, and a manifest holds one archive per platform: remove one of them from release.yaml, or set doors: {scoop: false}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := doorstest.Config()
			c.Targets = append([]config.Target(nil), c.Targets...)
			_, _, err := doors.Select(c, doorstest.Version, tc.edit(c, doorstest.Archives(c)), "scoop", windowsOnly)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// A token-free GitHub repository gives its owner and name; another host
// gives none.
func TestGitHubRepo(t *testing.T) {
	for repo, want := range map[string]string{
		"https://github.com/o/r":      "o/r",
		"https://github.com/o/r/":     "o/r",
		"https://gitlab.com/o/r":      "",
		"https://github.com/o":        "",
		"https://github.com/o/r/tree": "",
	} {
		o, n, ok := doors.GitHubRepo(&config.Config{Repository: repo})
		if got := o + "/" + n; ok != (want != "") || ok && got != want {
			t.Errorf("%s: %s, %v", repo, got, ok)
		}
	}
}

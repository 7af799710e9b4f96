// Package buildinfo holds what the linker stamps into tern: version, commit
// and build date. It is the single answer to "which tern is this?", shared by
// `tern version`, `tern --version` and `tern doctor`.
//
// The release build stamps one string at link time:
//
//	-X 'github.com/tern-agent/tern/agent/internal/buildinfo.stamp=@(#)version=1.2.3;commit=<sha>;date=<RFC 3339>;bwrap_sha256=<sha>'
//
// bwrap_sha256 is the digest of the bwrap shipped beside this binary, which
// tern checks before running it; targets without the helper leave it empty.
//
// One self-describing string, rather than three variables, because a
// stripped, -trimpath binary records neither symbols nor -ldflags: the
// "@(#)" marker (what(1)'s) is how `packager verify` finds the version in a
// binary for any target without running it. A plain `go build` leaves the
// stamp empty, and the binary says "dev".
package buildinfo

import (
	"runtime"
	"strings"
)

// stamp is set at link time; see the package comment.
var stamp string

// StampMarker starts every stamp.
const StampMarker = "@(#)"

// stampFields reads "@(#)key=value;key=value…", skipping empty values.
func stampFields(s string) map[string]string {
	fields := map[string]string{}
	for _, field := range strings.Split(strings.TrimPrefix(s, StampMarker), ";") {
		if key, value, ok := strings.Cut(field, "="); ok && value != "" {
			fields[key] = value
		}
	}
	return fields
}

// parseStamp reads version, commit and date, defaulting to dev and unknown.
func parseStamp(s string) (version, commit, date string) {
	f := stampFields(s)
	return or(f["version"], "dev"), or(f["commit"], "unknown"), or(f["date"], "unknown")
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// HelperSHA256 is the digest the release build recorded for the helper
// shipped beside this binary, or "" when it recorded none (a dev build, or a
// target that ships no such helper).
func HelperSHA256(name string) string { return stampFields(stamp)[name+"_sha256"] }

// Info describes this binary. The JSON keys are a public contract: installers,
// the npm launcher and bug reports read them.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
	Target  string `json:"target"`
}

// Get returns the stamped build information of the running binary.
func Get() Info {
	version, commit, date := parseStamp(stamp)
	return Info{
		Version: version,
		Commit:  commit,
		Date:    date,
		Go:      runtime.Version(),
		OS:      runtime.GOOS,
		Arch:    runtime.GOARCH,
		Target:  Target(runtime.GOOS, runtime.GOARCH),
	}
}

// Target names a GOOS/GOARCH pair the way release archives do
// (linux-x64, darwin-arm64, windows-x64), so a user can match what
// `tern --version` prints to the archive they should download.
func Target(goos, goarch string) string {
	switch goarch {
	case "amd64":
		goarch = "x64"
	case "386":
		goarch = "x86"
	}
	return goos + "-" + goarch
}

// String is the one-line form printed by `tern --version`. Its first two
// words are always "tern <version>", which installers parse.
func (i Info) String() string {
	return "tern " + i.Version + " (commit " + i.Commit + ", built " + i.Date + ", " + i.Go + ", " + i.Target + ")"
}

package buildinfo

import (
	"strings"
	"testing"
)

func TestTarget(t *testing.T) {
	for _, tc := range []struct{ goos, goarch, want string }{
		{"linux", "amd64", "linux-x64"},
		{"linux", "arm64", "linux-arm64"},
		{"darwin", "arm64", "darwin-arm64"},
		{"windows", "amd64", "windows-x64"},
	} {
		if got := Target(tc.goos, tc.goarch); got != tc.want {
			t.Errorf("Target(%q, %q) = %q, want %q", tc.goos, tc.goarch, got, tc.want)
		}
	}
}

func TestUnstampedBuildSaysDev(t *testing.T) {
	info := Get()
	if info.Version != "dev" {
		t.Fatalf("unstamped version = %q, want dev", info.Version)
	}
	if !strings.HasPrefix(info.String(), "tern dev ") {
		t.Fatalf("String() = %q, want it to start with %q", info.String(), "tern dev ")
	}
}

func TestParseStamp(t *testing.T) {
	v, c, d := parseStamp("@(#)version=1.3.0-beta.2;commit=abc123;date=2026-11-22T21:36:20Z")
	if v != "1.3.0-beta.2" || c != "abc123" || d != "2026-11-22T21:36:20Z" {
		t.Fatalf("parseStamp = %q %q %q", v, c, d)
	}
	if f := stampFields("@(#)version=1;commit=c;date=d;bwrap_sha256=abc;other_sha256="); f["bwrap_sha256"] != "abc" || f["other_sha256"] != "" {
		t.Fatalf("helper digests: %v", f)
	}
	if v, c, d := parseStamp(""); v != "dev" || c != "unknown" || d != "unknown" {
		t.Fatalf("an empty stamp = %q %q %q, want dev unknown unknown", v, c, d)
	}
}

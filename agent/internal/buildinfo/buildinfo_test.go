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

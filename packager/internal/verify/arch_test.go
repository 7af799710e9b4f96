package verify

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
)

// Every target Go builds is checked by its own format and header: built
// here for real, each binary passes as its own target and fails as a
// neighbour's.
func TestCheckArchEveryTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles a dozen binaries")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module hello\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\nfunc main() { println(1) }\n"), 0o644)
	targets := []config.Target{
		{Name: "linux-ia32", GOOS: "linux", GOARCH: "386"},
		{Name: "linux-armv6", GOOS: "linux", GOARCH: "arm", GOARM: "6"},
		{Name: "linux-armv7", GOOS: "linux", GOARCH: "arm", GOARM: "7"},
		{Name: "linux-riscv64", GOOS: "linux", GOARCH: "riscv64"},
		{Name: "linux-ppc64le", GOOS: "linux", GOARCH: "ppc64le"},
		{Name: "linux-s390x", GOOS: "linux", GOARCH: "s390x"},
		{Name: "linux-loong64", GOOS: "linux", GOARCH: "loong64"},
		{Name: "freebsd-x64", GOOS: "freebsd", GOARCH: "amd64"},
		{Name: "openbsd-x64", GOOS: "openbsd", GOARCH: "amd64"},
		{Name: "netbsd-arm64", GOOS: "netbsd", GOARCH: "arm64"},
		{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64"},
		{Name: "windows-ia32", GOOS: "windows", GOARCH: "386"},
	}
	bins := map[string][]byte{}
	for _, tg := range targets {
		out := filepath.Join(dir, tg.Name)
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, ".")
		build.Dir = src
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOOS="+tg.GOOS, "GOARCH="+tg.GOARCH, "GOARM="+tg.GOARM)
		if b, err := build.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", tg.Name, err, b)
		}
		bins[tg.Name], _ = os.ReadFile(out)
	}
	for i, tg := range targets {
		if err := checkArch(bins[tg.Name], tg); err != nil {
			t.Errorf("%s refused as itself: %v", tg.Name, err)
		}
		other := targets[(i+1)%len(targets)]
		if err := checkArch(bins[other.Name], tg); err == nil {
			t.Errorf("%s's binary passed as %s", other.Name, tg.Name)
		}
	}
	// ARMv6 and ARMv7 differ only in the build info.
	if err := checkArch(bins["linux-armv6"], targets[2]); err == nil || !strings.Contains(err.Error(), "ARMv6, not linux-armv7") {
		t.Errorf("an ARMv6 binary as linux-armv7: %v", err)
	}
}

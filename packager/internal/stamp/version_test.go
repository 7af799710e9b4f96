package stamp

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHoldsVersionBytes(t *testing.T) {
	for _, tc := range []struct {
		data string
		want bool
	}{
		{"\x00\x001.2.3\x00\x00", true},
		{"acme version 1.2.3\n", true},
		{"\x00v1.2.3\x00", true},
		{"1.2.3", true},
		{"\x00go1.2.3\x00", false},                    // a Go toolchain
		{"crypto/internal/fips140/v1.2.3\x00", false}, // a module path
		{"golang.org/x/net@v1.2.3/idna", false},
		{"\x001.2.30\x00", false},
		{"\x0011.2.3\x00", false},
		{"\x001.2.3-rc.1\x00", false},
		{"\x001.2.3.4\x00", false},
		{"\x00x1.2.3\x00", false},
		{"1.2.30 and 1.2.3;", true},
		{"", false},
	} {
		if got := HoldsVersion([]byte(tc.data), "1.2.3"); got != tc.want {
			t.Errorf("HoldsVersion(%q) = %v, want %v", tc.data, got, tc.want)
		}
	}
}

// A real binary holds a version that -X set, and not one that only its
// module information or Go's own packages hold: with a mistyped -X
// variable, which the linker ignores, a build without -trimpath still
// records the version in its -ldflags, and Go's FIPS module is
// crypto/internal/fips140/v1.0.0.
func TestHoldsVersionInABinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	dir := t.TempDir()
	for name, body := range map[string]string{
		"go.mod":  "module example.com/acme\n\ngo 1.22\n",
		"main.go": "package main\n\nimport (\n\t\"crypto/sha256\"\n\t\"fmt\"\n\t\"os\"\n)\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(\"acme\", version, sha256.Sum256([]byte(os.Args[0]))) }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := func(flags ...string) []byte {
		t.Helper()
		out := filepath.Join(t.TempDir(), "acme")
		cmd := exec.Command("go", append(append([]string{"build", "-buildvcs=false", "-o", out}, flags...), ".")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", strings.Join(flags, " "), err, msg)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for _, tc := range []struct {
		flags   []string
		version string
		want    bool
	}{
		{[]string{"-trimpath", "-ldflags=-s -w -X main.version=1.0.0"}, "1.0.0", true},
		{[]string{"-ldflags=-X main.version=1.2.3"}, "1.2.3", true},
		{[]string{"-ldflags=-X main.version=v1.2.3"}, "1.2.3", true},
		{[]string{"-trimpath", "-ldflags=-s -w"}, "1.0.0", false},
		{[]string{"-ldflags=-X main.Version=1.2.3"}, "1.2.3", false},
		{[]string{"-ldflags=-X main.version=1.2.30"}, "1.2.3", false},
	} {
		if got := HoldsVersion(build(tc.flags...), tc.version); got != tc.want {
			t.Errorf("built with %q: HoldsVersion(%s) = %v, want %v", tc.flags, tc.version, got, tc.want)
		}
	}
}

// Package testbin builds a tiny Go program for any GOOS/GOARCH, as a
// release builds its binaries (static, -trimpath, no VCS stamp), once per
// test run and flags: real executables for the signing tests, made by the
// test rather than committed. Only tests import it.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

const program = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"

type build struct {
	once sync.Once
	data []byte
	err  error
}

var builds sync.Map // "goos/goarch ldflags" → *build

// Hello returns the program built for goos/goarch with these -ldflags.
func Hello(t testing.TB, goos, goarch, ldflags string) []byte {
	t.Helper()
	v, _ := builds.LoadOrStore(goos+"/"+goarch+" "+ldflags, &build{})
	b := v.(*build)
	b.once.Do(func() { b.data, b.err = compile(goos, goarch, ldflags) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.data
}

func compile(goos, goarch, ldflags string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "testbin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	for name, body := range map[string]string{"go.mod": "module hello\n\ngo 1.22\n", "main.go": program} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags="+ldflags, "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s/%s: %v\n%s", goos, goarch, err, b)
	}
	return os.ReadFile(out)
}

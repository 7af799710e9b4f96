package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitCommand(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"go.mod":             "module github.com/acme/widget\n\ngo 1.22\n",
		"LICENSE":            "MIT\n",
		"cmd/widget/main.go": "package main\n\nvar buildStamp string\n\nfunc main() { println(buildStamp) }\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("git", "-C", dir, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"init", "--dir", dir, "--npm-scope", "@acme-tools", "--targets", "linux-x64,darwin-arm64"}, 0},
		{[]string{"init", "--dir", dir, "--npm-scope", "@acme-tools", "--targets", "linux-x64,darwin-arm64"}, 0}, // unchanged
		{[]string{"init", "--dir", dir}, 1},            // release.yaml differs: --force needed
		{[]string{"init", "--dir", dir, "--force"}, 0}, // back to the defaults
		{[]string{"init", "--dir", filepath.Join(dir, "cmd")}, 1},
	} {
		if got := Execute(tc.args); got != tc.code {
			t.Errorf("packager %s: exit %d, want %d", strings.Join(tc.args, " "), got, tc.code)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `scope: "@acme"`) || !strings.Contains(string(raw), "windows-arm64") {
		t.Errorf("--force did not write the defaults:\n%s", raw)
	}
}

func TestPackagerModule(t *testing.T) {
	path, _ := packagerModule()
	if !strings.HasSuffix(path, "/packager/cmd/packager") {
		t.Errorf("packagerModule() = %s, want …/packager/cmd/packager", path)
	}
	if _, err := os.Stat(filepath.Join("..", "..", "cmd", "packager")); err != nil {
		t.Errorf("the workflows would run %s, which is not beside this package: %v", path, err)
	}
}

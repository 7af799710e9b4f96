package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	for _, c := range []struct {
		name, content string // content "" means no file
		want          File
		wantErr       string
	}{
		{"no file", "", File{}, ""},
		{"every key", `{"model":"m","base_url":"u","sandbox":"read-only","approval":"never"}`,
			File{Model: "m", BaseURL: "u", Sandbox: "read-only", Approval: "never"}, ""},
		{"not JSON", `{`, File{}, "config.json: unexpected end of JSON input"},
		{"bad policy", `{"shell_environment_policy":{"inherit":"everything"}}`, File{},
			`config.json: shell_environment_policy.inherit "everything"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", dir)
			t.Setenv("HOME", dir)    // os.UserConfigDir on macOS
			t.Setenv("AppData", dir) // and on Windows
			sub := dir
			if d, err := os.UserConfigDir(); err == nil {
				sub = d
			}
			if c.content != "" {
				os.MkdirAll(filepath.Join(sub, "tern"), 0o755)
				if err := os.WriteFile(filepath.Join(sub, "tern", "config.json"), []byte(c.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f, err := Load()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.content != "" && f.Path != filepath.Join(sub, "tern", "config.json") {
				t.Errorf("Path %q", f.Path)
			}
			f.Path, f.Env = "", c.want.Env
			if f.Model != c.want.Model || f.BaseURL != c.want.BaseURL || f.Sandbox != c.want.Sandbox || f.Approval != c.want.Approval {
				t.Errorf("got %+v, want %+v", f, c.want)
			}
		})
	}
}

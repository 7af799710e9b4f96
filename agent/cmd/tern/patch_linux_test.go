package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestMCPPatchIgnoresPlantedSymlinks is the red-team finding, end to end:
// a sandboxed command plants symlinks to a file outside the workspace
// where tern itself is about to write or read, outside the sandbox. The
// file outside must never change or leak, on either sandbox backend.
func TestMCPPatchIgnoresPlantedSymlinks(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			env := withTool(t, b.env(t), "ln")
			ws, outside := workspace(t), outsideDir(t)
			secret := filepath.Join(outside, "bashrc")
			const secretText = "export SECRET=1\n"
			if err := os.WriteFile(secret, []byte(secretText), 0o644); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.Command(ternBin, "mcp", "--cd", ws)
			cmd.Env = append(os.Environ(), env...)
			client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
			session, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
			if err != nil {
				t.Fatalf("connecting to tern mcp: %v", err)
			}
			defer session.Close()
			call := func(name string, args map[string]any) (string, bool) {
				t.Helper()
				r, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var b strings.Builder
				for _, c := range r.Content {
					if tc, ok := c.(*mcp.TextContent); ok {
						b.WriteString(tc.Text)
					}
				}
				return b.String(), r.IsError
			}
			plant := func(target, link string) {
				t.Helper()
				if out, _ := call("shell", map[string]any{"command": []string{"ln", "-s", target, link}}); !strings.Contains(out, "[exit code 0]") {
					t.Fatalf("the sandboxed ln failed: %q", out)
				}
				if _, err := os.Lstat(filepath.Join(ws, link)); err != nil {
					t.Fatalf("the sandboxed ln made no link: %v", err)
				}
			}

			// The temporary name tern used to write: tern must not follow it.
			plant(secret, "notes.md.tern-patch")
			if out, isErr := call("apply_patch", map[string]any{"patch": "*** Begin Patch\n*** Add File: notes.md\n+pwned\n*** End Patch"}); isErr {
				t.Fatalf("apply_patch: %q", out)
			}
			if b, _ := os.ReadFile(filepath.Join(ws, "notes.md")); string(b) != "pwned\n" {
				t.Fatalf("notes.md = %q", b)
			}

			// The file itself, and a directory on the way: refused.
			plant(secret, "planted.md")
			plant(outside, "sub")
			for _, patch := range []string{
				"*** Begin Patch\n*** Update File: planted.md\n-export SECRET=1\n+pwned\n*** End Patch",
				"*** Begin Patch\n*** Add File: sub/new.md\n+pwned\n*** End Patch",
				"*** Begin Patch\n*** Delete File: sub/bashrc\n*** End Patch",
			} {
				if out, isErr := call("apply_patch", map[string]any{"patch": patch}); !isErr || !strings.Contains(out, "outside the workspace") {
					t.Errorf("apply_patch through a planted symlink: error %v, %q", isErr, out)
				}
			}
			for _, p := range []string{"planted.md", "sub/bashrc"} {
				if out, isErr := call("read_file", map[string]any{"path": p}); !isErr || strings.Contains(out, "SECRET") {
					t.Errorf("read_file %s through a planted symlink: error %v, %q", p, isErr, out)
				}
			}
			if out, isErr := call("list_dir", map[string]any{"path": "sub"}); !isErr || strings.Contains(out, "bashrc") {
				t.Errorf("list_dir through a planted symlink: error %v, %q", isErr, out)
			}

			if b, err := os.ReadFile(secret); err != nil || string(b) != secretText {
				t.Fatalf("the file outside the workspace changed: %q, %v", b, err)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 1 {
				t.Fatalf("files appeared outside the workspace: %v", entries)
			}
		})
	}
}

// withTool makes sure the sandbox finds tool: a backend that sets a PATH
// of its own (see pathWithout) gets a link to it there.
func withTool(t *testing.T, env []string, tool string) []string {
	t.Helper()
	for _, kv := range env {
		dir, ok := strings.CutPrefix(kv, "PATH=")
		if !ok {
			continue
		}
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is not installed: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	return env
}

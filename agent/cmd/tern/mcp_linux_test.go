package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestMCPServer drives `tern mcp` over its stdin and stdout with the MCP SDK's
// client: initialize, list the tools, call them, and see the sandbox hold.
func TestMCPServer(t *testing.T) {
	ws := workspace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(ternBin, "mcp", "--cd", ws)
	client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connecting to tern mcp: %v", err)
	}
	defer session.Close()

	list, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "apply_patch,list_dir,read_file,shell" {
		t.Fatalf("tools: %v", names)
	}

	text := func(r *mcp.CallToolResult) string {
		var b strings.Builder
		for _, c := range r.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				b.WriteString(tc.Text)
			}
		}
		return b.String()
	}
	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		r, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}

	if r := call("list_dir", map[string]any{"path": "."}); r.IsError || !strings.Contains(text(r), "hello.txt") {
		t.Fatalf("list_dir: %v %q", r.IsError, text(r))
	}
	if r := call("apply_patch", map[string]any{"patch": "*** Begin Patch\n*** Update File: hello.txt\n@@\n-hello\n+hello, world\n*** End Patch"}); r.IsError {
		t.Fatalf("apply_patch: %q", text(r))
	}
	if r := call("shell", map[string]any{"command": []string{"sh", "test.sh"}}); !strings.Contains(text(r), "PASS") {
		t.Fatalf("shell: %q", text(r))
	}
	outside, _ := os.MkdirTemp("/var/tmp", "tern-mcp-outside-")
	defer os.RemoveAll(outside)
	call("shell", map[string]any{"command": []string{"sh", "-c", "echo x > " + filepath.Join(outside, "f")}})
	if exists(filepath.Join(outside, "f")) {
		t.Fatal("an MCP shell call wrote outside the workspace")
	}
	if r := call("read_file", map[string]any{"path": "/etc/passwd"}); !r.IsError || !strings.Contains(text(r), "outside the workspace") {
		t.Fatalf("read_file outside the workspace: %v %q", r.IsError, text(r))
	}
	if r := call("shell", map[string]any{"command": []string{"true"}, "with_escalated_permissions": true}); !r.IsError {
		t.Fatalf("escalation must be refused over MCP: %q", text(r))
	}
}

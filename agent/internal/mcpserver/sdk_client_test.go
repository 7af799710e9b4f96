package mcpserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// needTool returns an external tool a test needs, or skips the test saying
// why; under TERN_TEST_REQUIRE_TOOLS=1 (make test) it fails instead.
func needTool(t *testing.T, what, value, remedy string) string {
	t.Helper()
	if value != "" {
		return value
	}
	if os.Getenv("TERN_TEST_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is missing and TERN_TEST_REQUIRE_TOOLS=1: %s", what, remedy)
	}
	t.Skipf("%s is missing: %s", what, remedy)
	return ""
}

// TestTypeScriptSDKClient drives the real tern binary, as `tern mcp` on
// stdio, with the official MCP TypeScript SDK's client
// (@modelcontextprotocol/sdk, its package directory in MCP_SDK): it lists
// the tools, reads a real file, sees an unknown tool raise McpError -32602,
// and sees read_file {} answer with a tool error that names path.
func TestTypeScriptSDKClient(t *testing.T) {
	sdk := needTool(t, "MCP_SDK", os.Getenv("MCP_SDK"), "set MCP_SDK to the @modelcontextprotocol/sdk package directory (make test sets it from tools/npm)")
	if _, err := os.Stat(filepath.Join(sdk, "dist", "esm", "client", "index.js")); err != nil {
		t.Fatalf("MCP_SDK=%s is not the SDK's package directory: %v", sdk, err)
	}
	node, _ := exec.LookPath("node")
	node = needTool(t, "node", node, "install Node.js 18 or later")

	dir := t.TempDir()
	tern := filepath.Join(dir, "tern")
	if runtime.GOOS == "windows" {
		tern += ".exe"
	}
	build := exec.Command("go", "build", "-o", tern, "github.com/tern-agent/tern/agent/cmd/tern")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building tern: %v\n%s", err, out)
	}
	ws := filepath.Join(dir, "ws")
	os.Mkdir(ws, 0o755)
	if err := os.WriteFile(filepath.Join(ws, "hello.txt"), []byte("hello from the test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "sdk_client.mjs"))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script, tern, ws)
	config := filepath.Join(dir, "config") // no user config file reaches tern
	cmd.Env = append(os.Environ(), "MCP_SDK="+sdk, "XDG_CONFIG_HOME="+config, "AppData="+config)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "\nPASS\n") {
		t.Fatalf("node %s: %v\n%s", filepath.Base(script), err, out)
	}
	t.Logf("%s", out)
}

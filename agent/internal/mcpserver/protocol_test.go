package mcpserver

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/agent/internal/sandbox"
	"github.com/tern-agent/tern/agent/internal/tools"
)

// These tests speak the protocol line by line, on every OS; the tools run
// without a sandbox (danger-full-access) and only in tern itself.

func TestInitialize(t *testing.T) {
	c, _ := serve(t)
	for _, tc := range []struct{ asked, want string }{
		{"2025-06-18", "2025-06-18"},
		{"1999-01-01", ProtocolVersions[len(ProtocolVersions)-1]}, // unknown: the newest
	} {
		c.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":%q,"capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`, tc.asked)
		m := c.recv(10 * time.Second)
		r, _ := m["result"].(map[string]any)
		info, _ := r["serverInfo"].(map[string]any)
		caps, _ := r["capabilities"].(map[string]any)
		if m["id"] != float64(1) || r["protocolVersion"] != tc.want || info["name"] != "tern" || caps["tools"] == nil {
			t.Errorf("initialize %s: %v", tc.asked, m)
		}
	}
	// A notification gets no answer: the ping's answer comes next.
	c.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	c.send(`{"jsonrpc":"2.0","id":"p","method":"ping"}`)
	if m := c.recv(10 * time.Second); m["id"] != "p" || m["error"] != nil {
		t.Errorf("after the notification: %v", m)
	}
}

// TestToolsListIsTheRegistry: tools/list lists tools.Specs, in order, with
// their schemas as inputSchema.
func TestToolsListIsTheRegistry(t *testing.T) {
	c, _ := serve(t)
	c.send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	m := c.recv(10 * time.Second)
	r, _ := m["result"].(map[string]any)
	list, _ := r["tools"].([]any)
	specs := tools.Specs()
	if len(list) != len(specs) {
		t.Fatalf("tools/list: %v", m)
	}
	for i, s := range specs {
		got, _ := list[i].(map[string]any)
		schema, _ := got["inputSchema"].(map[string]any)
		if got["name"] != string(s.Name) || got["description"] != s.Description || schema["type"] != "object" {
			t.Errorf("tool %d: %v, want %s", i, got, s.Name)
		}
	}
}

func TestToolsCall(t *testing.T) {
	c, ws := serve(t)
	if err := os.WriteFile(filepath.Join(ws, "a.txt"), []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		params  string
		isError bool
		want    string
	}{
		{`{"name":"read_file","arguments":{"path":"a.txt","start_line":2,"end_line":2}}`, false, "two"},
		{`{"name":"list_dir","arguments":{"path":"."}}`, false, "a.txt"},
		{`{"name":"apply_patch","arguments":{"patch":"*** Begin Patch\n*** Add File: b.txt\n+bee\n*** End Patch"}}`, false, "b.txt"},
		{`{"name":"read_file","arguments":{"path":"../outside"}}`, true, "outside the workspace"},
		// An unknown tool was an isError result here; the 2025-06-18
		// revision makes it a JSON-RPC error: TestUnknownToolIsAProtocolError.
		{`{"name":"read_file"}`, true, "read_file takes"}, // no arguments: {}
	} {
		c.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":%s}`, tc.params)
		m := c.recv(10 * time.Second)
		r, _ := m["result"].(map[string]any)
		content, _ := r["content"].([]any)
		if m["id"] != float64(3) || r["isError"] != tc.isError || len(content) != 1 {
			t.Errorf("%s: %v", tc.params, m)
			continue
		}
		text, _ := content[0].(map[string]any)["text"].(string)
		if !strings.Contains(text, tc.want) {
			t.Errorf("%s: text %q, want %q", tc.params, text, tc.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(ws, "b.txt")); err != nil || string(b) != "bee\n" {
		t.Errorf("apply_patch wrote %q, %v", b, err)
	}
}

func TestErrors(t *testing.T) {
	c, _ := serve(t)
	for _, tc := range []struct {
		line string
		id   any
		code float64
	}{
		{`{"jsonrpc":"2.0","id":4,"method":"resources/list"}`, float64(4), -32601},
		{`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"arguments":{}}}`, float64(5), -32602},
		{`not json`, nil, -32700},
	} {
		c.send("%s", tc.line)
		m := c.recv(10 * time.Second)
		e, _ := m["error"].(map[string]any)
		if m["id"] != tc.id || e == nil || e["code"] != tc.code {
			t.Errorf("%s: %v, want error %v", tc.line, m, tc.code)
		}
	}
}

type brokenStdout struct{}

func (brokenStdout) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestWriteFailureStopsServing: when an answer cannot be written, Serve
// returns that error at once, though stdin stays open: before, it noticed
// only at the next line, which a client waiting for the answer never sends.
func TestWriteFailureStopsServing(t *testing.T) {
	ws := t.TempDir()
	set := &tools.Set{Workspace: ws, Policy: sandbox.Policy{Mode: sandbox.DangerFullAccess, Workspace: ws}, Plan: sandbox.Plan{Backend: sandbox.NoSandbox}}
	inR, inW := io.Pipe()
	defer inW.Close()
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), set, inR, brokenStdout{}) }()
	go io.WriteString(inW, `{"jsonrpc":"2.0","id":1,"method":"ping"}`+"\n")
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "writing a response to stdout: broken pipe") {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve went on reading after a failed write")
	}
}

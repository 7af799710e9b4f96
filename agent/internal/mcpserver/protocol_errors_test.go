package mcpserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests hold the server to the 2025-06-18 revision's line between
// protocol errors (JSON-RPC errors) and tool errors (results with isError).

// TestUnknownToolIsAProtocolError: "Unknown tools" are a JSON-RPC error,
// -32602, naming the tool asked for and the tools there are.
func TestUnknownToolIsAProtocolError(t *testing.T) {
	c, _ := serve(t)
	c.send(`{"jsonrpc":"2.0","id":"u","method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}`)
	m := c.recv(10 * time.Second)
	e, _ := m["error"].(map[string]any)
	want := `unknown tool "no_such_tool"; the tools are shell, read_file, list_dir and apply_patch`
	if m["id"] != "u" || m["result"] != nil || e == nil || e["code"] != float64(-32602) || e["message"] != want {
		t.Fatalf("an unknown tool: %v\nwant error -32602 %q", m, want)
	}
}

// TestArgumentsAreCheckedAgainstTheSchema: a call whose arguments break the
// tool's input schema is a tool error (isError) that names the argument,
// so the model that made it can correct it; never "…: <nil>".
func TestArgumentsAreCheckedAgainstTheSchema(t *testing.T) {
	c, _ := serve(t)
	for _, tc := range []struct{ call, want string }{
		{`{"name":"read_file","arguments":{}}`, `read_file takes {"path": string, "start_line"?: integer, "end_line"?: integer}: the required argument "path" is missing`},
		{`{"name":"read_file","arguments":{"path":null}}`, `: the required argument "path" is missing`},
		{`{"name":"read_file","arguments":{"path":""}}`, `: the required argument "path" is empty`},
		{`{"name":"read_file","arguments":{"path":5}}`, `: the argument "path" must be a string, not a number`},
		{`{"name":"read_file","arguments":{"path":"a.txt","start_line":"2"}}`, `: the argument "start_line" must be an integer, not a string`},
		{`{"name":"read_file","arguments":{"path":"a.txt","start_line":1.5}}`, `: the argument "start_line" must be an integer, not a number`},
		{`{"name":"list_dir","arguments":{"path":3}}`, `list_dir takes {"path"?: string}: the argument "path" must be a string, not a number`},
		{`{"name":"apply_patch","arguments":{}}`, `apply_patch takes {"patch": string}: the required argument "patch" is missing`},
		{`{"name":"shell","arguments":{}}`, `shell takes {"command": [string, ...], "timeout_ms"?: integer, "with_escalated_permissions"?: boolean, "justification"?: string}: the required argument "command" is missing`},
		{`{"name":"shell","arguments":{"command":[]}}`, `: the required argument "command" is empty`},
		{`{"name":"shell","arguments":{"command":"ls -l"}}`, `: the argument "command" must be an array, not a string`},
		{`{"name":"shell","arguments":{"command":["ls",1]}}`, `: the argument "command" must be an array of strings; element 1 is a number`},
		{`{"name":"shell","arguments":{"command":["true"],"with_escalated_permissions":"yes"}}`, `: the argument "with_escalated_permissions" must be a boolean, not a string`},
	} {
		c.send(`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":%s}`, tc.call)
		m := c.recv(10 * time.Second)
		r, _ := m["result"].(map[string]any)
		content, _ := r["content"].([]any)
		if m["id"] != float64(6) || r["isError"] != true || len(content) != 1 {
			t.Errorf("%s: %v, want an isError result", tc.call, m)
			continue
		}
		if text, _ := content[0].(map[string]any)["text"].(string); !strings.Contains(text, tc.want) || strings.Contains(text, "<nil>") {
			t.Errorf("%s:\n text %q\n want %q", tc.call, text, tc.want)
		}
	}
}

// TestToolFailuresStayResults: a tool that runs and fails (a missing file)
// is a result with isError, as the specification asks, not a JSON-RPC error.
func TestToolFailuresStayResults(t *testing.T) {
	c, ws := serve(t)
	os.WriteFile(filepath.Join(ws, "here.txt"), []byte("x\n"), 0o644)
	c.send(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"missing.txt"}}}`)
	m := c.recv(10 * time.Second)
	r, _ := m["result"].(map[string]any)
	if m["error"] != nil || r["isError"] != true || !strings.Contains(fmt.Sprint(r["content"]), "missing.txt") {
		t.Fatalf("reading a missing file: %v", m)
	}
}

// TestInvalidRequests: what is JSON but no request is -32600 (Invalid
// Request), with the request's id where it could be read and null where not;
// only what is not JSON is -32700. A batch is one of them: the 2025-06-18
// revision removed JSON-RPC batching.
func TestInvalidRequests(t *testing.T) {
	c, _ := serve(t)
	for _, tc := range []struct {
		line string
		id   any
		code float64
		want string // a substring of the message
	}{
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`, nil, -32600, "batch"},
		{` []`, nil, -32600, "batch"},
		{`42`, nil, -32600, "a JSON-RPC request is a JSON object"},
		{`"ping"`, nil, -32600, "a JSON-RPC request is a JSON object"},
		{`{"jsonrpc":"1.0","id":7,"method":"ping"}`, float64(7), -32600, `"jsonrpc" must be "2.0"`},
		{`{"id":8,"method":"ping"}`, float64(8), -32600, `"jsonrpc" must be "2.0"`},
		{`{"jsonrpc":"2.0","id":9}`, float64(9), -32600, "no method"},
		{`{"jsonrpc":"2.0","id":10,"method":5}`, float64(10), -32600, `"method" must be a string`},
		{`{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, nil, -32600, "an id is a string or a number"},
		{`{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"read_file","arguments":"a.txt"}}`, float64(11), -32602, "arguments must be a JSON object"},
		{`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":[1]}`, float64(12), -32602, "tools/call needs {name, arguments}"},
		{`{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"arguments":{}}}`, float64(15), -32602, `tools/call needs {name, arguments}: "name" is missing; the tools are shell, read_file, list_dir and apply_patch`},
		{`[{"jsonrpc":"2.0"`, nil, -32700, "parse error"},
	} {
		c.send("%s", tc.line)
		m := c.recv(10 * time.Second)
		e, _ := m["error"].(map[string]any)
		if strings.Contains(fmt.Sprint(e["message"]), "<nil>") {
			t.Errorf("%s: the message says <nil>: %v", tc.line, e["message"])
		}
		if _, hasID := m["id"]; !hasID || m["id"] != tc.id || e == nil || e["code"] != tc.code || !strings.Contains(fmt.Sprint(e["message"]), tc.want) {
			t.Errorf("%s: %v, want error %v with id %v and %q", tc.line, m, tc.code, tc.id, tc.want)
		}
	}
	// A response from the client (the server asks nothing) is not answered.
	c.send(`{"jsonrpc":"2.0","id":13,"result":{}}`)
	c.send(`{"jsonrpc":"2.0","id":14,"method":"ping"}`)
	if m := c.recv(10 * time.Second); m["id"] != float64(14) || m["error"] != nil {
		t.Fatalf("after a client's response, the ping got %v", m)
	}
}

// Package mcpserver exposes tern's tools (shell through the sandbox,
// read_file, list_dir, apply_patch) as an MCP server over stdio, so other
// agents and editors can drive them. The tools are the same code `tern exec`
// gives its model; the server adds only the protocol.
//
// It is a minimal, documented implementation of the part of MCP a tool
// server needs, rather than the official Go SDK: the SDK (with its JSON
// schema, OAuth and encoding dependencies) grew the tern binary from 6.9 to
// 8.7 MiB, past its 8 MiB budget, and slowed every start. The tests drive
// this server with the official SDK's client, so the two must agree.
//
// The protocol: JSON-RPC 2.0, one message per line on stdin and stdout.
//
//	initialize                  → protocolVersion, capabilities {tools}, serverInfo
//	notifications/initialized   (no answer)
//	ping                        → {}
//	tools/list                  → {tools: [{name, description, inputSchema}]}
//	tools/call {name, arguments}→ {content: [{type: "text", text}], isError}
//
// A tool that fails answers with isError true and the reason as text; only
// malformed requests and unknown methods are JSON-RPC errors.
package mcpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/tern-agent/tern/agent/internal/buildinfo"
	"github.com/tern-agent/tern/agent/internal/tools"
)

// ProtocolVersions are the MCP revisions this server speaks, newest last.
var ProtocolVersions = []string{"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}

type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Serve speaks MCP on in and out until in ends or ctx is done.
func Serve(ctx context.Context, set *tools.Set, in io.Reader, out io.Writer) error {
	enc := json.NewEncoder(out)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var req request
		if err := json.Unmarshal(line, &req); err != nil {
			enc.Encode(response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{-32700, "parse error: " + err.Error()}})
			continue
		}
		result, rerr := handle(ctx, set, req)
		if req.ID == nil {
			continue // a notification: no answer
		}
		resp := response{JSONRPC: "2.0", ID: req.ID, Result: result, Error: rerr}
		if rerr == nil && result == nil {
			resp.Result = struct{}{}
		}
		if err := enc.Encode(resp); err != nil {
			return err
		}
	}
	return sc.Err()
}

func handle(ctx context.Context, set *tools.Set, req request) (any, *rpcError) {
	switch req.Method {
	case "initialize":
		var p struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		json.Unmarshal(req.Params, &p)
		version := ProtocolVersions[len(ProtocolVersions)-1]
		if slices.Contains(ProtocolVersions, p.ProtocolVersion) {
			version = p.ProtocolVersion
		}
		return map[string]any{
			"protocolVersion": version,
			"capabilities":    map[string]any{"tools": map[string]any{}},
			"serverInfo":      map[string]string{"name": "tern", "version": buildinfo.Get().Version},
		}, nil
	case "notifications/initialized", "notifications/cancelled":
		return nil, nil
	case "ping":
		return struct{}{}, nil
	case "tools/list":
		var list []map[string]any
		for _, s := range tools.Specs() {
			list = append(list, map[string]any{"name": s.Name, "description": s.Description, "inputSchema": s.Parameters})
		}
		return map[string]any{"tools": list}, nil
	case "tools/call":
		var p struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if err := json.Unmarshal(req.Params, &p); err != nil || p.Name == "" {
			return nil, &rpcError{-32602, fmt.Sprintf("tools/call needs {name, arguments}: %v", err)}
		}
		if p.Arguments == nil {
			p.Arguments = json.RawMessage("{}")
		}
		out, err := set.Call(ctx, p.Name, p.Arguments)
		if err != nil {
			return map[string]any{"content": []map[string]string{{"type": "text", "text": err.Error()}}, "isError": true}, nil
		}
		return map[string]any{"content": []map[string]string{{"type": "text", "text": out}}, "isError": false}, nil
	}
	return nil, &rpcError{-32601, "method not found: " + req.Method}
}

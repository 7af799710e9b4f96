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
// The line between the two kinds of error is the 2025-06-18 revision's. A
// tool that fails, or refuses its arguments (checked against its input
// schema, naming the argument), answers with isError true and the reason as
// text, which the model can read and act on. Protocol errors are JSON-RPC
// errors: what is not JSON (-32700); JSON that is no request, a batch among
// them, since that revision removed batching (-32600, id null unless the
// id could be read); an unknown method (-32601); tools/call without a name,
// with arguments that are not an object, or naming an unknown tool (-32602,
// naming the tools there are).
//
// Tool calls run concurrently, so the server keeps reading while a command
// runs: notifications/cancelled {requestId} cancels that call's context,
// which kills its command, and, as the 2025-06-18 revision asks, the
// cancelled request gets no answer. A line longer than MaxMessage is
// answered with an Invalid Request error and skipped without being held in
// memory; the next line is served as usual.
package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

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

// MaxMessage is the longest line, in bytes, the server reads as a message.
const MaxMessage = 16 << 20

// maxConcurrentCalls bounds the tool calls that run at once; later ones wait
// for a slot, still cancellable.
const maxConcurrentCalls = 8

// Serve speaks MCP on in and out until in ends or ctx is done. At the end of
// in it waits for the tool calls still running and answers them; when ctx is
// done it cancels them.
func Serve(ctx context.Context, set *tools.Set, in io.Reader, out io.Writer) error {
	ctx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	s := &server{set: set, enc: json.NewEncoder(out), inFlight: map[string]*call{},
		slots: make(chan struct{}, maxConcurrentCalls), failed: make(chan struct{})}
	defer s.calls.Wait()
	// Lines are read in their own goroutine, so that a failed write stops
	// the server at once rather than at the next line, which may never come.
	reads := make(chan readResult)
	go func() {
		lines := newLineReader(in, MaxMessage)
		for {
			line, tooLong, err := lines.next()
			select {
			case reads <- readResult{bytes.Clone(line), tooLong, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		var r readResult
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.failed:
			// Nobody hears the answers: stop the calls under way.
			cancelAll()
			return s.writeErr()
		case r = <-reads:
		}
		if r.err == io.EOF {
			s.calls.Wait()
			return s.writeErr()
		}
		if r.err != nil {
			cancelAll() // before the deferred wait: nobody can ask for them now
			return fmt.Errorf("reading stdin: %w", r.err)
		}
		switch {
		case r.tooLong:
			s.reply(json.RawMessage("null"), nil, &rpcError{-32600, fmt.Sprintf("the message is longer than the %d MiB limit: discarded", MaxMessage>>20)})
		case len(bytes.TrimSpace(r.line)) > 0:
			s.dispatch(ctx, r.line)
		}
	}
}

type readResult struct {
	line    []byte
	tooLong bool
	err     error
}

// server is the state of one Serve: the calls in flight, by request id, and
// the one encoder every answer goes through.
type server struct {
	set   *tools.Set
	calls sync.WaitGroup
	slots chan struct{}

	mu       sync.Mutex // guards enc, err and inFlight
	enc      *json.Encoder
	err      error         // the first failed write; Serve returns it
	failed   chan struct{} // closed when err is set
	inFlight map[string]*call
}

type call struct {
	cancel    context.CancelFunc
	cancelled bool
}

func (s *server) dispatch(ctx context.Context, line []byte) {
	req, rerr := parseRequest(line)
	switch {
	case rerr != nil:
		s.reply(req.ID, nil, rerr)
	case req.Method == "":
		// A response from the client: the server asks nothing, so there
		// is nothing to match it to, and a response is never answered.
	case req.Method == "notifications/cancelled":
		s.cancel(req.Params)
	case req.Method == "tools/call" && req.ID != nil:
		s.startCall(ctx, req)
	default:
		result, rerr := handle(ctx, s.set, req)
		if req.ID != nil { // a notification gets no answer
			s.reply(req.ID, result, rerr)
		}
	}
}

// parseRequest reads one message. What is not JSON is a parse error
// (-32700); JSON that is no request, a batch among them, is an Invalid
// Request (-32600), answered with the request's id when it could be read
// and null when not. A response (no method, a result or an error) comes
// back with an empty Method.
func parseRequest(line []byte) (request, *rpcError) {
	null := request{ID: json.RawMessage("null")}
	if !json.Valid(line) {
		var v any
		err := json.Unmarshal(line, &v)
		return null, &rpcError{-32700, "parse error: " + err.Error()}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil || fields == nil {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] == '[' {
			return null, &rpcError{-32600, "invalid request: a JSON-RPC batch (an array) is not supported: MCP 2025-06-18 removed batching; send one request per line"}
		}
		return null, &rpcError{-32600, "invalid request: a JSON-RPC request is a JSON object"}
	}
	var req request
	if id, ok := fields["id"]; ok {
		switch tools.JSONType(id) {
		case "string", "number", "null":
			req.ID = id
		default:
			return null, &rpcError{-32600, "invalid request: an id is a string or a number, not " + tools.Article(tools.JSONType(id))}
		}
	}
	answerID := req.ID
	if answerID == nil {
		answerID = null.ID
	}
	invalid := func(msg string) (request, *rpcError) {
		return request{ID: answerID}, &rpcError{-32600, "invalid request: " + msg}
	}
	if json.Unmarshal(fields["jsonrpc"], &req.JSONRPC) != nil || req.JSONRPC != "2.0" {
		return invalid(`"jsonrpc" must be "2.0"`)
	}
	if m, ok := fields["method"]; ok {
		if json.Unmarshal(m, &req.Method) != nil || req.Method == "" {
			return invalid(`"method" must be a string that names a method`)
		}
	} else {
		_, result := fields["result"]
		_, isErr := fields["error"]
		if req.ID != nil && (result || isErr) {
			return request{ID: req.ID}, nil // a response
		}
		return invalid("the request has no method")
	}
	req.Params = fields["params"]
	return req, nil
}

// startCall runs a tools/call in its own goroutine, registered under its id
// so that a cancellation can find it.
func (s *server) startCall(ctx context.Context, req request) {
	key := idKey(req.ID)
	ctx, cancel := context.WithCancel(ctx)
	c := &call{cancel: cancel}
	s.mu.Lock()
	_, dup := s.inFlight[key]
	if !dup {
		s.inFlight[key] = c
	}
	s.mu.Unlock()
	if dup {
		cancel()
		s.reply(req.ID, nil, &rpcError{-32600, "request id " + key + " is already in use by a call in flight"})
		return
	}
	s.calls.Add(1)
	go func() {
		defer s.calls.Done()
		defer cancel()
		var result any
		var rerr *rpcError
		select {
		case s.slots <- struct{}{}:
			result, rerr = handle(ctx, s.set, req)
			<-s.slots
		case <-ctx.Done():
		}
		s.mu.Lock()
		delete(s.inFlight, key)
		cancelled := c.cancelled
		s.mu.Unlock()
		if !cancelled {
			s.reply(req.ID, result, rerr)
		}
	}()
}

// cancel handles notifications/cancelled. An unknown or finished request is
// ignored, as the protocol allows.
func (s *server) cancel(params json.RawMessage) {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(params, &p) != nil || p.RequestID == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.inFlight[idKey(p.RequestID)]; ok {
		c.cancelled = true
		c.cancel()
	}
}

// reply writes one answer; answers from concurrent calls never interleave.
func (s *server) reply(id json.RawMessage, result any, rerr *rpcError) {
	resp := response{JSONRPC: "2.0", ID: id, Result: result, Error: rerr}
	if rerr == nil && result == nil {
		resp.Result = struct{}{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	if err := s.enc.Encode(resp); err != nil {
		s.err = fmt.Errorf("writing a response to stdout: %w", err)
		close(s.failed)
	}
}

func (s *server) writeErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// idKey is a request id in one canonical spelling: 7 and "7" stay distinct,
// as JSON-RPC has them.
func idKey(id json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, id) != nil {
		return string(id)
	}
	return b.String()
}

// lineReader reads newline-terminated lines of at most max bytes. A longer
// line is reported as too long and skipped: its bytes are read and dropped
// as they come, never held.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its newline, or tooLong for one over
// the limit; io.EOF once the input ends. A last line without a newline
// counts.
func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		complete := err == nil
		if complete {
			chunk = chunk[:len(chunk)-1]
		}
		if !tooLong {
			if len(l.buf)+len(chunk) > l.max {
				tooLong, l.buf = true, l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		switch {
		case complete:
			return l.buf, tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && (len(chunk) > 0 || len(l.buf) > 0 || tooLong):
			return l.buf, tooLong, nil
		default:
			return nil, false, err
		}
	}
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
	case "notifications/initialized":
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
		if err := json.Unmarshal(req.Params, &p); err != nil {
			return nil, &rpcError{-32602, fmt.Sprintf("tools/call needs {name, arguments}: %v", err)}
		}
		if p.Name == "" {
			return nil, &rpcError{-32602, fmt.Sprintf(`tools/call needs {name, arguments}: "name" is missing; the tools are %s`, toolNames())}
		}
		// An unknown tool is a protocol error, as the specification lists
		// it; a call the tool can refuse is a result the model can read.
		if !isTool(p.Name) {
			return nil, &rpcError{-32602, fmt.Sprintf("unknown tool %q; the tools are %s", p.Name, toolNames())}
		}
		if p.Arguments == nil || string(p.Arguments) == "null" {
			p.Arguments = json.RawMessage("{}")
		}
		var args map[string]json.RawMessage
		if err := json.Unmarshal(p.Arguments, &args); err != nil {
			return nil, &rpcError{-32602, fmt.Sprintf("tools/call %s: arguments must be a JSON object, not %s", p.Name, tools.Article(tools.JSONType(p.Arguments)))}
		}
		// Arguments that break the tool's schema come back from Call as an
		// error result naming the argument.
		out, err := set.Call(ctx, p.Name, p.Arguments)
		if err != nil {
			return toolResult(err.Error(), true), nil
		}
		return toolResult(out, false), nil
	}
	return nil, &rpcError{-32601, "method not found: " + req.Method}
}

func toolResult(text string, isError bool) map[string]any {
	return map[string]any{"content": []map[string]string{{"type": "text", "text": text}}, "isError": isError}
}

func isTool(name string) bool {
	for _, s := range tools.Specs() {
		if string(s.Name) == name {
			return true
		}
	}
	return false
}

// toolNames is "a, b, c and d", in the order tools/list shows them.
func toolNames() string {
	var names []string
	for _, s := range tools.Specs() {
		names = append(names, string(s.Name))
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

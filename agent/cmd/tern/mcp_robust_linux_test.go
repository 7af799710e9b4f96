package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// rawMCP is `tern mcp` driven line by line, for what an SDK client would
// never send.
type rawMCP struct {
	t     *testing.T
	in    io.WriteCloser
	lines chan map[string]any
}

func startMCP(t *testing.T, dir string, env []string, args ...string) *rawMCP {
	t.Helper()
	cmd := exec.Command(ternBin, append([]string{"mcp"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Process.Kill(); cmd.Wait() })
	m := &rawMCP{t: t, in: in, lines: make(chan map[string]any, 16)}
	go func() {
		defer close(m.lines)
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return
			}
			var msg map[string]any
			if json.Unmarshal(line, &msg) != nil {
				msg = map[string]any{"unparsed": string(line)}
			}
			m.lines <- msg
		}
	}()
	m.send(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	if r := m.recv(); r["id"] != float64(0) || r["result"] == nil {
		t.Fatalf("initialize: %v", r)
	}
	m.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return m
}

func (m *rawMCP) send(line string) {
	m.t.Helper()
	done := make(chan error, 1)
	go func() { _, err := io.WriteString(m.in, line+"\n"); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			m.t.Fatalf("writing to tern mcp: %v", err)
		}
	case <-time.After(20 * time.Second):
		m.t.Fatal("tern mcp read nothing for 20s")
	}
}

func (m *rawMCP) recv() map[string]any {
	m.t.Helper()
	select {
	case r, ok := <-m.lines:
		if !ok {
			m.t.Fatal("tern mcp closed its output")
		}
		return r
	case <-time.After(20 * time.Second):
		m.t.Fatal("tern mcp answered nothing for 20s")
		return nil
	}
}

func TestMCPSurvivesAnOversizedLine(t *testing.T) {
	m := startMCP(t, workspace(t), nil)
	m.send(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("A", 17<<20) + `"}}`)
	r := m.recv()
	if e, _ := r["error"].(map[string]any); e == nil || e["code"] != float64(-32600) || !strings.Contains(fmt.Sprint(e["message"]), "16 MiB") {
		t.Fatalf("the answer to a 17 MiB line: %v", r)
	}
	m.send(`{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	if r := m.recv(); r["id"] != float64(2) || r["error"] != nil {
		t.Fatalf("the ping after a 17 MiB line: %v", r)
	}
}

func TestMCPCancelKillsTheSandboxedCommand(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			// A duration no other test uses names this sleep for pgrep,
			// whatever PID namespace it runs in.
			marker := fmt.Sprintf("700.%d", time.Now().UnixNano()%1e9)
			m := startMCP(t, workspace(t), b.env(t))
			m.send(`{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"shell","arguments":{"command":["sleep","` + marker + `"]}}}`)
			// Anchored, so that it matches the sleep itself and not bwrap,
			// whose command line holds the sleep's.
			running := func() bool {
				out, _ := exec.Command("pgrep", "-f", "^sleep "+marker+"$").Output()
				return len(strings.TrimSpace(string(out))) > 0
			}
			for deadline := time.Now().Add(20 * time.Second); !running(); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the sandboxed sleep never started")
				}
			}
			m.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c1","reason":"test"}}`)
			for deadline := time.Now().Add(5 * time.Second); running(); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the sandboxed sleep still runs 5s after the cancellation")
				}
			}
			m.send(`{"jsonrpc":"2.0","id":3,"method":"ping"}`)
			if r := m.recv(); r["id"] != float64(3) {
				t.Fatalf("after the cancellation tern mcp sent %v; want the ping's answer and nothing for the cancelled call", r)
			}
		})
	}
}

package mcpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/agent/internal/sandbox"
	"github.com/tern-agent/tern/agent/internal/tools"
)

// client drives Serve over pipes, as an MCP client on the other end of
// stdio would.
type client struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan map[string]any
	done  chan struct{} // closed when Serve has returned err
	err   error
}

// serve starts Serve on a tools.Set that runs commands without a sandbox
// (danger-full-access), so these tests need neither bwrap nor Landlock.
func serve(t *testing.T) (*client, string) {
	t.Helper()
	ws := t.TempDir()
	set := &tools.Set{
		Workspace: ws,
		Policy:    sandbox.Policy{Mode: sandbox.DangerFullAccess, Workspace: ws},
		Plan:      sandbox.Plan{Backend: sandbox.NoSandbox},
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &client{t: t, in: inW, lines: make(chan map[string]any, 16), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		c.err = Serve(ctx, set, inR, outW)
		close(c.done)
		outW.Close()
	}()
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("the server wrote a line that is not JSON: %q", sc.Text())
				continue
			}
			c.lines <- m
		}
	}()
	t.Cleanup(func() { cancel(); inW.Close(); <-c.done })
	return c, ws
}

// send writes one line; it fails if the server has not read it in 10s.
func (c *client) send(format string, args ...any) {
	c.t.Helper()
	written := make(chan error, 1)
	go func() {
		_, err := fmt.Fprintf(c.in, format+"\n", args...)
		written <- err
	}()
	select {
	case err := <-written:
		if err != nil {
			c.t.Fatalf("writing to the server: %v", err)
		}
	case <-time.After(10 * time.Second):
		c.t.Fatal("the server did not read a line in 10s")
	}
}

// recv returns the next message, or fails after the timeout.
func (c *client) recv(timeout time.Duration) map[string]any {
	c.t.Helper()
	select {
	case m, ok := <-c.lines:
		if !ok {
			c.t.Fatal("the server closed its output")
		}
		return m
	case <-time.After(timeout):
		c.t.Fatalf("no message from the server in %s", timeout)
		return nil
	}
}

func TestOversizedLineIsAnsweredAndServingGoesOn(t *testing.T) {
	c, _ := serve(t)
	huge := `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"` + strings.Repeat("x", 17<<20) + `"}}`
	c.send("%s", huge)
	m := c.recv(30 * time.Second)
	e, _ := m["error"].(map[string]any)
	if m["id"] != nil || e == nil || e["code"] != float64(-32600) || e["message"] != "the message is longer than the 16 MiB limit: discarded" {
		t.Fatalf("the answer to a 17 MiB line: %v", m)
	}
	c.send(`{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	if m := c.recv(10 * time.Second); m["id"] != float64(2) || m["error"] != nil {
		t.Fatalf("the ping after it: %v", m)
	}
}

func TestLineReader(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string // "!" marks a line over the limit
	}{
		{"", nil},
		{"a\nb\n", []string{"a", "b"}},
		{"a\nlast", []string{"a", "last"}},
		{"12345678\n", []string{"12345678"}},
		{"123456789\nok\n", []string{"!", "ok"}},
		{strings.Repeat("y", 100) + "\nok\n" + strings.Repeat("z", 9), []string{"!", "ok", "!"}},
		{"\n\nx\r\n", []string{"", "", "x\r"}},
	} {
		r := newLineReader(strings.NewReader(c.in), 8)
		var got []string
		for {
			line, tooLong, err := r.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if tooLong {
				got = append(got, "!")
			} else {
				got = append(got, string(line))
			}
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q: lines %q, want %q", c.in, got, c.want)
		}
	}
}

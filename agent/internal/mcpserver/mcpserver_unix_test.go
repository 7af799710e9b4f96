//go:build unix

package mcpserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCancelKillsTheCall(t *testing.T) {
	c, ws := serve(t)
	c.send(`{"jsonrpc":"2.0","id":"call-7","method":"tools/call","params":{"name":"shell","arguments":{"command":["sh","-c","echo $$ > pid; exec sleep 600"]}}}`)
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
		b, _ := os.ReadFile(filepath.Join(ws, "pid"))
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })

	// The server still answers while the command runs.
	c.send(`{"jsonrpc":"2.0","id":8,"method":"ping"}`)
	if m := c.recv(5 * time.Second); m["id"] != float64(8) {
		t.Fatalf("while a call runs, a ping got %v", m)
	}

	c.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"call-7","reason":"the user changed their mind"}}`)
	for deadline := time.Now().Add(5 * time.Second); !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("sleep (pid %d) still runs 5s after the cancellation", pid)
		}
	}
	// No answer for the cancelled call: the next message is the next ping's.
	c.send(`{"jsonrpc":"2.0","id":9,"method":"ping"}`)
	if m := c.recv(5 * time.Second); m["id"] != float64(9) {
		t.Fatalf("after the cancellation the server sent %v", m)
	}
	select {
	case m := <-c.lines:
		t.Fatalf("the cancelled call was answered: %v", m)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestEndOfInputWaitsForCalls: a client that writes a call and closes its
// end still gets the answer, as it did when calls ran one at a time.
func TestEndOfInputWaitsForCalls(t *testing.T) {
	c, _ := serve(t)
	c.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"shell","arguments":{"command":["sh","-c","sleep 0.2; echo finished"]}}}`)
	c.in.Close()
	m := c.recv(10 * time.Second)
	if m["id"] != float64(1) || !strings.Contains(fmt.Sprint(m["result"]), "finished") {
		t.Fatalf("the call's answer: %v", m)
	}
	<-c.done
	if c.err != nil {
		t.Fatalf("Serve returned %v at the end of its input", c.err)
	}
}

func TestDuplicateIDInFlightIsRefused(t *testing.T) {
	c, _ := serve(t)
	call := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"shell","arguments":{"command":["sleep","600"]}}}`
	c.send("%s", call)
	c.send("%s", call)
	m := c.recv(5 * time.Second)
	if e, _ := m["error"].(map[string]any); m["id"] != float64(3) || e == nil || e["code"] != float64(-32600) {
		t.Fatalf("a second request with an id in flight: %v", m)
	}
	c.send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}`)
}

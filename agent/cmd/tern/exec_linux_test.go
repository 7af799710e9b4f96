package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// step is one scripted answer of the fake model API.
type step struct {
	status int      // 0: 200 with the events
	events []string // SSE data payloads; "[DONE]" ends a complete answer
	cut    bool     // close the connection after the events, mid-answer
}

func text(s string) string {
	b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"delta": map[string]any{"content": s}}}})
	return string(b)
}

// call streams a tool call in two deltas, as real APIs split them.
func call(id, name string, args any) []string {
	raw, _ := json.Marshal(args)
	half := len(raw) / 2
	first, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"delta": map[string]any{"tool_calls": []any{
		map[string]any{"index": 0, "id": id, "type": "function", "function": map[string]any{"name": name, "arguments": string(raw[:half])}}}}}}})
	second, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"delta": map[string]any{"tool_calls": []any{
		map[string]any{"index": 0, "function": map[string]any{"arguments": string(raw[half:])}}}}}}})
	return []string{string(first), string(second)}
}

func rawCall(id, name, args string) []string {
	b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"delta": map[string]any{"tool_calls": []any{
		map[string]any{"index": 0, "id": id, "type": "function", "function": map[string]any{"name": name, "arguments": args}}}}}}})
	return []string{string(b)}
}

const usage = `{"choices":[],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150}}`

func answer(events ...[]string) step {
	var all []string
	for _, e := range events {
		all = append(all, e...)
	}
	return step{events: append(all, usage, "[DONE]")}
}

// fakeModel is a scripted OpenAI-compatible API on 127.0.0.1. It records
// every request's messages.
type fakeModel struct {
	*httptest.Server
	mu       sync.Mutex
	steps    []step
	requests [][]map[string]any
}

func newFakeModel(t *testing.T, steps ...step) *fakeModel {
	f := &fakeModel{steps: steps}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(f.serve)}}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

func (f *fakeModel) serve(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Messages []map[string]any `json:"messages"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	f.requests = append(f.requests, body.Messages)
	if len(f.steps) == 0 {
		f.mu.Unlock()
		http.Error(w, "the script has ended", http.StatusTeapot)
		return
	}
	s := f.steps[0]
	f.steps = f.steps[1:]
	f.mu.Unlock()
	if s.status != 0 {
		http.Error(w, http.StatusText(s.status), s.status)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	for _, e := range s.events {
		fmt.Fprintf(w, "data: %s\n\n", e)
		w.(http.Flusher).Flush()
	}
	if s.cut {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}
}

func (f *fakeModel) lastToolResult() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	msgs := f.requests[len(f.requests)-1]
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i]["role"] == "tool" {
			return fmt.Sprint(msgs[i]["content"])
		}
	}
	return ""
}

func execTern(t *testing.T, f *fakeModel, ws string, args ...string) result {
	t.Helper()
	env := []string{"OPENAI_BASE_URL=" + f.URL, "OPENAI_API_KEY=test-key", "TERN_RETRY_BACKOFF_MS=10", "XDG_CONFIG_HOME=" + t.TempDir()}
	return tern(t, ws, env, append([]string{"exec"}, args...)...)
}

// workspace holds a file and a test script that checks it.
func workspace(t *testing.T) string {
	ws := t.TempDir()
	os.WriteFile(filepath.Join(ws, "hello.txt"), []byte("hello\n"), 0o644)
	os.WriteFile(filepath.Join(ws, "test.sh"), []byte("grep -q 'hello, world' hello.txt && echo PASS\n"), 0o644)
	return ws
}

func TestExecWholeConversation(t *testing.T) {
	for _, mode := range []string{"text", "json"} {
		t.Run(mode, func(t *testing.T) {
			ws := workspace(t)
			f := newFakeModel(t,
				answer([]string{text("Let me look.")}, call("c1", "list_dir", map[string]string{"path": "."})),
				answer(call("c2", "read_file", map[string]any{"path": "hello.txt"})),
				answer(call("c3", "apply_patch", map[string]string{"patch": "*** Begin Patch\n*** Update File: hello.txt\n@@\n-hello\n+hello, world\n*** End Patch"})),
				answer(call("c4", "shell", map[string]any{"command": []string{"sh", "test.sh"}})),
				answer([]string{text("All done: "), text("hello.txt now greets the world.")}),
			)
			args := []string{"make hello.txt greet the world"}
			if mode == "json" {
				args = append([]string{"--json"}, args...)
			}
			r := execTern(t, f, ws, args...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
			}
			if b, _ := os.ReadFile(filepath.Join(ws, "hello.txt")); string(b) != "hello, world\n" {
				t.Fatalf("hello.txt is %q", b)
			}
			if got := f.lastToolResult(); !strings.Contains(got, "PASS") || !strings.Contains(got, "[exit code 0]") {
				t.Fatalf("the model did not see the tests pass: %q", got)
			}
			if mode == "text" {
				if !strings.Contains(r.stdout, "All done: hello.txt now greets the world.") {
					t.Fatalf("stdout: %q", r.stdout)
				}
				return
			}
			var types []string
			sc := bufio.NewScanner(strings.NewReader(r.stdout))
			var last map[string]any
			for sc.Scan() {
				var e map[string]any
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("not JSONL: %q", sc.Text())
				}
				if e["schema"] != float64(1) {
					t.Fatalf("event without schema 1: %v", e)
				}
				types = append(types, e["type"].(string))
				last = e
			}
			joined := strings.Join(types, ",")
			if !strings.HasPrefix(joined, "turn.started,message.delta,tool.call,tool.result") || strings.Count(joined, "tool.call") != 4 || last["type"] != "turn.completed" {
				t.Fatalf("events: %s", joined)
			}
			if u := last["usage"].(map[string]any); u["total_tokens"] != float64(750) {
				t.Fatalf("usage: %v", u)
			}
		})
	}
}

func TestExecSandboxDenialReachesTheModel(t *testing.T) {
	outside, err := os.MkdirTemp("/var/tmp", "tern-exec-outside-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(outside)
	target := filepath.Join(outside, "escape")
	f := newFakeModel(t,
		answer(call("c1", "shell", map[string]any{"command": []string{"sh", "-c", "echo x > " + target}})),
		answer([]string{text("The sandbox stopped that write.")}),
	)
	r := execTern(t, f, workspace(t), "write outside")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(target); err == nil {
		t.Fatal("the write outside the workspace happened")
	}
	if got := f.lastToolResult(); !strings.Contains(got, "[exit code") || strings.Contains(got, "[exit code 0]") {
		t.Fatalf("the model did not see the denial: %q", got)
	}
}

func TestExecBadPatchChangesNothing(t *testing.T) {
	ws := workspace(t)
	f := newFakeModel(t,
		answer(call("c1", "apply_patch", map[string]string{"patch": "*** Begin Patch\n*** Add File: new.txt\n+new\n*** Update File: hello.txt\n@@\n-goodbye\n+hi\n*** End Patch"})),
		answer([]string{text("The patch did not apply.")}),
	)
	r := execTern(t, f, ws, "patch")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(ws, "new.txt")); err == nil {
		t.Fatal("a failed patch still added new.txt")
	}
	if got := f.lastToolResult(); !strings.Contains(got, "does not apply") {
		t.Fatalf("tool result: %q", got)
	}
}

func TestExecStreamCutMidMessage(t *testing.T) {
	ws := workspace(t)
	partial := rawCall("c1", "apply_patch", `{"patch": "*** Begin Patch\n*** Add File: half.txt\n+`)
	f := newFakeModel(t, step{events: append([]string{text("Writing")}, partial...), cut: true})
	r := execTern(t, f, ws, "write")
	if r.code != 4 || !strings.Contains(r.stderr, "stopped before it was complete") {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(ws, "half.txt")); err == nil {
		t.Fatal("a cut stream still wrote a file")
	}
}

func TestExecRetriesA500(t *testing.T) {
	f := newFakeModel(t, step{status: 500}, answer([]string{text("fine")}))
	r := execTern(t, f, workspace(t), "hi")
	if r.code != 0 || !strings.Contains(r.stdout, "fine") || !strings.Contains(r.stderr, "500") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
}

func TestExec401NamesTheVariable(t *testing.T) {
	f := newFakeModel(t, step{status: 401})
	r := execTern(t, f, workspace(t), "hi")
	if r.code != 3 || !strings.Contains(r.stderr, "set OPENAI_API_KEY") {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
}

func TestExecMalformedToolCallGoesBackToTheModel(t *testing.T) {
	f := newFakeModel(t, answer(rawCall("c1", "read_file", `{"path": `)), answer([]string{text("retrying differently")}))
	r := execTern(t, f, workspace(t), "hi")
	if r.code != 0 || !strings.Contains(f.lastToolResult(), "not valid JSON") {
		t.Fatalf("exit %d, tool result %q, stderr %s", r.code, f.lastToolResult(), r.stderr)
	}
}

func TestExecCtrlCKillsTheCommand(t *testing.T) {
	ws := workspace(t)
	f := newFakeModel(t, answer(call("c1", "shell", map[string]any{"command": []string{"sh", "-c", "echo $$ > started; exec sleep 602"}})))
	cmd := exec.Command(ternBin, "exec", "wait")
	cmd.Dir = ws
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+f.URL, "OPENAI_API_KEY=k", "XDG_CONFIG_HOME="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(20 * time.Second); !exists(filepath.Join(ws, "started")); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := waitExit(t, cmd); code != 130 {
		t.Fatalf("tern exited %d after Ctrl-C, want 130", code)
	}
	if out, err := exec.Command("pgrep", "-f", "sleep 602").Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("the command outlived the interruption: %s", out)
	}
}

func TestExecEscalationWithoutATerminalIsRefused(t *testing.T) {
	f := newFakeModel(t,
		answer(call("c1", "shell", map[string]any{"command": []string{"true"}, "with_escalated_permissions": true, "justification": "needs the network"})),
		answer([]string{text("ok")}),
	)
	cmd := exec.Command(ternBin, "exec", "--approval", "on-request", "go")
	cmd.Dir = workspace(t)
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+f.URL, "OPENAI_API_KEY=k", "XDG_CONFIG_HOME="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := f.lastToolResult(); !strings.Contains(got, "refused") {
		t.Fatalf("the model must be told the escalation was refused: %q", got)
	}
}

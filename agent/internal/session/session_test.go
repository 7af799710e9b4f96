package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tern-agent/tern/agent/internal/model"
	"github.com/tern-agent/tern/agent/internal/sandbox"
	"github.com/tern-agent/tern/agent/internal/tools"
)

// fakeAPI plays a Chat Completions API: each request gets the next scripted
// answer, a raw SSE body, or an HTTP status when it starts with "HTTP ".
type fakeAPI struct {
	mu       sync.Mutex
	answers  []string
	requests []map[string]any
}

func (f *fakeAPI) start(t *testing.T) *model.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.requests = append(f.requests, body)
		answer := "HTTP 500"
		if len(f.answers) > 0 {
			answer, f.answers = f.answers[0], f.answers[1:]
		}
		f.mu.Unlock()
		if code, ok := strings.CutPrefix(answer, "HTTP "); ok {
			var n int
			fmt.Sscan(code, &n)
			http.Error(w, "scripted", n)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return &model.Client{BaseURL: srv.URL, Model: "m", APIKey: "k"}
}

func sse(chunks ...string) string {
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString("data: " + c + "\n\n")
	}
	return b.String() + "data: [DONE]\n\n"
}

func toolCall(id, name, args string) string {
	a, _ := json.Marshal(args)
	return fmt.Sprintf(`{"choices":[{"delta":{"tool_calls":[{"index":0,"id":%q,"type":"function","function":{"name":%q,"arguments":%s}}]}}]}`, id, name, a)
}

func text(s string) string {
	t, _ := json.Marshal(s)
	return fmt.Sprintf(`{"choices":[{"delta":{"content":%s}}]}`, t)
}

// workspaceTools are the real tools on a temporary workspace, without a
// sandbox: the file tools need none, and no test here runs shell.
func workspaceTools(t *testing.T) *tools.Set {
	ws := t.TempDir()
	os.WriteFile(filepath.Join(ws, "a.txt"), []byte("alpha\n"), 0o644)
	return &tools.Set{Workspace: ws, Policy: sandbox.Policy{Mode: sandbox.DangerFullAccess, Workspace: ws}, Plan: sandbox.Plan{Backend: sandbox.NoSandbox}}
}

func record(events *[]Event) func(Event) error {
	return func(e Event) error { *events = append(*events, e); return nil }
}

func types(events []Event) string {
	var s []string
	for _, e := range events {
		s = append(s, string(e.Type))
	}
	return strings.Join(s, " ")
}

func TestRunCallsToolsAndFinishes(t *testing.T) {
	f := &fakeAPI{answers: []string{
		sse(toolCall("c1", "read_file", `{"path":"a.txt"}`), `{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}`),
		sse(toolCall("c2", "no_such_tool", `{}`), toolCall("", "", "")),
		sse(toolCall("c3", "list_dir", `{"path":`)), // not JSON
		sse(text("all "), text("done"), `{"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23}}`),
	}}
	client := f.start(t)
	var events []Event
	usage, err := Run(context.Background(), Options{Client: client, Tools: workspaceTools(t), Task: "read a.txt", Emit: record(&events)})
	if err != nil {
		t.Fatal(err)
	}
	want := "turn.started tool.call tool.result tool.call tool.result tool.call tool.result message.delta message.delta turn.completed"
	if got := types(events); got != want {
		t.Fatalf("events %s\nwant   %s", got, want)
	}
	for _, e := range events {
		if e.Schema != SchemaVersion {
			t.Errorf("%s has schema %d", e.Type, e.Schema)
		}
	}
	if r := events[2]; r.CallID != "c1" || r.Tool != "read_file" || r.Failed || r.Output != "alpha\n" {
		t.Errorf("read_file result %+v", r)
	}
	if r := events[4]; !r.Failed || !strings.Contains(r.Output, `no tool named "no_such_tool"`) {
		t.Errorf("unknown tool result %+v", r)
	}
	if r := events[6]; !r.Failed || !strings.Contains(r.Output, "not valid JSON") {
		t.Errorf("malformed call result %+v", r)
	}
	if usage.TotalTokens != 35 || events[len(events)-1].Usage.PromptTokens != 30 {
		t.Errorf("usage %+v", usage)
	}
	// The model saw each result, under its call's id.
	msgs, _ := f.requests[1]["messages"].([]any)
	last, _ := msgs[len(msgs)-1].(map[string]any)
	if last["role"] != "tool" || last["tool_call_id"] != "c1" || last["content"] != "alpha\n" {
		t.Errorf("the second request ends with %v", last)
	}
	if specs, _ := f.requests[0]["tools"].([]any); len(specs) != len(tools.Specs()) {
		t.Errorf("the model was offered %d tools, want %d", len(specs), len(tools.Specs()))
	}
}

func TestRunErrorKinds(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name    string
		answer  string
		ctx     context.Context
		kind    ErrorKind
		wantErr func(error) bool
	}{
		{"401", "HTTP 401", context.Background(), ErrorAuth, func(err error) bool { var a *model.AuthError; return errors.As(err, &a) }},
		{"500", "HTTP 500", context.Background(), ErrorModel, func(err error) bool { var s *model.StatusError; return errors.As(err, &s) }},
		{"cut", "data: " + text("par") + "\n\n", context.Background(), ErrorModel, func(err error) bool { return errors.Is(err, model.ErrIncomplete) }},
		{"interrupted", sse(text("x")), cancelled, ErrorInterrupted, func(err error) bool { return errors.Is(err, ErrInterrupted) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeAPI{answers: []string{c.answer}}
			var events []Event
			_, err := Run(c.ctx, Options{Client: f.start(t), Tools: workspaceTools(t), Task: "t", Emit: record(&events)})
			if err == nil || !c.wantErr(err) {
				t.Fatalf("err %v", err)
			}
			last := events[len(events)-1]
			if last.Type != EventError || last.Kind != c.kind || last.Message != err.Error() {
				t.Errorf("last event %+v, want an error of kind %s", last, c.kind)
			}
		})
	}
}

func TestRunStopsAfterMaxTurns(t *testing.T) {
	var answers []string
	for range 3 {
		answers = append(answers, sse(toolCall("c", "list_dir", `{"path":"."}`)))
	}
	f := &fakeAPI{answers: answers}
	var events []Event
	_, err := Run(context.Background(), Options{Client: f.start(t), Tools: workspaceTools(t), Task: "t", Emit: record(&events), MaxTurns: 2})
	if err == nil || !strings.Contains(err.Error(), "2 turns") || len(f.requests) != 2 {
		t.Fatalf("err %v after %d requests", err, len(f.requests))
	}
	if last := events[len(events)-1]; last.Kind != ErrorModel {
		t.Errorf("last event %+v", last)
	}
}

// TestRunStopsWhenEmitFails: an event that cannot be delivered stops the
// run before the tool it announces runs, and Run says why; it is not
// reported as the model's failure, nor as an event nobody can read.
func TestRunStopsWhenEmitFails(t *testing.T) {
	patch := "*** Begin Patch\n*** Add File: made.txt\n+x\n*** End Patch"
	args, _ := json.Marshal(map[string]string{"patch": patch})
	for _, failOn := range []EventType{EventTurnStarted, EventMessageDelta, EventToolCall, EventToolResult, EventTurnCompleted} {
		t.Run(string(failOn), func(t *testing.T) {
			f := &fakeAPI{answers: []string{
				sse(text("working"), toolCall("c1", "apply_patch", string(args))),
				sse(text("done")),
			}}
			set := workspaceTools(t)
			var events []Event
			emit := func(e Event) error {
				if e.Type == failOn {
					return errors.New("stdout is closed")
				}
				events = append(events, e)
				return nil
			}
			_, err := Run(context.Background(), Options{Client: f.start(t), Tools: set, Task: "t", Emit: emit})
			var ee *EmitError
			if !errors.As(err, &ee) || !strings.Contains(err.Error(), "stdout is closed") {
				t.Fatalf("err %v, want an *EmitError", err)
			}
			for _, e := range events {
				if e.Type == failOn || e.Type == EventError {
					t.Errorf("event after the failure: %+v", e)
				}
			}
			_, statErr := os.Stat(filepath.Join(set.Workspace, "made.txt"))
			patched := statErr == nil
			if wantPatched := failOn == EventToolResult || failOn == EventTurnCompleted; patched != wantPatched {
				t.Errorf("the patch applied: %v, want %v", patched, wantPatched)
			}
			if failOn != EventTurnCompleted && len(f.requests) > 1 {
				t.Errorf("the model was asked again after the failure")
			}
		})
	}
}

// TestDocsListEveryEventAndKind: docs/exec-events.md has a row for each
// event type and names each error kind, so adding one means documenting it.
func TestDocsListEveryEventAndKind(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "exec-events.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, e := range EventTypes {
		if !strings.Contains(doc, "| `"+string(e)+"` |") {
			t.Errorf("docs/exec-events.md has no row for %s", e)
		}
	}
	row := doc[strings.Index(doc, "| `error` |"):]
	row = row[:strings.Index(row, "\n")]
	for _, k := range ErrorKinds {
		if !strings.Contains(row, "`"+string(k)+"`") {
			t.Errorf("the error row does not name the kind %s: %s", k, row)
		}
	}
}

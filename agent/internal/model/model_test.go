package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadStream(t *testing.T) {
	call := func(index int, id, name, args string) string {
		return fmt.Sprintf(`data: {"choices":[{"delta":{"tool_calls":[{"index":%d,"id":%q,"function":{"name":%q,"arguments":%q}}]}}]}`, index, id, name, args)
	}
	for _, c := range []struct {
		name     string
		stream   string
		text     string   // the assembled content
		deltas   []string // what onText heard
		calls    []string // id name arguments, in order
		usage    int      // total tokens
		wantErr  error
		errMatch string
	}{
		{name: "text and usage",
			stream: "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\ndata: [DONE]\n\n",
			text:   "Hello", deltas: []string{"Hel", "lo"}, usage: 5},
		{name: "comments, other fields and CRLF",
			stream: ": keep-alive\r\n\r\nevent: message\r\nid: 7\r\ndata:{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\n: ping\r\ndata: [DONE]\r\n\r\n",
			text:   "a", deltas: []string{"a"}},
		{name: "split tool-call deltas",
			stream: strings.Join([]string{
				call(0, "call_1", "read_", `{"pa`),
				call(0, "", "file", `th":"a.go"}`),
				call(1, "call_2", "list_dir", ""),
				call(1, "", "", `{"path":"."}`),
				"data: [DONE]", ""}, "\n\n"),
			calls: []string{`call_1 read_file {"path":"a.go"}`, `call_2 list_dir {"path":"."}`}},
		{name: "tool calls numbered from 1",
			stream: strings.Join([]string{call(1, "a", "list_dir", "{}"), call(2, "b", "read_file", "{}"), "data: [DONE]", ""}, "\n\n"),
			calls:  []string{"a list_dir {}", "b read_file {}"}},
		{name: "nothing after [DONE] is read",
			stream: "data: [DONE]\n\ndata: {not json\n\n"},
		{name: "cut before [DONE]",
			stream: "data: {\"choices\":[{\"delta\":{\"content\":\"par\"}}]}\n\n", deltas: []string{"par"},
			wantErr: ErrIncomplete},
		{name: "empty body", stream: "", wantErr: ErrIncomplete},
		{name: "malformed event", stream: "data: {\"choices\":\n\n", errMatch: "the model API sent a malformed event"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var deltas []string
			reply, err := readStream(strings.NewReader(c.stream), func(s string) { deltas = append(deltas, s) })
			if strings.Join(deltas, "|") != strings.Join(c.deltas, "|") {
				t.Errorf("onText heard %q, want %q", deltas, c.deltas)
			}
			switch {
			case c.wantErr != nil || c.errMatch != "":
				if c.wantErr != nil && !errors.Is(err, c.wantErr) || c.errMatch != "" && (err == nil || !strings.Contains(err.Error(), c.errMatch)) {
					t.Fatalf("err %v, want %v %q", err, c.wantErr, c.errMatch)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			var calls []string
			for _, tc := range reply.Message.ToolCalls {
				if tc.Type != "function" {
					t.Errorf("call type %q", tc.Type)
				}
				calls = append(calls, tc.ID+" "+tc.Function.Name+" "+tc.Function.Arguments)
			}
			if reply.Message.Role != "assistant" || reply.Message.Content != c.text || strings.Join(calls, "|") != strings.Join(c.calls, "|") || reply.Usage.TotalTokens != c.usage {
				t.Errorf("reply %+v, calls %q; want text %q, calls %q, usage %d", reply, calls, c.text, c.calls, c.usage)
			}
		})
	}
}

// TestReadStreamCutMidLine: a connection that drops mid-event is cut, not
// a malformed event.
func TestReadStreamCutMidLine(t *testing.T) {
	r := io.MultiReader(strings.NewReader("data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\n"), &failing{})
	if _, err := readStream(r, nil); !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err %v", err)
	}
}

type failing struct{}

func (*failing) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestStream(t *testing.T) {
	const ok = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"
	for _, c := range []struct {
		name     string
		statuses []int // per attempt; 200 answers ok
		retries  int
		want     string // "hi" or an error substring
		auth     bool
	}{
		{"ok", []int{200}, 0, "hi", false},
		{"429 then 503 then ok", []int{429, 503, 200}, 2, "hi", false},
		{"retries run out", []int{500, 500, 500}, 2, "the model API answered 500 Internal Server Error: scripted", false},
		{"401", []int{401}, 4, "set OPENAI_API_KEY", true},
		{"403", []int{403}, 4, "set OPENAI_API_KEY", true},
		{"400 is not retried", []int{400, 200}, 4, "the model API answered 400 Bad Request: scripted", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			attempt := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer key" || r.URL.Path != "/v1/chat/completions" {
					t.Errorf("request %s %v", r.URL.Path, r.Header)
				}
				status := c.statuses[min(attempt, len(c.statuses)-1)]
				attempt++
				if status != 200 {
					http.Error(w, "scripted", status)
					return
				}
				io.WriteString(w, ok)
			}))
			defer srv.Close()
			var retries []string
			client := &Client{BaseURL: srv.URL + "/v1/", APIKey: "key", Model: "m", MaxRetries: c.retries, Backoff: time.Millisecond,
				OnRetry: func(n int, _ time.Duration, reason string) { retries = append(retries, fmt.Sprint(n, " ", reason)) }}
			reply, err := client.Stream(context.Background(), []Message{{Role: "user", Content: "x"}}, nil, nil)
			var auth *AuthError
			switch {
			case c.want == "hi":
				if err != nil || reply.Message.Content != "hi" {
					t.Fatalf("%+v, %v", reply, err)
				}
			case err == nil || !strings.Contains(err.Error(), c.want) || errors.As(err, &auth) != c.auth:
				t.Fatalf("err %v, want %q (auth %v)", err, c.want, c.auth)
			}
			if wantRetries := min(c.retries, len(c.statuses)-1); c.auth || c.statuses[0] == 400 {
				if len(retries) != 0 {
					t.Errorf("retried: %q", retries)
				}
			} else if len(retries) != wantRetries {
				t.Errorf("retries %q, want %d", retries, wantRetries)
			}
		})
	}
}

// TestStreamStopsWaitingWhenCancelled: a cancelled context ends a backoff.
func TestStreamStopsWaitingWhenCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", 503) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	client := &Client{BaseURL: srv.URL, MaxRetries: 3, Backoff: time.Hour, OnRetry: func(int, time.Duration, string) { cancel() }}
	done := make(chan error, 1)
	go func() { _, err := client.Stream(ctx, nil, nil, nil); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stream kept waiting after the cancel")
	}
}

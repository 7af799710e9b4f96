package model

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// These tests script an OpenAI-compatible server on 127.0.0.1 that sends
// exactly the bodies real providers were seen to send, and read them through
// Client.Stream, the path tern exec takes.

// scripted answers every request with status, content type and body.
type scripted struct {
	status      int // 0: 200
	contentType string
	body        string
}

func scriptedServer(t *testing.T, answers ...scripted) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[min(n, len(answers)-1)]
		n++
		if a.contentType != "" {
			w.Header().Set("Content-Type", a.contentType)
		}
		if a.status != 0 {
			w.WriteHeader(a.status)
		}
		w.Write([]byte(a.body))
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

const (
	sse          = "text/event-stream"
	jsonType     = "application/json"
	rateLimit    = `{"error":{"message":"Rate limit reached for gpt-4.1 in organization org-x on tokens per min (TPM): Limit 30000, Used 30000.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`
	rateLimitMsg = "Rate limit reached for gpt-4.1 in organization org-x on tokens per min (TPM): Limit 30000, Used 30000. (type tokens, code rate_limit_exceeded)"
	completion   = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4.1",
	  "choices":[{"index":0,"message":{"role":"assistant","content":"Reading it.","tool_calls":[
	    {"id":"call_a","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a.go\"}"}},
	    {"id":"call_b","type":"function","function":{"name":"list_dir","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
	  "usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`
)

func TestProviderAnswers(t *testing.T) {
	for _, c := range []struct {
		name    string
		answers []scripted
		retries int
		// Success: the text, onText's pieces, the calls and total tokens.
		text   string
		deltas []string
		calls  []string
		usage  int
		// Failure: every substring, and the error's kind.
		errs      []string
		errKind   any // *APIError, *StatusError, *AuthError or ErrIncomplete
		notInErrs []string
	}{
		{name: "a 200 JSON error body is the provider's error",
			answers: []scripted{{contentType: jsonType, body: rateLimit}},
			errs:    []string{"the model API reported an error: " + rateLimitMsg}, errKind: &APIError{}, notInErrs: []string{"cut"}},
		{name: "a JSON error body labelled as an event stream",
			answers: []scripted{{contentType: sse, body: rateLimit + "\n"}},
			errs:    []string{rateLimitMsg}, errKind: &APIError{}, notInErrs: []string{"cut"}},
		{name: "an error given as a string",
			answers: []scripted{{contentType: jsonType, body: `{"error":"model gpt-9 is not available"}`}},
			errs:    []string{"the model API reported an error: model gpt-9 is not available"}, errKind: &APIError{}},
		{name: "a non-streamed completion is a whole reply",
			answers: []scripted{{contentType: jsonType, body: completion}},
			text:    "Reading it.", deltas: []string{"Reading it."}, usage: 18,
			calls: []string{`call_a read_file {"path":"a.go"}`, `call_b list_dir {}`}},
		{name: "a non-streamed completion with null content",
			answers: []scripted{{contentType: jsonType, body: `{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"list_dir","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`}},
			calls:   []string{"c list_dir {}"}},
		{name: "a JSON answer that stops mid-document is cut",
			answers: []scripted{{contentType: jsonType, body: `{"object":"chat.completion","choices":[{"message":{"content":"hal`}},
			errKind: ErrIncomplete},
		{name: "JSON that is neither a completion nor an error",
			answers: []scripted{{contentType: jsonType, body: `{"status":"ok"}`}},
			errs:    []string{`neither a completion nor an error: {"status":"ok"}`}},
		{name: "an error event inside the stream",
			answers: []scripted{{contentType: sse, body: "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: " + rateLimit + "\n\n"}},
			deltas:  []string{"Hel"},
			errs:    []string{"the model API reported an error: " + rateLimitMsg}, errKind: &APIError{}},
		{name: "an error event with a numeric code, then [DONE]",
			answers: []scripted{{contentType: sse, body: "data: {\"error\":{\"message\":\"upstream overloaded\",\"code\":529}}\n\ndata: [DONE]\n\n"}},
			errs:    []string{"the model API reported an error: upstream overloaded (code 529)"}, errKind: &APIError{}},
		{name: "an SSE error event with plain text",
			answers: []scripted{{contentType: sse, body: "event: error\ndata: upstream connect error\n\n"}},
			errs:    []string{"the model API reported an error: upstream connect error"}, errKind: &APIError{}},
		{name: "a complete stream without [DONE]",
			answers: []scripted{{contentType: sse, body: "data: {\"choices\":[{\"delta\":{\"content\":\"done\"},\"finish_reason\":null}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n"}},
			text:    "done", deltas: []string{"done"}, usage: 4},
		{name: "a stream closed before any finish_reason is cut",
			answers: []scripted{{contentType: sse, body: "data: {\"choices\":[{\"delta\":{\"content\":\"par\"},\"finish_reason\":null}]}\n\n"}},
			deltas:  []string{"par"}, errKind: ErrIncomplete},
		{name: "an HTML page is not taken for a cut stream",
			answers: []scripted{{contentType: "text/html", body: "<!doctype html>\n<html><body>Welcome to nginx</body></html>\n"}},
			errs:    []string{"neither an event stream nor JSON", "Welcome to nginx", "--base-url"}, notInErrs: []string{"cut"}},
		{name: "a 400 with a JSON error names the provider's message",
			answers: []scripted{{status: 400, contentType: jsonType, body: `{"error":{"message":"The model 'gpt-9' does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}`}},
			errs:    []string{"the model API answered 400 Bad Request: The model 'gpt-9' does not exist (type invalid_request_error, code model_not_found)"}, errKind: &StatusError{}},
		{name: "a 429 with a JSON error, retries run out",
			answers: []scripted{{status: 429, contentType: jsonType, body: rateLimit}}, retries: 1,
			errs: []string{"the model API answered 429 Too Many Requests: " + rateLimitMsg}, errKind: &StatusError{}},
		{name: "a long error body is cut between characters, not inside one",
			answers: []scripted{{status: 400, contentType: "text/plain", body: strings.Repeat("a", 2047) + strings.Repeat("é", 10)}},
			errs:    []string{"the model API answered 400 Bad Request: " + strings.Repeat("a", 2047) + "…"}, errKind: &StatusError{}},
		{name: "a long JSON answer's excerpt is cut between characters",
			answers: []scripted{{contentType: jsonType, body: `{"xy":"` + strings.Repeat("é", 300) + `"}`}},
			errs:    []string{`neither a completion nor an error: {"xy":"` + strings.Repeat("é", 146) + "…"}},
		{name: "an SSE error event whose JSON has no error member",
			answers: []scripted{{contentType: sse, body: "event: error\ndata: {\"message\":\"upstream overloaded\",\"code\":529}\n\n"}},
			errs:    []string{"the model API reported an error: upstream overloaded (code 529)"}, errKind: &APIError{}, notInErrs: []string{"cut"}},
		{name: "an SSE error event of null",
			answers: []scripted{{contentType: sse, body: "event: error\ndata: null\n\n"}},
			errs:    []string{"the model API reported an error: null"}, errKind: &APIError{}},
		{name: "a 401 with a JSON error keeps the remedy",
			answers: []scripted{{status: 401, contentType: jsonType, body: `{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}`}},
			errs:    []string{"401 Unauthorized: Incorrect API key provided. (type invalid_request_error, code invalid_api_key)", "set OPENAI_API_KEY"}, errKind: &AuthError{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			client := &Client{BaseURL: scriptedServer(t, c.answers...), APIKey: "key", Model: "m", MaxRetries: c.retries, Backoff: time.Millisecond}
			var deltas []string
			reply, err := client.Stream(context.Background(), []Message{{Role: "user", Content: "x"}}, nil, func(s string) { deltas = append(deltas, s) })
			if strings.Join(deltas, "|") != strings.Join(c.deltas, "|") {
				t.Errorf("onText heard %q, want %q", deltas, c.deltas)
			}
			if c.errs != nil || c.errKind != nil {
				if err == nil {
					t.Fatalf("no error; reply %+v", reply)
				}
				if !utf8.ValidString(err.Error()) {
					t.Errorf("err %q is not valid UTF-8", err)
				}
				for _, want := range c.errs {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("err %q\nwant %q", err, want)
					}
				}
				for _, unwanted := range c.notInErrs {
					if strings.Contains(err.Error(), unwanted) {
						t.Errorf("err %q says %q", err, unwanted)
					}
				}
				if errors.Is(err, ErrIncomplete) != (c.errKind == ErrIncomplete) {
					t.Errorf("err %q: errors.Is(ErrIncomplete) = %v", err, errors.Is(err, ErrIncomplete))
				}
				var api *APIError
				var status *StatusError
				var auth *AuthError
				for _, kind := range []struct {
					is   bool
					want bool
					name string
				}{
					{errors.As(err, &api), isKind[*APIError](c.errKind), "an *APIError"},
					{errors.As(err, &status), isKind[*StatusError](c.errKind), "a *StatusError"},
					{errors.As(err, &auth), isKind[*AuthError](c.errKind), "an *AuthError"},
				} {
					if kind.is != kind.want {
						t.Errorf("err %q: is %s: %v, want %v", err, kind.name, kind.is, kind.want)
					}
				}
				return
			}
			if err != nil {
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

func isKind[T any](kind any) bool { _, ok := kind.(T); return ok }

// TestRetryReasonCarriesTheProviderMessage: the retry line a user watches
// says why the provider refused, not only the status.
func TestRetryReasonCarriesTheProviderMessage(t *testing.T) {
	url := scriptedServer(t, scripted{status: 429, contentType: jsonType, body: rateLimit},
		scripted{contentType: sse, body: "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"})
	var reasons []string
	client := &Client{BaseURL: url, MaxRetries: 2, Backoff: time.Millisecond,
		OnRetry: func(_ int, _ time.Duration, reason string) { reasons = append(reasons, reason) }}
	reply, err := client.Stream(context.Background(), nil, nil, nil)
	if err != nil || reply.Message.Content != "ok" {
		t.Fatalf("%+v, %v", reply, err)
	}
	if len(reasons) != 1 || reasons[0] != "429 Too Many Requests: "+rateLimitMsg {
		t.Fatalf("retry reasons %q", reasons)
	}
}

package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// buildTern builds the real tern binary into dir, as a user gets it.
func buildTern(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "tern")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, "github.com/tern-agent/tern/agent/cmd/tern")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building tern: %v\n%s", err, out)
	}
	return bin
}

// TestExecReportsWhatTheProviderSaid runs the real `tern exec` against a
// scripted provider on 127.0.0.1 that sends the bodies real providers send,
// and checks the exit code and that stderr carries the provider's words.
func TestExecReportsWhatTheProviderSaid(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tern; skipped under -short")
	}
	bin := buildTern(t, t.TempDir())
	const rateLimit = `{"error":{"message":"Rate limit reached for gpt-4.1 on tokens per min (TPM): Limit 30000, Used 30000.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`
	const rateLimitMsg = "the model API reported an error: Rate limit reached for gpt-4.1 on tokens per min (TPM): Limit 30000, Used 30000. (type tokens, code rate_limit_exceeded)"
	for _, c := range []struct {
		name        string
		status      int
		contentType string
		body        string
		json        bool   // run with --json
		code        int    // tern's exit code
		stdout      string // a substring of stdout
		stderr      string // a substring of stderr
	}{
		{name: "a 200 JSON error body", contentType: "application/json", body: rateLimit,
			code: 4, stderr: "tern: " + rateLimitMsg},
		{name: "a 200 JSON error body, --json", contentType: "application/json", body: rateLimit, json: true,
			code: 4, stdout: `"kind":"model"`, stderr: rateLimitMsg},
		{name: "an error event in the stream", contentType: "text/event-stream",
			body: "data: {\"choices\":[{\"delta\":{\"content\":\"Let me\"}}]}\n\ndata: " + rateLimit + "\n\n",
			code: 4, stdout: "Let me", stderr: "tern: " + rateLimitMsg},
		{name: "an error event, then [DONE]", contentType: "text/event-stream",
			body: "data: " + rateLimit + "\n\ndata: [DONE]\n\n",
			code: 4, stderr: "tern: " + rateLimitMsg},
		{name: "a JSON error labelled as an event stream", contentType: "text/event-stream", body: rateLimit,
			code: 4, stderr: rateLimitMsg},
		{name: "a non-streamed completion", contentType: "application/json",
			body: `{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"All done."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}`,
			code: 0, stdout: "All done.", stderr: "tokens: 9 in, 3 out"},
		{name: "a complete stream without [DONE]", contentType: "text/event-stream",
			body: "data: {\"choices\":[{\"delta\":{\"content\":\"Finished.\"},\"finish_reason\":\"stop\"}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n",
			code: 0, stdout: "Finished.", stderr: "tokens: 5 in, 2 out"},
		{name: "a stream closed before its finish_reason", contentType: "text/event-stream",
			body: "data: {\"choices\":[{\"delta\":{\"content\":\"Half\"},\"finish_reason\":null}]}\n\n",
			code: 4, stderr: "stopped before it was complete (the connection was cut)"},
		{name: "a 400 with a JSON error", status: 400, contentType: "application/json",
			body: `{"error":{"message":"The model 'gpt-9' does not exist","type":"invalid_request_error","code":"model_not_found"}}`,
			code: 4, stderr: "tern: the model API answered 400 Bad Request: The model 'gpt-9' does not exist (type invalid_request_error, code model_not_found)"},
		{name: "a 401 with a JSON error", status: 401, contentType: "application/json",
			body: `{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}`,
			code: 3, stderr: "401 Unauthorized: Incorrect API key provided. (type invalid_request_error, code invalid_api_key)): set OPENAI_API_KEY"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.contentType)
				if c.status != 0 {
					w.WriteHeader(c.status)
				}
				w.Write([]byte(c.body))
			})}}
			srv.Start()
			defer srv.Close()

			home := t.TempDir()
			args := []string{"exec", "--sandbox", "danger-full-access", "--cd", t.TempDir()}
			if c.json {
				args = append(args, "--json")
			}
			cmd := exec.Command(bin, append(args, "say hi")...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home, "AppData=" + home,
				"OPENAI_BASE_URL=" + srv.URL + "/v1", "OPENAI_API_KEY=test-key", "TERN_RETRY_BACKOFF_MS=1"}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err = cmd.Run()
			var exitErr *exec.ExitError
			if err != nil && !errors.As(err, &exitErr) {
				t.Fatalf("running tern: %v", err)
			}
			code := cmd.ProcessState.ExitCode()
			if code != c.code || !strings.Contains(stdout.String(), c.stdout) || !strings.Contains(stderr.String(), c.stderr) {
				t.Fatalf("tern %q: exit %d, want %d\nstdout %q, want %q in it\nstderr %q, want %q in it", args, code, c.code, stdout.String(), c.stdout, stderr.String(), c.stderr)
			}
			if c.json && c.code != 0 {
				// The last event is the error, with the provider's message.
				lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
				var last struct{ Type, Kind, Message string }
				if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != "error" || last.Message != rateLimitMsg {
					t.Fatalf("the last event %q (%v); want an error event with %q", lines[len(lines)-1], err, rateLimitMsg)
				}
			}
		})
	}
}

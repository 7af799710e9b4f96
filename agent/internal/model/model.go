// Package model talks to an OpenAI-compatible Chat Completions API: it sends
// the conversation and tool specs, streams the answer over SSE, hands each
// text delta to the caller as it arrives, and assembles tool calls from
// their deltas. It retries 429 and 5xx with bounded backoff and jitter, and
// turns 401/403 into an error that names the variable to set.
//
// Providers stray from that shape, and each stray is read for what it is,
// never taken for a cut connection: an error object in place of the answer
// (as a 200's whole body, as an event in the stream, or as a failed status's
// body) is reported with the provider's message, type and code; a whole JSON
// completion where a stream was asked for is the reply; a stream that ends
// after its finish_reason without "data: [DONE]" is complete. Only a body
// that ends before the answer did is ErrIncomplete.
package model

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one conversation turn.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolCall is a function call the model asked for.
type ToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// Tool is a function the model may call.
type Tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// Usage is the token count of one response.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Reply is a whole streamed answer.
type Reply struct {
	Message Message
	Usage   Usage
}

// Client calls one API.
type Client struct {
	BaseURL    string // https://api.openai.com/v1
	APIKey     string
	Model      string
	HTTP       *http.Client
	MaxRetries int
	// Backoff is the first retry's delay; each retry doubles it, plus jitter.
	Backoff time.Duration
	// OnRetry hears about each retry (for logs and events).
	OnRetry func(attempt int, wait time.Duration, reason string)
}

// AuthError is a 401 or 403.
type AuthError struct {
	Status string
	// Provider is the provider's own explanation, when its body gave one.
	Provider *APIError
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("the model API refused the credentials (%s%s): set OPENAI_API_KEY to a valid key (and OPENAI_BASE_URL for another provider)", e.Status, e.Provider.suffix())
}

// StatusError is an HTTP failure that retries did not cure.
type StatusError struct {
	Status string
	Body   string
	// Provider is the body read as the provider's error object, when it is
	// one; the message then shows it instead of the raw JSON.
	Provider *APIError
}

func (e *StatusError) Error() string {
	if e.Provider != nil {
		return fmt.Sprintf("the model API answered %s: %s", e.Status, e.Provider.detail())
	}
	return fmt.Sprintf("the model API answered %s: %s", e.Status, e.Body)
}

// APIError is an error the provider reported in place of an answer: as the
// whole body of a 200, as an event inside the stream, or as the body of a
// failed status (then inside a StatusError or AuthError).
type APIError struct {
	Message string
	Type    string // the provider's error type, if it gave one
	Code    string // the provider's error code, if it gave one
}

func (e *APIError) Error() string {
	return "the model API reported an error: " + e.detail()
}

// detail is the message with the type and code that identify it.
func (e *APIError) detail() string {
	var ids []string
	if e.Type != "" {
		ids = append(ids, "type "+e.Type)
	}
	if e.Code != "" {
		ids = append(ids, "code "+e.Code)
	}
	if len(ids) == 0 {
		return e.Message
	}
	return e.Message + " (" + strings.Join(ids, ", ") + ")"
}

// suffix is ": detail" after a status, or nothing without an error.
func (e *APIError) suffix() string {
	if e == nil {
		return ""
	}
	return ": " + e.detail()
}

// parseAPIError reads an "error" member, as OpenAI and the providers that
// copy it send it: an object {message, type, code} (code a string or a
// number), or a plain string. It returns nil when raw holds no error.
func parseAPIError(raw json.RawMessage) *APIError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		if text == "" {
			return nil
		}
		return &APIError{Message: text}
	}
	var obj struct {
		Message string          `json:"message"`
		Type    json.RawMessage `json:"type"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return &APIError{Message: string(raw)}
	}
	e := &APIError{Message: obj.Message, Type: scalar(obj.Type), Code: scalar(obj.Code)}
	if e.Message == "" {
		e.Message = "no message; the error was " + string(raw)
	}
	return e
}

// scalar spells a JSON string without its quotes, a number or boolean as
// it is, and null as nothing.
func scalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if t := string(bytes.TrimSpace(raw)); t != "null" {
		return t
	}
	return ""
}

// errorBody is the provider's error in a whole body ({"error": ...}), or
// nil if the body is something else.
func errorBody(body []byte) *APIError {
	var doc struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	return parseAPIError(doc.Error)
}

// Stream sends the conversation and streams the reply, calling onText for
// each piece of assistant text as it arrives. A provider that answers with
// one JSON completion instead of a stream is heard too: its text reaches
// onText in one piece.
func (c *Client) Stream(ctx context.Context, msgs []Message, tools []Tool, onText func(string)) (Reply, error) {
	body, err := json.Marshal(map[string]any{
		"model": c.Model, "messages": msgs, "tools": tools, "stream": true,
		"stream_options": map[string]bool{"include_usage": true},
	})
	if err != nil {
		return Reply{}, err
	}
	backoff := c.Backoff
	if backoff == 0 {
		backoff = 500 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		resp, err := c.post(ctx, body)
		if err != nil {
			return Reply{}, err
		}
		if resp.StatusCode == http.StatusOK {
			defer resp.Body.Close()
			return readAnswer(resp.Body, onText)
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		provider := errorBody(raw)
		retryable := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		switch {
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return Reply{}, &AuthError{Status: resp.Status, Provider: provider}
		case retryable && attempt < c.MaxRetries:
			wait := backoff<<attempt + time.Duration(rand.Int64N(int64(backoff)))
			if c.OnRetry != nil {
				c.OnRetry(attempt+1, wait, resp.Status+provider.suffix())
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return Reply{}, ctx.Err()
			}
		default:
			return Reply{}, &StatusError{Status: resp.Status, Body: clip(string(raw), 2048), Provider: provider}
		}
	}
}

func (c *Client) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.BaseURL, "/")+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	client := c.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reaching the model API at %s: %w", c.BaseURL, err)
	}
	return resp, nil
}

// ErrIncomplete is a stream that ended before the API said it was done.
var ErrIncomplete = errors.New("the model's answer stopped before it was complete (the connection was cut); nothing it asked for was done")

// maxJSONAnswer bounds a non-streamed answer held in memory.
const maxJSONAnswer = 16 << 20

// readAnswer reads a 200's body by what it holds, not by its Content-Type,
// which providers get wrong both ways: a body whose first byte is "{" is one
// JSON document (a completion or an error); anything else is read as an
// event stream.
func readAnswer(body io.Reader, onText func(string)) (Reply, error) {
	r := bufio.NewReaderSize(body, 64<<10)
	for {
		b, err := r.Peek(1)
		if err != nil {
			// Nothing but blank space, or nothing at all: let the stream
			// reader call it cut, with the read error if there was one.
			return readStream(r, onText)
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			r.ReadByte()
			continue
		case '{':
			return readJSON(r, onText)
		}
		return readStream(r, onText)
	}
}

// readJSON reads one JSON answer: the provider's error, or a whole
// chat.completion, taken as its text and tool calls.
func readJSON(r io.Reader, onText func(string)) (Reply, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxJSONAnswer+1))
	if err != nil {
		return Reply{}, fmt.Errorf("%w (%v)", ErrIncomplete, err)
	}
	if len(raw) > maxJSONAnswer {
		return Reply{}, fmt.Errorf("the model API's JSON answer is longer than %d MiB: refused", maxJSONAnswer>>20)
	}
	var doc struct {
		Error   json.RawMessage `json:"error"`
		Choices []struct {
			Message *struct {
				Content   *string    `json:"content"`
				ToolCalls []ToolCall `json:"tool_calls"`
			} `json:"message"`
		} `json:"choices"`
		Usage *Usage `json:"usage"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) && syntax.Offset >= int64(len(bytes.TrimSpace(raw))) {
			return Reply{}, ErrIncomplete // it stopped mid-document
		}
		return Reply{}, fmt.Errorf("the model API sent a malformed JSON answer: %v: %s", err, excerpt(raw))
	}
	if e := parseAPIError(doc.Error); e != nil {
		return Reply{}, e
	}
	if len(doc.Choices) == 0 || doc.Choices[0].Message == nil {
		return Reply{}, fmt.Errorf("the model API answered with JSON that is neither a completion nor an error: %s", excerpt(raw))
	}
	msg := doc.Choices[0].Message
	reply := Reply{Message: Message{Role: "assistant", ToolCalls: msg.ToolCalls}}
	if msg.Content != nil {
		reply.Message.Content = *msg.Content
		if onText != nil && *msg.Content != "" {
			onText(*msg.Content)
		}
	}
	for i := range reply.Message.ToolCalls {
		if reply.Message.ToolCalls[i].Type == "" {
			reply.Message.ToolCalls[i].Type = "function"
		}
	}
	if doc.Usage != nil {
		reply.Usage = *doc.Usage
	}
	return reply, nil
}

// excerpt is the start of a body, for an error message.
func excerpt(raw []byte) string {
	return clip(string(raw), 300)
}

// clip is s trimmed and cut to at most n bytes, between two characters,
// with "…" where it was cut: a message must stay valid UTF-8.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// readStream reads "data: {...}" events until "data: [DONE]", or until the
// body ends after a choice's finish_reason: some providers never send
// [DONE]. A body that ends before either is cut.
func readStream(r io.Reader, onText func(string)) (Reply, error) {
	var reply Reply
	reply.Message.Role = "assistant"
	var text strings.Builder
	calls := map[int]*ToolCall{}
	finished := false // a finish_reason arrived: the answer is whole
	sawData := false
	var stray strings.Builder // lines that are no part of an event stream
	event := ""               // the current event's "event:" field
	done := func() (Reply, error) {
		reply.Message.Content = text.String()
		// By index, whatever the first one is: counting from 0 up to
		// len(calls) dropped the last call of a provider that counts
		// from 1, or skips one.
		for _, i := range slices.Sorted(maps.Keys(calls)) {
			reply.Message.ToolCalls = append(reply.Message.ToolCalls, *calls[i])
		}
		return reply, nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			event = "" // a blank line ends an event
			continue
		}
		if name, ok := strings.CutPrefix(line, "event:"); ok {
			event = strings.TrimSpace(name)
			continue
		}
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			if !strings.HasPrefix(line, ":") && !strings.HasPrefix(line, "id:") && !strings.HasPrefix(line, "retry:") && stray.Len() < 300 {
				stray.WriteString(line + "\n")
			}
			continue
		}
		sawData = true
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			return done()
		}
		var chunk struct {
			Error   json.RawMessage `json:"error"`
			Choices []struct {
				Delta struct {
					Content   string `json:"content"`
					ToolCalls []struct {
						Index    int    `json:"index"`
						ID       string `json:"id"`
						Type     string `json:"type"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *Usage `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			if event == "error" { // "event: error" with a plain-text reason
				return Reply{}, &APIError{Message: data}
			}
			return Reply{}, fmt.Errorf("the model API sent a malformed event: %v", err)
		}
		if e := parseAPIError(chunk.Error); e != nil {
			return Reply{}, e
		}
		if event == "error" { // "event: error" whose JSON is the error itself
			if e := parseAPIError(json.RawMessage(data)); e != nil {
				return Reply{}, e
			}
			return Reply{}, &APIError{Message: data}
		}
		if chunk.Usage != nil {
			reply.Usage = *chunk.Usage
		}
		for _, ch := range chunk.Choices {
			if ch.FinishReason != nil && *ch.FinishReason != "" {
				finished = true
			}
			if ch.Delta.Content != "" {
				text.WriteString(ch.Delta.Content)
				if onText != nil {
					onText(ch.Delta.Content)
				}
			}
			for _, tc := range ch.Delta.ToolCalls {
				c, ok := calls[tc.Index]
				if !ok {
					c = &ToolCall{Type: "function"}
					calls[tc.Index] = c
				}
				if tc.ID != "" {
					c.ID = tc.ID
				}
				c.Function.Name += tc.Function.Name
				c.Function.Arguments += tc.Function.Arguments
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Reply{}, fmt.Errorf("%w (%v)", ErrIncomplete, err)
	}
	switch {
	case finished:
		return done()
	case !sawData && stray.Len() > 0:
		return Reply{}, fmt.Errorf("the model API answered with neither an event stream nor JSON: %q; check --base-url or OPENAI_BASE_URL (an OpenAI-compatible API root usually ends in /v1)", strings.TrimSpace(stray.String()))
	}
	return Reply{}, ErrIncomplete
}

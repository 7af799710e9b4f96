// Package model talks to an OpenAI-compatible Chat Completions API: it sends
// the conversation and tool specs, streams the answer over SSE, hands each
// text delta to the caller as it arrives, and assembles tool calls from
// their deltas. It retries 429 and 5xx with bounded backoff and jitter, and
// turns 401/403 into an error that names the variable to set.
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
type AuthError struct{ Status string }

func (e *AuthError) Error() string {
	return fmt.Sprintf("the model API refused the credentials (%s): set OPENAI_API_KEY to a valid key (and OPENAI_BASE_URL for another provider)", e.Status)
}

// StatusError is an HTTP failure that retries did not cure.
type StatusError struct {
	Status string
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("the model API answered %s: %s", e.Status, e.Body)
}

// Stream sends the conversation and streams the reply, calling onText for
// each piece of assistant text as it arrives.
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
		retryable := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		switch {
		case resp.StatusCode == http.StatusOK:
			defer resp.Body.Close()
			return readStream(resp.Body, onText)
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			resp.Body.Close()
			return Reply{}, &AuthError{Status: resp.Status}
		case retryable && attempt < c.MaxRetries:
			resp.Body.Close()
			wait := backoff<<attempt + time.Duration(rand.Int64N(int64(backoff)))
			if c.OnRetry != nil {
				c.OnRetry(attempt+1, wait, resp.Status)
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return Reply{}, ctx.Err()
			}
		default:
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
			resp.Body.Close()
			return Reply{}, &StatusError{Status: resp.Status, Body: strings.TrimSpace(string(msg))}
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

// readStream reads "data: {...}" events until "data: [DONE]".
func readStream(r io.Reader, onText func(string)) (Reply, error) {
	var reply Reply
	reply.Message.Role = "assistant"
	var text strings.Builder
	calls := map[int]*ToolCall{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			reply.Message.Content = text.String()
			// By index, whatever the first one is: counting from 0 up to
			// len(calls) dropped the last call of a provider that counts
			// from 1, or skips one.
			for _, i := range slices.Sorted(maps.Keys(calls)) {
				reply.Message.ToolCalls = append(reply.Message.ToolCalls, *calls[i])
			}
			return reply, nil
		}
		var chunk struct {
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
			} `json:"choices"`
			Usage *Usage `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			return Reply{}, fmt.Errorf("the model API sent a malformed event: %v", err)
		}
		if chunk.Usage != nil {
			reply.Usage = *chunk.Usage
		}
		for _, ch := range chunk.Choices {
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
	return Reply{}, ErrIncomplete
}

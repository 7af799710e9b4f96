// Package session runs `tern exec`: a non-interactive agent loop. It sends
// the task to the model, streams the answer, runs the tools the model asks
// for (through the sandbox), feeds their results back, and stops when the
// model answers without a tool call. It reports everything as events, which
// the CLI prints as text or as JSONL (see docs/exec-events.md).
package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tern-agent/tern/agent/internal/model"
	"github.com/tern-agent/tern/agent/internal/tools"
)

// SchemaVersion versions the event stream; a breaking change bumps it.
const SchemaVersion = 1

// Event is one thing that happened. Type is one of turn.started,
// message.delta, tool.call, tool.result, turn.completed, error.
type Event struct {
	Schema    int          `json:"schema"`
	Type      string       `json:"type"`
	Task      string       `json:"task,omitempty"`
	Text      string       `json:"text,omitempty"`
	CallID    string       `json:"call_id,omitempty"`
	Tool      string       `json:"tool,omitempty"`
	Arguments string       `json:"arguments,omitempty"`
	Output    string       `json:"output,omitempty"`
	Failed    bool         `json:"failed,omitempty"`
	Usage     *model.Usage `json:"usage,omitempty"`
	Message   string       `json:"message,omitempty"`
	Kind      string       `json:"kind,omitempty"` // for errors: auth, model, interrupted
}

// Options configure a run.
type Options struct {
	Client   *model.Client
	Tools    *tools.Set
	Task     string
	Emit     func(Event)
	MaxTurns int
}

const systemPrompt = `You are tern, a coding agent working in the user's workspace. Use the tools to
inspect the code, make changes with apply_patch, and run commands with shell.
Commands run in a sandbox; if one is denied, explain what you needed.
When the task is done, answer with a short summary and no tool call.`

// Run plays the conversation to its end.
func Run(ctx context.Context, o Options) (model.Usage, error) {
	emit := func(e Event) {
		e.Schema = SchemaVersion
		o.Emit(e)
	}
	if o.MaxTurns == 0 {
		o.MaxTurns = 50
	}
	var specs []model.Tool
	for _, s := range tools.Specs() {
		var t model.Tool
		t.Type = "function"
		t.Function.Name, t.Function.Description, t.Function.Parameters = s.Name, s.Description, s.Parameters
		specs = append(specs, t)
	}
	msgs := []model.Message{{Role: "system", Content: systemPrompt}, {Role: "user", Content: o.Task}}
	var total model.Usage
	emit(Event{Type: "turn.started", Task: o.Task})
	for turn := 0; turn < o.MaxTurns; turn++ {
		reply, err := o.Client.Stream(ctx, msgs, specs, func(text string) {
			emit(Event{Type: "message.delta", Text: text})
		})
		if err != nil {
			return total, fail(ctx, emit, err)
		}
		total.PromptTokens += reply.Usage.PromptTokens
		total.CompletionTokens += reply.Usage.CompletionTokens
		total.TotalTokens += reply.Usage.TotalTokens
		msgs = append(msgs, reply.Message)
		if len(reply.Message.ToolCalls) == 0 {
			emit(Event{Type: "turn.completed", Usage: &total})
			return total, nil
		}
		for _, call := range reply.Message.ToolCalls {
			emit(Event{Type: "tool.call", CallID: call.ID, Tool: call.Function.Name, Arguments: call.Function.Arguments})
			output, failed := runTool(ctx, o.Tools, call)
			if ctx.Err() != nil {
				return total, fail(ctx, emit, ctx.Err())
			}
			emit(Event{Type: "tool.result", CallID: call.ID, Tool: call.Function.Name, Output: output, Failed: failed})
			msgs = append(msgs, model.Message{Role: "tool", ToolCallID: call.ID, Content: output})
		}
	}
	return total, fail(ctx, emit, fmt.Errorf("the model made %d turns of tool calls without finishing; stopped", o.MaxTurns))
}

// runTool runs one call. A malformed call or a failing tool is a result the
// model reads and can correct, never a fatal error.
func runTool(ctx context.Context, set *tools.Set, call model.ToolCall) (string, bool) {
	args := json.RawMessage(call.Function.Arguments)
	if !json.Valid(args) {
		return fmt.Sprintf("error: the arguments of %s are not valid JSON: %q", call.Function.Name, call.Function.Arguments), true
	}
	out, err := set.Call(ctx, call.Function.Name, args)
	if err != nil {
		return "error: " + err.Error(), true
	}
	return out, false
}

// Kinds of failure, which the CLI maps to exit codes.
var ErrInterrupted = errors.New("interrupted")

func fail(ctx context.Context, emit func(Event), err error) error {
	kind := "model"
	var auth *model.AuthError
	switch {
	case ctx.Err() != nil:
		kind, err = "interrupted", ErrInterrupted
	case errors.As(err, &auth):
		kind = "auth"
	}
	emit(Event{Type: "error", Kind: kind, Message: err.Error()})
	return err
}

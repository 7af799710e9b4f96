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

// EventType names an event; docs/exec-events.md describes each.
type EventType string

const (
	EventTurnStarted   EventType = "turn.started"
	EventMessageDelta  EventType = "message.delta"
	EventToolCall      EventType = "tool.call"
	EventToolResult    EventType = "tool.result"
	EventTurnCompleted EventType = "turn.completed"
	EventError         EventType = "error"
)

// EventTypes lists every event type, in the order a run emits them.
var EventTypes = []EventType{EventTurnStarted, EventMessageDelta, EventToolCall, EventToolResult, EventTurnCompleted, EventError}

// ErrorKind says why a run stopped, in an error event.
type ErrorKind string

const (
	ErrorAuth        ErrorKind = "auth"        // the model API refused the credentials
	ErrorModel       ErrorKind = "model"       // the model API failed, or its stream was cut
	ErrorInterrupted ErrorKind = "interrupted" // the context was cancelled
)

// ErrorKinds lists every error kind.
var ErrorKinds = []ErrorKind{ErrorAuth, ErrorModel, ErrorInterrupted}

// Event is one thing that happened.
type Event struct {
	Schema    int          `json:"schema"`
	Type      EventType    `json:"type"`
	Task      string       `json:"task,omitempty"`
	Text      string       `json:"text,omitempty"`
	CallID    string       `json:"call_id,omitempty"`
	Tool      string       `json:"tool,omitempty"`
	Arguments string       `json:"arguments,omitempty"`
	Output    string       `json:"output,omitempty"`
	Failed    bool         `json:"failed,omitempty"`
	Usage     *model.Usage `json:"usage,omitempty"`
	Message   string       `json:"message,omitempty"`
	Kind      ErrorKind    `json:"kind,omitempty"` // for errors
}

// Options configure a run.
type Options struct {
	Client *model.Client
	Tools  *tools.Set
	Task   string
	// Emit hears every event. An error (the events' reader is gone) stops
	// the run: Run returns it as an *EmitError.
	Emit     func(Event) error
	MaxTurns int
}

// EmitError is Emit failing: the run stopped because its events could not
// be delivered, not because of the model.
type EmitError struct{ Err error }

func (e *EmitError) Error() string { return "delivering the events: " + e.Err.Error() }
func (e *EmitError) Unwrap() error { return e.Err }

const systemPrompt = `You are tern, a coding agent working in the user's workspace. Use the tools to
inspect the code, make changes with apply_patch, and run commands with shell.
Commands run in a sandbox; if one is denied, explain what you needed.
When the task is done, answer with a short summary and no tool call.`

// Run plays the conversation to its end.
func Run(ctx context.Context, o Options) (model.Usage, error) {
	// A failed Emit cancels the run's context, which stops the stream or
	// the command under way; emitErr then says why.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var emitErr error
	emit := func(e Event) {
		if emitErr != nil {
			return
		}
		e.Schema = SchemaVersion
		if err := o.Emit(e); err != nil {
			emitErr = &EmitError{Err: err}
			cancel()
		}
	}
	fail := func(err error) error {
		if emitErr != nil {
			return emitErr
		}
		return failWith(ctx, emit, err)
	}
	if o.MaxTurns == 0 {
		o.MaxTurns = 50
	}
	var specs []model.Tool
	for _, s := range tools.Specs() {
		var t model.Tool
		t.Type = "function"
		t.Function.Name, t.Function.Description, t.Function.Parameters = string(s.Name), s.Description, s.Parameters
		specs = append(specs, t)
	}
	msgs := []model.Message{{Role: "system", Content: systemPrompt}, {Role: "user", Content: o.Task}}
	var total model.Usage
	emit(Event{Type: EventTurnStarted, Task: o.Task})
	for turn := 0; turn < o.MaxTurns; turn++ {
		reply, err := o.Client.Stream(ctx, msgs, specs, func(text string) {
			emit(Event{Type: EventMessageDelta, Text: text})
		})
		if err != nil || emitErr != nil {
			return total, fail(err)
		}
		total.PromptTokens += reply.Usage.PromptTokens
		total.CompletionTokens += reply.Usage.CompletionTokens
		total.TotalTokens += reply.Usage.TotalTokens
		msgs = append(msgs, reply.Message)
		if len(reply.Message.ToolCalls) == 0 {
			emit(Event{Type: EventTurnCompleted, Usage: &total})
			if emitErr != nil {
				return total, emitErr
			}
			return total, nil
		}
		for _, call := range reply.Message.ToolCalls {
			emit(Event{Type: EventToolCall, CallID: call.ID, Tool: call.Function.Name, Arguments: call.Function.Arguments})
			if emitErr != nil {
				return total, emitErr
			}
			output, failed := runTool(ctx, o.Tools, call)
			if ctx.Err() != nil {
				return total, fail(ctx.Err())
			}
			emit(Event{Type: EventToolResult, CallID: call.ID, Tool: call.Function.Name, Output: output, Failed: failed})
			if emitErr != nil {
				return total, emitErr
			}
			msgs = append(msgs, model.Message{Role: "tool", ToolCallID: call.ID, Content: output})
		}
	}
	return total, fail(fmt.Errorf("the model made %d turns of tool calls without finishing; stopped", o.MaxTurns))
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

func failWith(ctx context.Context, emit func(Event), err error) error {
	kind := ErrorModel
	var auth *model.AuthError
	switch {
	case ctx.Err() != nil:
		kind, err = ErrorInterrupted, ErrInterrupted
	case errors.As(err, &auth):
		kind = ErrorAuth
	}
	emit(Event{Type: EventError, Kind: kind, Message: err.Error()})
	return err
}

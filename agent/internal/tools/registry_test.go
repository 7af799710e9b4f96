package tools

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tern-agent/tern/agent/internal/sandbox"
)

// TestRegistry: one entry per tool, in the listed order, each with an
// object schema and a call.
func TestRegistry(t *testing.T) {
	want := []Name{NameShell, NameReadFile, NameListDir, NameApplyPatch}
	specs := Specs()
	if len(specs) != len(want) {
		t.Fatalf("%d specs, want %d", len(specs), len(want))
	}
	for i, s := range specs {
		var schema struct {
			Type     string   `json:"type"`
			Required []string `json:"required"`
		}
		if err := json.Unmarshal(s.Parameters, &schema); err != nil || schema.Type != "object" {
			t.Errorf("%s: schema %s: %v", s.Name, s.Parameters, err)
		}
		if s.Name != want[i] || s.Description == "" || registry[i].call == nil {
			t.Errorf("entry %d: %+v", i, s)
		}
	}
}

// TestCallDispatchesByName: each name reaches its own tool (its argument
// error names it), and an unknown name lists the tools from the registry.
func TestCallDispatchesByName(t *testing.T) {
	ws := t.TempDir()
	s := &Set{Workspace: ws, Policy: sandbox.Policy{Mode: sandbox.ReadOnly, Workspace: ws}}
	for _, name := range []Name{NameShell, NameReadFile, NameApplyPatch} {
		_, err := s.Call(context.Background(), string(name), json.RawMessage(`{}`))
		if err == nil || !strings.HasPrefix(err.Error(), string(name)+" takes") {
			t.Errorf("%s with no arguments: %v", name, err)
		}
	}
	// The model in tern exec gets the same schema check as an MCP client:
	// the missing argument by name, never "…: <nil>".
	_, err := s.Call(context.Background(), string(NameReadFile), json.RawMessage(`{}`))
	if err == nil || !strings.Contains(err.Error(), `the required argument "path" is missing`) || strings.Contains(err.Error(), "<nil>") {
		t.Errorf("read_file {}: %v", err)
	}
	if out, err := s.Call(context.Background(), string(NameListDir), json.RawMessage(`{}`)); err != nil || out != "" {
		t.Errorf("list_dir of the empty workspace: %q, %v", out, err)
	}
	// Arguments cut short (a model's stream that stopped mid-object) are
	// not JSON: said so, with what the tool takes, not "not an object".
	_, err = s.Call(context.Background(), string(NameReadFile), json.RawMessage(`{"path": "a.go"`))
	if want := `read_file takes {"path": string, "start_line"?: integer, "end_line"?: integer}: the arguments are not valid JSON (unexpected end of JSON input)`; err == nil || err.Error() != want {
		t.Errorf("read_file with cut arguments:\n got %v\nwant %s", err, want)
	}
	_, err = s.Call(context.Background(), "rm", json.RawMessage(`{}`))
	if err == nil || err.Error() != `no tool named "rm"; the tools are shell, read_file, list_dir and apply_patch` {
		t.Errorf("unknown tool: %v", err)
	}
}

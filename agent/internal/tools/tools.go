// Package tools implements the tools tern offers a model, and, through
// `tern mcp`, any other agent: shell (through the sandbox), read_file,
// list_dir and apply_patch. Every command runs in the sandbox the session
// chose. The file tools run in tern itself, outside the sandbox, so they
// must never reach outside the workspace, by a path or by a symlink a
// command planted: the kernel confines them (see workspace.go), not a
// check of the path.
package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tern-agent/tern/agent/internal/sandbox"
)

// Limits keep tool results small enough for a model's context.
const (
	MaxOutput      = 64 << 10 // bytes of shell output kept
	MaxReadBytes   = 256 << 10
	DefaultTimeout = 2 * time.Minute
)

// Set is the tools of one session.
type Set struct {
	Workspace string
	Policy    sandbox.Policy
	Plan      sandbox.Plan
	// Escalate is asked before a command runs outside the sandbox; nil or
	// false refuses.
	Escalate func(cmd []string, reason string) bool
	// Env is the environment of the shell tool's commands, as KEY=value
	// entries; nil means tern's own environment. The session's policy
	// decides what goes in it.
	Env []string
}

// Name is a tool's name, as models and MCP clients call it.
type Name string

const (
	NameShell      Name = "shell"
	NameReadFile   Name = "read_file"
	NameListDir    Name = "list_dir"
	NameApplyPatch Name = "apply_patch"
)

// Spec is a tool's description, in the JSON-schema shape models and MCP
// clients take.
type Spec struct {
	Name        Name            `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// tool is one entry of the registry: what the model is told, and what a
// call does. Adding a tool is adding an entry; the model's tool list, the
// MCP listing and Call all read the registry.
type tool struct {
	Spec
	call func(ctx context.Context, s *Set, args json.RawMessage) (string, error)
}

// registry is every tool, in the order they are listed.
var registry = []tool{
	{Spec{NameShell, "Run a command in the workspace, inside the sandbox. Output is capped; long runs time out.",
		json.RawMessage(`{"type":"object","properties":{"command":{"type":"array","items":{"type":"string"},"description":"argv, e.g. [\"go\",\"test\",\"./...\"]"},"timeout_ms":{"type":"integer"},"with_escalated_permissions":{"type":"boolean","description":"run outside the sandbox; the user is asked"},"justification":{"type":"string"}},"required":["command"]}`)},
		callShell},
	{Spec{NameReadFile, "Read a text file in the workspace, optionally a range of lines.",
		json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"},"start_line":{"type":"integer"},"end_line":{"type":"integer"}},"required":["path"]}`)},
		callReadFile},
	{Spec{NameListDir, "List a directory in the workspace.",
		json.RawMessage(`{"type":"object","properties":{"path":{"type":"string","description":"default: the workspace itself"}}}`)},
		callListDir},
	{Spec{NameApplyPatch, "Create, update or delete files with a patch in the apply_patch format (*** Begin Patch … *** End Patch). It applies completely or not at all.",
		json.RawMessage(`{"type":"object","properties":{"patch":{"type":"string"}},"required":["patch"]}`)},
		callApplyPatch},
}

// Specs describes every tool, in the registry's order.
func Specs() []Spec {
	specs := make([]Spec, len(registry))
	for i, t := range registry {
		specs[i] = t.Spec
	}
	return specs
}

// Call runs the named tool with JSON arguments. The result is always text
// for the model; an error result is still a result, so that a bad call is
// reported back, not fatal.
func (s *Set) Call(ctx context.Context, name string, args json.RawMessage) (string, error) {
	for _, t := range registry {
		if string(t.Name) == name {
			// Held to the schema first, whoever called (the model in tern
			// exec, or an MCP client), so a bad call names its argument.
			if len(bytes.TrimSpace(args)) == 0 || string(bytes.TrimSpace(args)) == "null" {
				args = json.RawMessage("{}")
			}
			if err := checkArguments(name, t.Parameters, args); err != nil {
				return "", err
			}
			return t.call(ctx, s, args)
		}
	}
	return "", fmt.Errorf("no tool named %q; the tools are %s", name, toolNames())
}

// toolNames is "a, b, c and d".
func toolNames() string {
	names := make([]string, len(registry))
	for i, t := range registry {
		names[i] = string(t.Name)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func callShell(ctx context.Context, s *Set, args json.RawMessage) (string, error) {
	var a struct {
		Command   []string `json:"command"`
		TimeoutMS int      `json:"timeout_ms"`
		Escalate  bool     `json:"with_escalated_permissions"`
		Reason    string   `json:"justification"`
	}
	if err := json.Unmarshal(args, &a); err != nil || len(a.Command) == 0 {
		return "", fmt.Errorf("shell takes {\"command\": [argv...]}: %v", err)
	}
	return s.shell(ctx, a.Command, time.Duration(a.TimeoutMS)*time.Millisecond, a.Escalate, a.Reason)
}

func callReadFile(_ context.Context, s *Set, args json.RawMessage) (string, error) {
	var a struct {
		Path  string `json:"path"`
		Start int    `json:"start_line"`
		End   int    `json:"end_line"`
	}
	if err := json.Unmarshal(args, &a); err != nil || a.Path == "" {
		return "", fmt.Errorf("read_file takes {\"path\": ...}: %v", err)
	}
	return s.readFile(a.Path, a.Start, a.End)
}

func callListDir(_ context.Context, s *Set, args json.RawMessage) (string, error) {
	var a struct {
		Path string `json:"path"`
	}
	if err := json.Unmarshal(args, &a); err != nil {
		return "", fmt.Errorf("list_dir takes {\"path\": ...}: %v", err)
	}
	return s.listDir(a.Path)
}

func callApplyPatch(_ context.Context, s *Set, args json.RawMessage) (string, error) {
	var a struct {
		Patch string `json:"patch"`
	}
	if err := json.Unmarshal(args, &a); err != nil || a.Patch == "" {
		return "", fmt.Errorf("apply_patch takes {\"patch\": ...}: %v", err)
	}
	if s.Policy.Mode == sandbox.ReadOnly {
		return "", errors.New("the sandbox is read-only: apply_patch is refused")
	}
	return ApplyPatch(s.Workspace, a.Patch)
}

func (s *Set) shell(ctx context.Context, argv []string, timeout time.Duration, escalate bool, reason string) (string, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	plan, policy := s.Plan, s.Policy
	if escalate && s.Policy.Mode != sandbox.DangerFullAccess {
		if s.Escalate == nil || !s.Escalate(argv, reason) {
			return "", errors.New("running outside the sandbox was refused (no approval: --approval on-request asks on a terminal); run it sandboxed or explain to the user")
		}
		plan, policy.Mode = sandbox.Plan{Backend: sandbox.NoSandbox}, sandbox.DangerFullAccess
	}
	var out capped
	code, err := plan.Run(ctx, policy, sandbox.Command{Argv: argv, Env: s.Env, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out})
	result := out.String()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("%s\n[timed out after %s; the command was killed]", result, timeout), nil
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Sprintf("%s\n[exit code %d: %v]", result, code, err), nil
	}
	if ctx.Err() != nil {
		return result, ctx.Err()
	}
	return fmt.Sprintf("%s\n[exit code %d]", result, code), nil
}

// capped keeps the first and the last MaxOutput/2 bytes of a command's
// output and counts what it drops between them, so a command that prints
// without end costs a fixed 64 KiB. It has only Write: io.Copy, which the
// command's pipe is copied with, would call a ReadFrom or WriteString
// instead, and a cap that lives in Write would not apply.
type capped struct {
	mu    sync.Mutex // stdout and stderr may be copied by two goroutines
	head  []byte
	tail  []byte // a ring of MaxOutput/2 bytes once full
	next  int    // where the ring's next byte goes
	total int64
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	c.total += int64(n)
	const half = MaxOutput / 2
	if room := half - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	if len(p) >= half { // only the last half survives
		p = p[len(p)-half:]
		c.tail = append(c.tail[:0], p...)
		c.next = 0
		return n, nil
	}
	if room := half - len(c.tail); room > 0 { // the ring is still filling
		k := min(room, len(p))
		c.tail = append(c.tail, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		k := copy(c.tail[c.next:], p)
		p = p[k:]
		c.next = (c.next + k) % half
	}
	return n, nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	tail := append(append([]byte{}, c.tail[c.next:]...), c.tail[:c.next]...)
	dropped := c.total - int64(len(c.head)) - int64(len(tail))
	if dropped == 0 {
		return string(c.head) + string(tail)
	}
	return fmt.Sprintf("%s\n[%d bytes of output dropped here]\n%s", c.head, dropped, tail)
}

// workspaceName opens the workspace and names p in it, for one call.
func (s *Set) workspaceName(p string) (*os.Root, string, error) {
	name, err := localName(s.Workspace, p)
	if err != nil {
		return nil, "", err
	}
	root, err := openWorkspace(s.Workspace)
	return root, name, err
}

func (s *Set) readFile(p string, start, end int) (string, error) {
	root, name, err := s.workspaceName(p)
	if err != nil {
		return "", err
	}
	defer root.Close()
	f, err := openRegular(root, s.Workspace, name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxReadBytes+1))
	if err != nil {
		return "", err
	}
	truncated := len(b) > MaxReadBytes
	if truncated {
		b = b[:MaxReadBytes]
	}
	lines := strings.Split(string(b), "\n")
	if start <= 0 {
		start = 1
	}
	if end <= 0 || end > len(lines) {
		end = len(lines)
	}
	if start > end {
		return "", fmt.Errorf("%s has %d lines; start_line %d is past the end", p, len(lines), start)
	}
	out := strings.Join(lines[start-1:end], "\n")
	if truncated {
		out += fmt.Sprintf("\n[file truncated at %d bytes; read a line range]", MaxReadBytes)
	}
	return out, nil
}

func (s *Set) listDir(p string) (string, error) {
	root, name, err := s.workspaceName(p)
	if err != nil {
		return "", err
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return "", explain(s.Workspace, p, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return "", fmt.Errorf("listing %s: %w", p, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, "\n"), nil
}

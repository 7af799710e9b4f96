// Package sandbox runs a command under one of tern's three sandbox modes:
//
//   - read-only: the command may read the whole filesystem and write only a
//     private temporary directory; no network unless allowed;
//   - workspace-write: additionally the workspace (its working directory) and
//     each extra writable directory are writable;
//   - danger-full-access: no sandbox at all, and only when asked for by name.
//
// The mechanism depends on the host: bubblewrap on Linux, with Landlock as the
// fallback where bwrap cannot run; sandbox-exec on macOS; nothing yet on
// Windows. Plan decides which one a policy gets on this host, and when none
// can enforce it, returns an *UnavailableError that names every problem and
// its remedy. This package must never run a command with less isolation than
// its policy asks for: no silent fallback to running unsandboxed.
package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Mode is one of the three sandbox modes.
type Mode string

const (
	ReadOnly         Mode = "read-only"
	WorkspaceWrite   Mode = "workspace-write"
	DangerFullAccess Mode = "danger-full-access"
)

// Modes lists the modes in order of increasing access.
var Modes = []Mode{ReadOnly, WorkspaceWrite, DangerFullAccess}

// DefaultMode is the mode tern uses when none is chosen.
const DefaultMode = WorkspaceWrite

// ParseMode accepts a mode's exact name.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown sandbox mode %q: choose one of %s", s, joinModes())
}

func joinModes() string {
	names := make([]string, len(Modes))
	for i, m := range Modes {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// Policy is what a sandboxed command may do. Build it with NewPolicy, which
// makes every path absolute and resolves symlinks, so that the paths the
// sandbox binds are the paths the kernel checks.
type Policy struct {
	Mode         Mode
	Workspace    string   // the command's working directory
	Writable     []string // extra writable directories (workspace-write only)
	AllowNetwork bool
	// Protected are the paths in the writable roots that stay read-only
	// (ProtectedPaths), found once by NewPolicy; Pinned, the directories
	// between a root and them, which may not be moved (pinnedDirs); and
	// LinkedProtected, the protected entries that are symlinks, which the
	// sandbox cannot keep in place.
	Protected, Pinned, LinkedProtected []string
}

// Flags names the command-line flags a policy's errors point the user at,
// so that each command's errors name its own flags.
type Flags struct {
	Mode, Workspace, Writable string
}

// legacyFlags are tern sandbox run's first spellings, which NewPolicy's
// errors name.
var legacyFlags = Flags{Mode: "--mode", Workspace: "--cwd", Writable: "--writable"}

// NewPolicy validates and normalises a policy. workspace defaults to the
// current directory. Its errors name sandbox run's first flags; a command
// with flags of its own calls NewPolicyFor.
func NewPolicy(mode Mode, workspace string, writable []string, allowNetwork bool) (Policy, error) {
	return NewPolicyFor(legacyFlags, mode, workspace, writable, allowNetwork)
}

// NewPolicyFor is NewPolicy with errors that name flags.
func NewPolicyFor(flags Flags, mode Mode, workspace string, writable []string, allowNetwork bool) (Policy, error) {
	if workspace == "" {
		wd, err := os.Getwd()
		if err != nil {
			return Policy{}, fmt.Errorf("cannot read the current directory: %w (choose the workspace with %s)", err, flags.Workspace)
		}
		workspace = wd
	}
	ws, err := resolveDir(workspace, flags.Workspace)
	if err != nil {
		return Policy{}, err
	}
	p := Policy{Mode: mode, Workspace: ws, AllowNetwork: allowNetwork}
	if len(writable) > 0 && mode != WorkspaceWrite {
		return Policy{}, fmt.Errorf("%s applies only to %s %s (the mode is %s)", flags.Writable, flags.Mode, WorkspaceWrite, mode)
	}
	for _, w := range writable {
		if !filepath.IsAbs(w) {
			w = filepath.Join(ws, w)
		}
		d, err := resolveDir(w, flags.Writable)
		if err != nil {
			return Policy{}, err
		}
		p.Writable = append(p.Writable, d)
	}
	if mode == WorkspaceWrite {
		for _, root := range p.WritableRoots() {
			if filepath.Dir(root) == root {
				return Policy{}, fmt.Errorf("refusing to make %s writable in %s mode: that is no sandbox; pick a narrower directory with %s, or choose %s %s explicitly", root, mode, flags.Workspace, flags.Mode, DangerFullAccess)
			}
		}
		p.Protected, p.LinkedProtected = findProtected(p.WritableRoots())
		p.Pinned = pinnedDirs(p.WritableRoots(), p.Protected)
		rememberWritable(p)
	}
	return p, nil
}

// WritableRoots are the directories a command may write besides its private
// temporary directory: none in read-only mode.
func (p Policy) WritableRoots() []string {
	if p.Mode != WorkspaceWrite {
		return nil
	}
	return append([]string{p.Workspace}, p.Writable...)
}

func resolveDir(dir, flag string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s %s: no such directory; create it first", flag, dir)
	}
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, dir, err)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, dir, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("%s %s: not a directory", flag, dir)
	}
	return real, nil
}

// Backend names the mechanism that enforces a policy.
type Backend string

const (
	NoSandbox   Backend = "none"
	Bubblewrap  Backend = "bwrap"
	Landlock    Backend = "landlock"
	SandboxExec Backend = "sandbox-exec"
)

// Problem is one reason a mechanism cannot be used, and what fixes it.
type Problem struct {
	Subject string `json:"subject"` // the mechanism or setting at fault
	Detail  string `json:"detail"`
	Remedy  string `json:"remedy,omitempty"`
	// Fix names a remedy that is a flag, for commands that word it their
	// own way (or lack the flag).
	Fix Fix `json:"fix,omitempty"`
}

// Fix is a remedy a command can offer by a flag of its own.
type Fix string

// FixAllowNetwork: the problem goes away when the command may use the
// network.
const FixAllowNetwork Fix = "allow-network"

func (p Problem) String() string {
	s := p.Subject + ": " + p.Detail
	if p.Remedy != "" {
		s += "\n    remedy: " + p.Remedy
	}
	return s
}

// UnavailableError says that no mechanism on this host can enforce a mode.
type UnavailableError struct {
	Mode     Mode
	Problems []Problem
}

func (e *UnavailableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot sandbox a command in %s mode on this machine:", e.Mode)
	for _, p := range e.Problems {
		b.WriteString("\n  - " + p.String())
	}
	fmt.Fprintf(&b, "\nRun `tern doctor` for details. To run without any sandbox, choose it explicitly: --mode %s", DangerFullAccess)
	return b.String()
}

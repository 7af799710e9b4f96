// Package doctor diagnoses whether tern can do its job on this machine: which
// helpers it found and how, and whether the default sandbox mode works. It
// reports; it never changes the machine.
package doctor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tern-agent/tern/agent/internal/buildinfo"
	"github.com/tern-agent/tern/agent/internal/helperbin"
	"github.com/tern-agent/tern/agent/internal/sandbox"
)

// Report is what `tern doctor --json` prints. Its keys are a public
// contract, read by bug reports and the installers' smoke tests.
type Report struct {
	Tern       buildinfo.Info `json:"tern"`
	Executable string         `json:"executable"`
	Helpers    []HelperReport `json:"helpers"`
	Sandbox    SandboxReport  `json:"sandbox"`
	// EnvPolicy says which variables the commands tern runs for a model
	// get (tern exec, tern mcp).
	EnvPolicy string            `json:"env_policy,omitempty"`
	Problems  []sandbox.Problem `json:"problems"`
}

// HelperReport describes one helper: where it was found and what it is, or
// every place that was searched.
type HelperReport struct {
	Name    string           `json:"name"`
	Found   bool             `json:"found"`
	Path    string           `json:"path,omitempty"`
	Source  helperbin.Source `json:"source,omitempty"`
	Version string           `json:"version,omitempty"`
	SHA256  string           `json:"sha256,omitempty"`
	// DigestCheck says whether the digest was checked against the one this
	// build recorded: "matched", or why it was not checked.
	DigestCheck string                `json:"digest_check,omitempty"`
	Error       string                `json:"error,omitempty"`
	Tried       []helperbin.Candidate `json:"tried,omitempty"`
}

// SandboxReport describes what the host offers and what the default mode gets.
type SandboxReport struct {
	DefaultMode sandbox.Mode    `json:"default_mode"`
	Backend     sandbox.Backend `json:"backend,omitempty"` // for the default mode; empty when none works
	TrialRun    string          `json:"trial_run,omitempty"`
	// Fallback says why Landlock stands in for the bwrap that was found
	// (bwrap could not start a sandbox here, or the kernel's settings
	// forbid its namespaces); empty when bwrap runs or none was found.
	Fallback string `json:"fallback,omitempty"`
	// Protections are what the default mode enforces (see the README's
	// sandbox section), in workspace-write with the network off.
	Protections []sandbox.Protection `json:"protections"`
	Host        sandbox.Host         `json:"host"`
}

// Run gathers the report. It starts the default sandbox once, running this
// binary's `version` inside it, because only a real run proves that the
// kernel lets the sandbox set itself up.
func Run(ctx context.Context) Report {
	r := Report{Tern: buildinfo.Get(), Problems: []sandbox.Problem{}}
	exe, err := helperbin.Executable()
	if err != nil {
		r.Problems = append(r.Problems, sandbox.Problem{Subject: "executable", Detail: err.Error()})
	}
	r.Executable = exe

	host := sandbox.Probe()
	r.Sandbox = SandboxReport{DefaultMode: sandbox.DefaultMode, Host: host}
	if host.OS == "linux" {
		r.Helpers = append(r.Helpers, describeBwrap(host))
	}
	r.Problems = append(r.Problems, exposedHere(host)...)

	policy, err := sandbox.NewPolicy(sandbox.DefaultMode, os.TempDir(), nil, false)
	if err != nil {
		r.Problems = append(r.Problems, sandbox.Problem{Subject: "sandbox", Detail: err.Error()})
		return r
	}
	plan, err := host.Plan(policy)
	var unavailable *sandbox.UnavailableError
	switch {
	case errors.As(err, &unavailable):
		r.Problems = append(r.Problems, unavailable.Problems...)
		return r
	case err != nil:
		r.Problems = append(r.Problems, sandbox.Problem{Subject: "sandbox", Detail: err.Error()})
		return r
	}
	r.Sandbox.Backend = plan.Backend
	r.Sandbox.Fallback = plan.Fallback
	r.Sandbox.Protections = plan.Protections(policy)
	if exe != "" {
		r.Sandbox.TrialRun = "ok"
		if p := trialRun(ctx, plan, policy, exe); p != nil {
			r.Sandbox.TrialRun = "failed"
			r.Problems = append(r.Problems, *p)
		}
	}
	return r
}

// exposedHere is the problem, if any, of tern's own files lying in the
// current directory, the workspace of a tern command started here without
// --cd: its sandboxed commands could replace them.
func exposedHere(host sandbox.Host) []sandbox.Problem {
	wd, err := os.Getwd()
	if err != nil {
		return nil
	}
	ws, err := filepath.EvalSymlinks(wd)
	if err != nil || filepath.Dir(ws) == ws {
		return nil // tern refuses / as a workspace
	}
	exposed := sandbox.ExposedIn(sandbox.OwnFiles(host.Bwrap), []string{ws})
	if len(exposed) == 0 {
		return nil
	}
	return []sandbox.Problem{sandbox.ExposedProblem(exposed)}
}

// sayPassedOver rewrites the PATH candidate's "not on PATH" where there was
// a bwrap on PATH, in a directory a sandboxed command may write, which tern
// will not run.
func sayPassedOver(tried []helperbin.Candidate, passed []string) {
	if len(passed) == 0 {
		return
	}
	for i := range tried {
		if tried[i].Source == helperbin.FromPath {
			tried[i].Path = strings.Join(passed, ", ")
			tried[i].Reason = "passed over: a sandboxed command may write there, and tern runs bwrap outside the sandbox; install bubblewrap system-wide or set " + helperbin.EnvBwrap
		}
	}
}

func describeBwrap(h sandbox.Host) HelperReport {
	hr := HelperReport{Name: "bwrap"}
	if h.Bwrap == nil {
		hr.Error = h.BwrapErr
		var nf *helperbin.NotFoundError
		if _, passed, err := sandbox.FindBwrap(); errors.As(err, &nf) {
			hr.Tried = nf.Tried
			sayPassedOver(hr.Tried, passed)
		}
		return hr
	}
	hr.Found, hr.Path, hr.Source, hr.Version = true, h.Bwrap.Path, h.Bwrap.Source, h.Bwrap.Version
	if hr.Version == "" {
		if v, err := helperbin.BwrapVersion(hr.Path); err == nil {
			hr.Version = v
		} else {
			hr.Error = err.Error()
		}
	}
	switch {
	case h.Bwrap.Verified:
		hr.SHA256, hr.DigestCheck = h.Bwrap.SHA256, "matched the digest this build recorded"
	case h.Bwrap.Source == helperbin.Bundled:
		hr.DigestCheck = "not checked: this build recorded no digest (a dev build)"
	default:
		hr.DigestCheck = "not checked: not shipped with tern"
	}
	if hr.SHA256 == "" {
		if sum, err := fileSHA256(hr.Path); err == nil {
			hr.SHA256 = sum
		} else {
			hr.Error = err.Error()
		}
	}
	return hr
}

func trialRun(ctx context.Context, plan sandbox.Plan, policy sandbox.Policy, exe string) *sandbox.Problem {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	code, err := plan.Run(ctx, policy, sandbox.Command{
		Argv:   []string{exe, "version"},
		Stdout: io.Discard,
		Stderr: &out,
	})
	if err == nil && code == 0 {
		return nil
	}
	detail := fmt.Sprintf("running `tern version` in the %s sandbox exited %d", plan.Backend, code)
	if err != nil {
		detail += ": " + err.Error()
	}
	if msg := strings.TrimSpace(out.String()); msg != "" {
		detail += ": " + msg
	}
	return &sandbox.Problem{
		Subject: string(plan.Backend),
		Detail:  detail,
		Remedy:  "if this runs in a container, allow it to create namespaces (docker run --security-opt seccomp=unconfined --cap-add SYS_ADMIN), or set " + helperbin.EnvBwrap + " to a working bwrap",
	}
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

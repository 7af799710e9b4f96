package sandbox

import (
	"context"
	"io"
	"os/exec"
	"testing"
)

// BenchmarkSandboxedTrue is one tool call's cost: `true` run through the
// plan a session chose once (bench/exec.go prints it beside a bare true).
func BenchmarkSandboxedTrue(b *testing.B) {
	policy, err := NewPolicy(WorkspaceWrite, b.TempDir(), nil, false)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := Probe().Plan(policy)
	if err != nil {
		b.Skip(err)
	}
	for i := 0; i < b.N; i++ {
		code, err := plan.Run(context.Background(), policy, Command{Argv: []string{"true"}, Stdout: io.Discard, Stderr: io.Discard})
		if err != nil || code != 0 {
			b.Fatal(code, err)
		}
	}
}

// BenchmarkBareTrue is `true` started directly, for the comparison.
func BenchmarkBareTrue(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if err := exec.Command("true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProbe is what finding the sandbox costs once per tern command,
// bwrap's trial start included.
func BenchmarkProbe(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Probe()
	}
}

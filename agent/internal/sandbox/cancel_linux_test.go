package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// eachBackend runs f with a workspace-write plan on bwrap and on Landlock
// (bwrap hidden), skipping a backend this host lacks.
func eachBackend(t *testing.T, f func(t *testing.T, ws string, plan Plan, policy Policy)) {
	host := Probe()
	for _, tc := range []struct {
		name string
		host Host
	}{
		{"bwrap", host},
		{"landlock", Host{OS: "linux", BwrapErr: "hidden by the test", UserNS: host.UserNS, LandlockABI: host.LandlockABI}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := t.TempDir()
			policy, err := NewPolicy(WorkspaceWrite, ws, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := tc.host.Plan(policy)
			if err != nil || (tc.name == "bwrap" && plan.Backend != Bubblewrap) {
				t.Skipf("no %s here: %v", tc.name, err)
			}
			f(t, ws, plan, policy)
		})
	}
}

// noneLeft fails, after a grace, when a `sleep marker` still runs; marker is
// a length no other test's sleep has, since pgrep sees the whole machine.
func noneLeft(t *testing.T, marker string, grace time.Duration, what string) {
	t.Helper()
	for deadline := time.Now().Add(grace); ; time.Sleep(50 * time.Millisecond) {
		out, _ := exec.Command("pgrep", "-f", "sleep "+marker).Output()
		if len(bytes.TrimSpace(out)) == 0 {
			return
		}
		if time.Now().After(deadline) {
			exec.Command("pkill", "-f", "sleep "+marker).Run()
			t.Fatalf("%d %s: pids %s", len(bytes.Fields(out)), what, out)
		}
	}
}

// A cancel may come at any moment of a sandbox's start, even before bwrap
// has said which process is the sandbox's init: nothing may survive it.
func TestCancelAtAnyMomentLeavesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, _ string, plan Plan, policy Policy) {
		marker := fmt.Sprint(8000 + os.Getpid()%1000)
		for i := 0; i < 20; i++ {
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				time.Sleep(time.Duration(i) * time.Millisecond / 2)
				cancel()
			}()
			plan.Run(ctx, policy, Command{Argv: []string{"sleep", marker}, Stdout: io.Discard, Stderr: io.Discard})
			cancel()
		}
		noneLeft(t, marker, 3*time.Second, "sandboxed commands survived their cancellation")
	})
}

// A deep chain of processes, its head in a session of its own, must not
// outlast the cleanup that follows a cancel: the Landlock supervisor once
// killed one generation per pass and was itself killed mid-sweep.
func TestCancelKillsADeepChain(t *testing.T) {
	eachBackend(t, func(t *testing.T, ws string, plan Plan, policy Policy) {
		marker := fmt.Sprint(9000 + os.Getpid()%1000)
		script := "n=$1\nif [ \"$n\" -gt 0 ]; then sh ./chain.sh $((n-1)) & else touch built; fi\nexec sleep " + marker + "\n"
		if err := os.WriteFile(filepath.Join(ws, "chain.sh"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			plan.Run(ctx, policy, Command{Argv: []string{"sh", "-c", "setsid sh ./chain.sh 600 & exec sleep " + marker}, Stdout: io.Discard, Stderr: io.Discard})
		}()
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(ws, "built")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the chain was never built")
			}
		}
		cancel()
		<-done
		noneLeft(t, marker, 5*time.Second, "processes of the chain outlived the cancel")
	})
}

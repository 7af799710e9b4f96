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

// A cancel may come at any moment of a sandbox's start, even before bwrap
// has said which process is the sandbox's init: nothing may survive it.
func TestCancelAtAnyMomentLeavesNothing(t *testing.T) {
	host := Probe()
	for _, tc := range []struct {
		name string
		host Host
	}{
		{"bwrap", host},
		{"landlock", Host{OS: "linux", BwrapErr: "hidden by the test", UserNS: host.UserNS, LandlockABI: host.LandlockABI}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policy, err := NewPolicy(WorkspaceWrite, t.TempDir(), nil, false)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := tc.host.Plan(policy)
			if err != nil || (tc.name == "bwrap" && plan.Backend != Bubblewrap) {
				t.Skipf("no %s here: %v", tc.name, err)
			}
			marker := fmt.Sprint(8000 + os.Getpid()%1000) // a sleep no other test runs
			for i := 0; i < 20; i++ {
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					time.Sleep(time.Duration(i) * time.Millisecond / 2)
					cancel()
				}()
				plan.Run(ctx, policy, Command{Argv: []string{"sleep", marker}, Stdout: io.Discard, Stderr: io.Discard})
				cancel()
			}
			deadline := time.Now().Add(3 * time.Second)
			for {
				out, _ := exec.Command("pgrep", "-f", "sleep "+marker).Output()
				if len(bytes.TrimSpace(out)) == 0 {
					return
				}
				if time.Now().After(deadline) {
					exec.Command("pkill", "-f", "sleep "+marker).Run()
					t.Fatalf("sandboxed commands survived their cancellation: pids %s", out)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// A deep chain of processes, its head in a session of its own, must not
// outlast the cleanup that follows a cancel: the Landlock supervisor once
// killed one generation per pass and was itself killed mid-sweep.
func TestCancelKillsADeepChain(t *testing.T) {
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
			deadline := time.Now().Add(5 * time.Second)
			for {
				out, _ := exec.Command("pgrep", "-f", "sleep "+marker).Output()
				if len(bytes.TrimSpace(out)) == 0 {
					return
				}
				if time.Now().After(deadline) {
					exec.Command("pkill", "-f", "sleep "+marker).Run()
					t.Fatalf("%d processes of the chain outlived the cancel", len(bytes.Fields(out)))
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

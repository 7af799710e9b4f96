//go:build unix

package tools

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAPlantedFIFODoesNotHangTern: a command can leave a FIFO where the
// model then reads or patches; opening it for reading would block tern
// until a writer came, which is never.
func TestAPlantedFIFODoesNotHangTern(t *testing.T) {
	ws := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(ws, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Set{Workspace: ws}
	for _, tc := range []struct{ tool, args string }{
		{"read_file", `{"path": "fifo"}`},
		{"apply_patch", `{"patch": "*** Begin Patch\n*** Update File: fifo\n-a\n+b\n*** End Patch"}`},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := s.Call(context.Background(), tc.tool, json.RawMessage(tc.args))
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s of a FIFO: %v", tc.tool, err)
			}
		case <-time.After(30 * time.Second): // a hang guard, not a timing check
			t.Fatalf("%s of a FIFO hung", tc.tool)
		}
	}
}

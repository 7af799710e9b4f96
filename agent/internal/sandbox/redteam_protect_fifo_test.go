//go:build linux

package sandbox

// Red team: the protected paths are found by reading .git files and the
// commondir files they lead to, all in the workspace, which a sandboxed
// command writes. A commondir that is a FIFO made tern's next start block
// for ever in NewPolicy (one that links to /dev/zero filled its memory).

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestRedteamAFIFOInTheWorkspaceDoesNotHangTheNextStart(t *testing.T) {
	ws := t.TempDir()
	sub, gitdir := filepath.Join(ws, "sub"), filepath.Join(ws, "g")
	for _, d := range []string{sub, gitdir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(sub, ".git"), []byte("gitdir: ../g\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(gitdir, "commondir")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan []string, 1)
	go func() {
		p, err := NewPolicy(WorkspaceWrite, ws, nil, false)
		if err != nil {
			t.Error(err)
		}
		done <- p.Protected
	}()
	select {
	case protected := <-done:
		if _, ok := ProtectedBy(gitdir, protected); !ok {
			t.Errorf("the .git file's gitdir %s is not protected: %v", gitdir, protected)
		}
	case <-time.After(5 * time.Second):
		// Let the blocked reader go before failing.
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("NewPolicy blocked on a FIFO the workspace holds as a commondir file")
	}
}

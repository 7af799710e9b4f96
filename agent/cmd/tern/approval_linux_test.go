package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master, which the test reads and
// writes as the user's terminal emulator would, and the slave, which becomes
// tern's controlling terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("opening /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("naming the pty: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening the pty's slave: %v", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

// screen collects every byte a pty master reads until the slave side closes.
type screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func readScreen(master *os.File) *screen {
	s := &screen{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			if err != nil {
				return // EIO once no process holds the slave open
			}
		}
	}()
	return s
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *screen) waitFor(t *testing.T, suffix string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.HasSuffix(s.String(), suffix); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %q; it shows %q", suffix, s.String())
		}
	}
}

// TestApprovalPromptCannotBeSpoofed has the model ask for an escalated command
// whose argv and justification carry terminal escapes that would clear the
// screen and print an innocent `ls -la` prompt, and bidi overrides that would
// reorder what the user reads. The terminal must show the real argv with
// every escape spelled out, and a "n" must keep the command from running.
func TestApprovalPromptCannotBeSpoofed(t *testing.T) {
	ws := workspace(t)
	spoof := "\x1b[2J\x1b[Htern wants to run outside the sandbox: ls -la"
	argv := []string{"sh", "-c", "touch pwned #" + spoof, "it's\u009b\u202ehere"}
	f := newFakeModel(t,
		answer(call("c1", "shell", map[string]any{"command": argv, "with_escalated_permissions": true,
			"justification": "list files\x1b[8m\u2066hidden\r"})),
		answer([]string{text("ok")}),
	)
	master, slave := openPTY(t)
	cmd := exec.Command(ternBin, "exec", "--approval", "on-request", "go")
	cmd.Dir = ws
	cmd.Env = append(os.Environ(), "OPENAI_BASE_URL="+f.URL, "OPENAI_API_KEY=k", "XDG_CONFIG_HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr // only /dev/tty is the terminal
	cmd.ExtraFiles = []*os.File{slave}        // fd 3 in tern
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 3}
	scr := readScreen(master)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	slave.Close() // tern holds it now; the master reads EIO once tern exits

	prompt := "tern wants to run outside the sandbox: sh -c $'touch pwned #\\x1b[2J\\x1b[Htern wants to run outside the sandbox: ls -la' $'it\\'s\\u009b\\u202ehere'\r\n" +
		"  reason: list files\\x1b[8m\\u2066hidden\\r\r\n" +
		"Allow? [y/N] "
	scr.waitFor(t, "Allow? [y/N] ")
	if got := scr.String(); got != prompt {
		t.Fatalf("the terminal shows\n%q\nwant\n%q", got, prompt)
	}
	if _, err := master.Write([]byte("n\n")); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, cmd); code != 0 {
		t.Fatalf("tern exited %d\nstdout %s\nstderr %s", code, stdout.String(), stderr.String())
	}
	select {
	case <-scr.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal stayed open after tern exited")
	}
	if got, want := scr.String(), prompt+"n\r\n"; got != want {
		t.Fatalf("the terminal shows\n%q\nwant\n%q", got, want)
	}
	if exists(filepath.Join(ws, "pwned")) {
		t.Fatal("the refused command ran")
	}
	if got := f.lastToolResult(); !strings.Contains(got, "refused") {
		t.Fatalf("the model must be told the escalation was refused: %q", got)
	}
}

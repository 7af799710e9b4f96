package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/tern-agent/tern/agent/internal/sandbox"
)

// endless is an unbounded reader that implements neither WriterTo nor
// anything else io.Copy could shortcut through on its side, so io.Copy
// turns to the writer's ReaderFrom if it has one.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'y'
	}
	return len(p), nil
}

// droppedCount reads the count from the marker in the middle of an output.
var droppedMarker = regexp.MustCompile(`\[(\d+) bytes of output dropped here\]`)

func TestCappedKeepsHeadAndTail(t *testing.T) {
	const total = 10 << 20
	for _, tc := range []struct {
		name string
		src  func() io.Reader
	}{
		// strings.Reader has WriteTo: io.Copy hands it the writer, one big Write.
		{"a WriterTo source", func() io.Reader {
			return strings.NewReader("HEAD" + strings.Repeat("y", total-8) + "TAIL")
		}},
		// A plain reader: io.Copy uses the writer's ReadFrom when it has one.
		{"a plain source", func() io.Reader {
			return io.MultiReader(strings.NewReader("HEAD"), io.LimitReader(endless{}, total-8), strings.NewReader("TAIL"))
		}},
		// Many small writes, as a pipe delivers them.
		{"small writes", func() io.Reader {
			return io.MultiReader(strings.NewReader("HEAD"), &smallReads{io.LimitReader(endless{}, total-8)}, strings.NewReader("TAIL"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c capped
			n, err := io.Copy(&c, tc.src())
			if err != nil || n != total {
				t.Fatalf("io.Copy = %d, %v; want %d", n, err, total)
			}
			out := c.String()
			if len(out) > MaxOutput+200 {
				t.Fatalf("kept %d bytes; the cap is %d", len(out), MaxOutput)
			}
			if !strings.HasPrefix(out, "HEAD") || !strings.HasSuffix(out, "TAIL") {
				t.Fatalf("the head or the tail is missing: %q … %q", out[:16], out[len(out)-16:])
			}
			m := droppedMarker.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no dropped-bytes marker in the output")
			}
			if got, _ := strconv.Atoi(m[1]); got != total-MaxOutput {
				t.Fatalf("dropped %s bytes, want %d", m[1], total-MaxOutput)
			}
		})
	}
}

type smallReads struct{ r io.Reader }

func (s *smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), 1000)]) }

func TestCappedKeepsShortOutputWhole(t *testing.T) {
	for _, size := range []int{0, 1, MaxOutput / 2, MaxOutput/2 + 1, MaxOutput - 1, MaxOutput} {
		var c capped
		want := bytes.Repeat([]byte("0123456789"), size/10+1)[:size]
		for chunk := want; len(chunk) > 0; {
			k := min(len(chunk), 777)
			c.Write(chunk[:k])
			chunk = chunk[k:]
		}
		if got := c.String(); got != string(want) {
			t.Errorf("%d bytes: kept %d bytes, want them all unchanged", size, len(got))
		}
	}
	// One byte over: exactly one byte is dropped, from the middle.
	var c capped
	data := bytes.Repeat([]byte("abcdefghij"), MaxOutput/10+1)[:MaxOutput+1]
	c.Write(data)
	out := c.String()
	if !strings.Contains(out, "[1 bytes of output dropped here]") ||
		!strings.HasPrefix(out, string(data[:MaxOutput/2])) || !strings.HasSuffix(out, string(data[len(data)-MaxOutput/2:])) {
		t.Fatalf("one byte over the cap: %q … %q", out[:20], out[len(out)-20:])
	}
}

// TestShellOutputIsCapped runs the red-team command. Before the cap
// applied, it kept all 200 MB and sent them to the model.
func TestShellOutputIsCapped(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB through a pipe")
	}
	s := &Set{
		Workspace: t.TempDir(),
		Policy:    sandbox.Policy{Mode: sandbox.DangerFullAccess},
		Plan:      sandbox.Plan{Backend: sandbox.NoSandbox},
	}
	s.Policy.Workspace = s.Workspace
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	args, _ := json.Marshal(map[string]any{"command": []string{"sh", "-c", "echo START; yes | head -c 200000000; echo END"}})
	out, err := s.Call(context.Background(), "shell", args)
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if len(out) > 70<<10 {
		t.Fatalf("the result is %d bytes; the cap is %d", len(out), MaxOutput)
	}
	if !strings.HasPrefix(out, "START\ny\ny\n") || !strings.Contains(out, "y\ny\nEND\n") || !strings.HasSuffix(out, "[exit code 0]") {
		t.Fatalf("the head or the tail is missing: %q … %q", out[:20], out[len(out)-30:])
	}
	if want := fmt.Sprintf("[%d bytes of output dropped here]", 6+200000000+4-MaxOutput); !strings.Contains(out, want) {
		t.Fatalf("no %q in the output", want)
	}
	// Loose: the heap grew by far less than the output.
	if grew := int64(after.TotalAlloc) - int64(before.TotalAlloc); grew > 50<<20 {
		t.Errorf("running the command allocated %d MB", grew>>20)
	}
}

package exitcode_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/agent/internal/exitcode"
	"github.com/tern-agent/tern/agent/internal/sandbox"
)

// TestDocsShowTheTable: docs/exec-events.md's table is this package's, row
// for row.
func TestDocsShowTheTable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "exec-events.md"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, row := range exitcode.Table {
		want = append(want, fmt.Sprintf("| `%d` | %s |", row.Code, row.Meaning))
	}
	var got []string
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "| `") && strings.Contains(l, "` | ") {
			if code := strings.SplitN(l, "`", 3)[1]; code != "" && code[0] >= '0' && code[0] <= '9' {
				got = append(got, l)
			}
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("docs/exec-events.md's exit codes:\n%s\nwant (from package exitcode):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSandboxAgrees: the sandbox package returns its own failures as plain
// ints; they must be the table's.
func TestSandboxAgrees(t *testing.T) {
	for _, c := range []struct {
		sandbox int
		code    exitcode.Code
	}{
		{sandbox.ExitSandboxFailed, exitcode.SandboxFailed},
		{sandbox.ExitNotExecutable, exitcode.NotExecutable},
		{sandbox.ExitCommandNotFound, exitcode.NotFound},
	} {
		if exitcode.Code(c.sandbox) != c.code {
			t.Errorf("sandbox exits %d where the table says %d", c.sandbox, c.code)
		}
	}
}

// TestCodesAreDistinct: no two rows share a code.
func TestCodesAreDistinct(t *testing.T) {
	seen := map[exitcode.Code]bool{}
	for _, row := range exitcode.Table {
		if seen[row.Code] {
			t.Errorf("code %d appears twice", row.Code)
		}
		seen[row.Code] = true
	}
}

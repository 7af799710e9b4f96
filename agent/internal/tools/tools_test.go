package tools

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/tern-agent/tern/agent/internal/sandbox"
)

func TestShellEnv(t *testing.T) {
	t.Setenv("TERN_TEST_INHERITED", "from tern")
	ws := t.TempDir()
	args, _ := json.Marshal(map[string]any{"command": []string{"sh", "-c", `echo "[$TERN_TEST_INHERITED][$TERN_TEST_SET]"`}})
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"nil: tern's own environment", nil, "[from tern][]"},
		{"set: exactly that", []string{"PATH=" + os.Getenv("PATH"), "TERN_TEST_SET=chosen"}, "[][chosen]"},
	} {
		s := &Set{Workspace: ws, Policy: sandbox.Policy{Mode: sandbox.DangerFullAccess, Workspace: ws},
			Plan: sandbox.Plan{Backend: sandbox.NoSandbox}, Env: tc.env}
		out, err := s.Call(context.Background(), "shell", args)
		if err != nil || !strings.HasPrefix(out, tc.want+"\n") {
			t.Errorf("%s: %q, %v; want %q", tc.name, out, err, tc.want)
		}
	}
}

package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// In a shell-less image such as tern's own, where PATH holds nothing but
// tern, a command is refused before any sandbox starts, with 127 and a
// message that names the image as the cause and the remedy, not an exec
// error.
func TestACommandInAShellLessImageNamesTheRemedy(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, filepath.Base(self)), b, 0o755); err != nil {
		t.Fatal(err)
	}
	pl := Plan{Backend: Landlock, LandlockABI: 1}
	policy := Policy{Mode: ReadOnly, Workspace: t.TempDir()}
	code, err := pl.Run(context.Background(), policy, Command{Argv: []string{"true"}, Env: []string{"PATH=" + bin}})
	if code != ExitCommandNotFound || err == nil {
		t.Fatalf("code %d, err %v; want 127 and an error", code, err)
	}
	for _, want := range []string{"true: command not found: PATH (" + bin + ") holds no program but tern", "no shell or tools", "COPY --from=<tern's image> /bin/tern /usr/local/bin/tern"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}

	// Where PATH holds other programs, a missing one is just missing.
	if err := os.WriteFile(filepath.Join(bin, "ls"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = pl.Run(context.Background(), policy, Command{Argv: []string{"true"}, Env: []string{"PATH=" + bin}})
	if err == nil || err.Error() != "true: command not found on PATH" {
		t.Errorf("with another program on PATH: %v", err)
	}
}

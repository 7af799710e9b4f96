package testuser

import (
	"os/exec"
	"os/user"
	"strings"
	"testing"
)

// The user exists during the test, commands run as it, and it is gone
// when the test ends.
func TestCreateMakesAUserThatCleanupDeletes(t *testing.T) {
	var name string
	t.Run("create", func(t *testing.T) {
		u := Create(t)
		name = u.Name
		cmd := exec.Command("id", "-un")
		u.RunAs(cmd)
		out, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(out)) != u.Name {
			t.Fatalf("id -un as %s: %q, %v", u.Name, out, err)
		}
	})
	if name == "" {
		t.Skip("no user was made")
	}
	if _, err := user.Lookup(name); err == nil {
		t.Errorf("user %s outlived the test that made it", name)
	}
}

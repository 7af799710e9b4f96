package sandbox

import (
	"os"
	"testing"
)

// TestMain lets this test binary play tern's own Landlock roles, as tern's
// main does: the Landlock backend re-executes /proc/self/exe.
func TestMain(m *testing.M) {
	RunIfLandlockChild()
	os.Exit(m.Run())
}

package sandbox

import (
	"os"
	"testing"
)

// TestMain lets this test binary play tern's own Landlock roles, as tern's
// main does: the Landlock backend re-executes /proc/self/exe. It also plays
// tern itself for the fallback tests.
func TestMain(m *testing.M) {
	RunIfLandlockChild()
	runIfFallbackChild()
	os.Exit(m.Run())
}

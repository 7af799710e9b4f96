package release

import (
	"context"
	"strings"
	"testing"
)

// The zero Step is no step: forgetting Until is an error before anything
// is built, not a release silently cut short after staging.
func TestZeroStepIsNoStep(t *testing.T) {
	if _, err := Run(context.Background(), Options{Root: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no such last step 0") {
		t.Fatalf("Run with no Until: %v", err)
	}
	if _, err := Merge(context.Background(), MergeOptions{Root: t.TempDir(), Handoffs: []string{"x"}}); err == nil || !strings.Contains(err.Error(), "no such last step 0") {
		t.Fatalf("Merge with no Until: %v", err)
	}
}

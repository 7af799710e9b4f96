// Package helperbuildtest builds real helpers for tests.
package helperbuildtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tern-agent/tern/packager/internal/helperbuild"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
)

// Bwrap is the static bwrap that root's third_party/bubblewrap builds for
// target, from the source cache. Without the source the test skips, or
// fails under TERN_TEST_REQUIRE_TOOLS=1, naming `make helpers-source`.
func Bwrap(t testing.TB, root, target string) []byte {
	t.Helper()
	m, err := thirdparty.LoadManifest(filepath.Join(root, "third_party", "bubblewrap", "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cache, err := thirdparty.DefaultCache()
	if err != nil {
		t.Fatal(err)
	}
	if !cache.Has(m.Source.SHA256) {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("the bubblewrap source is not in %s (TERN_TEST_REQUIRE_TOOLS=1): make helpers-source", cache.Dir)
		}
		t.Skipf("the bubblewrap source is not in %s: make helpers-source", cache.Dir)
	}
	b := helperbuild.Builder{Cache: cache, Out: t.TempDir(), Log: io.Discard}
	sum, err := b.Build(context.Background(), m, target)
	if err != nil {
		t.Fatalf("building bwrap: %v", err)
	}
	data, err := os.ReadFile(b.Output(m, target))
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		t.Fatalf("bwrap's sha256 changed on the way")
	}
	return data
}

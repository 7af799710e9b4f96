package thirdparty

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestFetchKeepsOnlyTheRightBytes(t *testing.T) {
	good := []byte("the pinned tarball")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/evil":
			w.Write([]byte("a tampered tarball"))
		case "/good":
			w.Write(good)
		}
	}))
	defer srv.Close()
	cache := Cache{Dir: t.TempDir()}
	sha := digest(good)

	err := cache.Fetch(context.Background(), srv.Client(), []string{srv.URL + "/missing", srv.URL + "/evil"}, sha)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "has sha256 "+digest([]byte("a tampered tarball"))+", want "+sha) {
		t.Fatalf("no good source: %v, want each URL's failure with both digests", err)
	}
	if cache.Has(sha) {
		t.Fatal("the cache kept bytes whose digest did not match")
	}
	if entries, _ := os.ReadDir(filepath.Join(cache.Dir, "sha256")); len(entries) != 0 {
		t.Fatalf("refused bytes were left in the cache: %v", entries)
	}

	if err := cache.Fetch(context.Background(), srv.Client(), []string{srv.URL + "/missing", srv.URL + "/evil", srv.URL + "/good"}, sha); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(cache.Path(sha)); string(b) != string(good) || !cache.Has(sha) {
		t.Fatal("the good bytes are not in the cache under their digest")
	}
}

func TestPrimeFromChecksTheDigest(t *testing.T) {
	cache := Cache{Dir: t.TempDir()}
	local := filepath.Join(t.TempDir(), "bubblewrap_0.8.0.orig.tar.xz")
	os.WriteFile(local, []byte("not the tarball"), 0o644)
	want := strings.Repeat("a", 64)
	err := cache.PrimeFrom(local, want)
	var mismatch *MismatchError
	if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), digest([]byte("not the tarball"))) {
		t.Fatalf("err = %v, want a mismatch naming both digests", err)
	}
	if err := cache.PrimeFrom(local, digest([]byte("not the tarball"))); err != nil || !cache.Has(digest([]byte("not the tarball"))) {
		t.Fatalf("a matching file: %v", err)
	}
}

func TestRepositoryManifestsLoad(t *testing.T) {
	ms, err := Load(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bw, err := ForBinary(ms, "bwrap")
	if err != nil || bw.Version != "0.8.0" || bw.Source.SHA256 != "957ad1149db9033db88e988b12bcebe349a445e1efc8a9b59ad2939a113d333a" || bw.License != "LGPL-2.0-or-later" {
		t.Fatalf("bubblewrap manifest: %+v, %v", bw, err)
	}
	lock, err := bw.Lock()
	if err != nil || len(lock["linux-x64"]) != 64 || len(lock["linux-arm64"]) != 64 {
		t.Fatalf("bubblewrap lock: %v, %v", lock, err)
	}
}

// The default cache is named for the packager, not for a product it
// releases.
func TestDefaultCacheIsThePackagers(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache")) // Linux and the BSDs
	t.Setenv("HOME", home)                                   // macOS: ~/Library/Caches
	t.Setenv("LocalAppData", filepath.Join(home, "appdata")) // Windows
	c, err := DefaultCache()
	if err != nil {
		t.Fatal(err)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(base, "packager", "sources"); c.Dir != want {
		t.Fatalf("DefaultCache is %s, want %s", c.Dir, want)
	}
	if !strings.HasPrefix(c.Dir, home) {
		t.Fatalf("DefaultCache %s is not under the user's cache directory %s", c.Dir, base)
	}
}

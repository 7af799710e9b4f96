package thirdparty

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tern-agent/tern/packager/internal/fileutil"
)

// Cache is a content-addressed store of source tarballs: a file lives at
// <dir>/sha256/<digest> and nowhere else, so its name is its checksum. Bytes
// enter only after their digest matched.
type Cache struct{ Dir string }

// DefaultCache is <user cache dir>/packager/sources, shared by every clone
// and every project the packager releases: it is named for the packager,
// which fills it, not for one product, and a blob is the same bytes
// whichever project pins its digest.
func DefaultCache() (Cache, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return Cache{}, fmt.Errorf("no user cache directory (set HOME or XDG_CACHE_HOME): %w", err)
	}
	return Cache{Dir: filepath.Join(dir, "packager", "sources")}, nil
}

// Path is where the blob with this digest lives (whether or not it does).
func (c Cache) Path(sha string) string { return filepath.Join(c.Dir, "sha256", sha) }

// Has reports whether the blob is cached and still has its digest.
func (c Cache) Has(sha string) bool {
	got, _, err := fileutil.SHA256File(c.Path(sha))
	return err == nil && got == sha
}

// MismatchError is a digest mismatch; it is always an error, never a warning.
type MismatchError struct {
	What, Want, Got string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s has sha256 %s, want %s: refusing it", e.What, e.Got, e.Want)
}

// PrimeFrom copies a local file into the cache after checking its digest.
func (c Cache) PrimeFrom(path, sha string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.put(f, path, sha)
}

// Fetch downloads the blob from the URLs in order until one gives the right
// bytes. Every failure is kept, so the final error says what each URL did.
func (c Cache) Fetch(ctx context.Context, client *http.Client, urls []string, sha string) error {
	if c.Has(sha) {
		return nil
	}
	var failures []string
	for _, u := range urls {
		err := c.fetchOne(ctx, client, u, sha)
		if err == nil {
			return nil
		}
		failures = append(failures, fmt.Sprintf("%s: %v", u, err))
	}
	if len(urls) == 0 {
		failures = append(failures, "the manifest lists no URL")
	}
	return errors.New("no source gave sha256 " + sha + ":\n  " + strings.Join(failures, "\n  "))
}

func (c Cache) fetchOne(ctx context.Context, client *http.Client, url, sha string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return c.put(resp.Body, url, sha)
}

// put streams r into the cache, keeping it only if its digest is sha.
func (c Cache) put(r io.Reader, what, sha string) error {
	return fileutil.WriteAtomic(c.Path(sha), func(w io.Writer) error {
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), r); err != nil {
			return fmt.Errorf("reading %s: %w", what, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != sha {
			return &MismatchError{What: what, Want: sha, Got: got}
		}
		return nil
	})
}

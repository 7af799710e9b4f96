package helperbin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree makes <root>/bin/tern and, when withHelper, <root>/libexec/tern/bwrap.
func tree(t *testing.T, withHelper bool) (root string) {
	t.Helper()
	root = t.TempDir()
	mustWrite(t, filepath.Join(root, "bin", "tern"), 0o755)
	if withHelper {
		mustWrite(t, filepath.Join(root, "libexec", "tern", "bwrap"), 0o755)
	}
	return root
}

func mustWrite(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
		t.Fatal(err)
	}
}

type fakeWorld struct {
	env     map[string]string
	exe     string
	onPath  string
	version string
}

func (w fakeWorld) finder() Finder {
	return Finder{
		Getenv:     func(k string) string { return w.env[k] },
		Executable: func() (string, error) { return w.exe, nil },
		LookPath: func(string) (string, error) {
			if w.onPath == "" {
				return "", errors.New("not found")
			}
			return w.onPath, nil
		},
		Version: func(string) (string, error) { return w.version, nil },
	}
}

func TestFindBwrapOrder(t *testing.T) {
	withHelper := tree(t, true)
	without := tree(t, false)
	override := filepath.Join(t.TempDir(), "my-bwrap")
	mustWrite(t, override, 0o755)

	for _, tc := range []struct {
		name       string
		world      fakeWorld
		wantPath   string
		wantSource Source
	}{
		{"env wins over everything",
			fakeWorld{env: map[string]string{EnvBwrap: override}, exe: filepath.Join(withHelper, "bin", "tern"), onPath: "/usr/bin/bwrap", version: "0.8.0"},
			override, FromEnv},
		{"bundled wins over PATH",
			fakeWorld{exe: filepath.Join(withHelper, "bin", "tern"), onPath: "/usr/bin/bwrap", version: "0.8.0"},
			filepath.Join(withHelper, "libexec", "tern", "bwrap"), Bundled},
		{"PATH when nothing is bundled",
			fakeWorld{exe: filepath.Join(without, "bin", "tern"), onPath: "/usr/bin/bwrap", version: "0.8.0"},
			"/usr/bin/bwrap", FromPath},
		{"PATH at exactly the minimum",
			fakeWorld{exe: filepath.Join(without, "bin", "tern"), onPath: "/usr/bin/bwrap", version: MinBwrapVersion},
			"/usr/bin/bwrap", FromPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tc.world.finder().FindBwrap()
			if err != nil {
				t.Fatal(err)
			}
			if h.Path != tc.wantPath || h.Source != tc.wantSource {
				t.Fatalf("got %s (%s), want %s (%s)", h.Path, h.Source, tc.wantPath, tc.wantSource)
			}
		})
	}
}

func TestFindBwrapRejectsOldBwrapOnPath(t *testing.T) {
	w := fakeWorld{exe: filepath.Join(tree(t, false), "bin", "tern"), onPath: "/usr/bin/bwrap", version: "0.3.3"}
	_, err := w.finder().FindBwrap()
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v, want *NotFoundError", err)
	}
	if !strings.Contains(err.Error(), "0.3.3 is older than the minimum "+MinBwrapVersion) {
		t.Fatalf("error does not explain the version: %v", err)
	}
}

func TestFindBwrapNotFoundListsEveryPlace(t *testing.T) {
	root := tree(t, false)
	w := fakeWorld{exe: filepath.Join(root, "bin", "tern")}
	_, err := w.finder().FindBwrap()
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Tried) != 3 {
		t.Fatalf("err = %#v, want a NotFoundError with three places tried", err)
	}
	if !strings.Contains(err.Error(), filepath.Join(root, "libexec", "tern", "bwrap")) {
		t.Fatalf("error does not name the bundled path: %v", err)
	}
}

func TestFindBwrapBadOverrideIsAnError(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "bwrap")
	mustWrite(t, notExec, 0o644)
	for _, p := range []string{"/nonexistent/bwrap", notExec, t.TempDir()} {
		w := fakeWorld{env: map[string]string{EnvBwrap: p}, exe: filepath.Join(tree(t, true), "bin", "tern"), onPath: "/usr/bin/bwrap", version: "0.8.0"}
		_, err := w.finder().FindBwrap()
		if err == nil || !strings.Contains(err.Error(), EnvBwrap+"="+p) || !strings.Contains(err.Error(), "unset it") {
			t.Errorf("TERN_BWRAP=%s: err = %v, want an error naming the variable and the remedy", p, err)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"0.8.0", "0.4.1", 1},
		{"0.4.1", "0.4.1", 0},
		{"0.4", "0.4.1", -1},
		{"0.11.0", "0.9.0", 1},
		{"1.0", "0.99.99", 1},
	} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestBwrapVersionParsesOutput(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "bwrap")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'bubblewrap 0.8.0'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	v, err := BwrapVersion(fake)
	if err != nil || v != "0.8.0" {
		t.Fatalf("BwrapVersion = %q, %v; want 0.8.0", v, err)
	}
}

func TestShippedHelperIsCheckedAgainstTheBuildsDigest(t *testing.T) {
	root := tree(t, true)
	bundled := filepath.Join(root, "libexec", "tern", "bwrap")
	good, _ := os.ReadFile(bundled)
	sum := sha256.Sum256(good)
	want := hex.EncodeToString(sum[:])
	w := fakeWorld{exe: filepath.Join(root, "bin", "tern"), onPath: "/usr/bin/bwrap", version: "0.8.0"}
	f := w.finder()
	f.ExpectedSHA256 = func(string) string { return want }

	h, err := f.FindBwrap()
	if err != nil || !h.Verified || h.SHA256 != want || !strings.HasPrefix(h.ExecPath(), "/proc/self/fd/") {
		t.Fatalf("a matching helper: %+v (exec %s), %v", h, h.ExecPath(), err)
	}

	flipped := append([]byte(nil), good...)
	flipped[0] ^= 0xff
	if err := os.WriteFile(bundled, flipped, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = f.FindBwrap()
	var mismatch *DigestMismatchError
	if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), "reinstall tern") {
		t.Fatalf("a helper with a flipped byte: %v, want a DigestMismatchError naming the remedy", err)
	}

	// A dev build records no digest and checks nothing.
	f.ExpectedSHA256 = func(string) string { return "" }
	if h, err := f.FindBwrap(); err != nil || h.Verified || h.ExecPath() != bundled {
		t.Fatalf("a dev build: %+v, %v", h, err)
	}
}

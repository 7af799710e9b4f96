// Package helperbin finds the native helper binaries that tern runs, today only
// bwrap (bubblewrap), the Linux sandbox.
//
// Every release target ships one tree, whichever door installs it (archive,
// npm platform package, container image):
//
//	bin/tern[.exe]
//	libexec/tern/<helpers>
//	LICENSE
//	THIRD_PARTY_NOTICES.md
//
// FindBwrap looks, in this order, at
//
//  1. the TERN_BWRAP environment variable: an explicit choice, so a bad
//     value is an error rather than a reason to look elsewhere;
//  2. libexec/tern/bwrap in the tree the running binary was installed from,
//     found by resolving the binary's own path through symlinks (an
//     installer's ~/.local/bin/tern link, npm's bin link);
//  3. bwrap on PATH, taken only if its version is at least MinBwrapVersion.
//
// A shipped helper is ours, so a release build knows its sha256 (stamped at
// link time). FindBwrap opens it, checks that digest on the open file and
// keeps the file open: the sandbox then executes that very descriptor
// (/proc/self/fd/N), so nothing can swap the file between check and exec. A
// mismatch is an error, never a reason to look elsewhere. Helpers named by
// TERN_BWRAP or found on PATH are not ours and are not digest-checked.
//
// This package never runs a helper for any other purpose than asking its
// version, and never decides whether sandboxing is possible: that is the
// sandbox package's job.
package helperbin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tern-agent/tern/agent/internal/buildinfo"
)

// EnvBwrap names the environment variable that overrides bwrap discovery.
const EnvBwrap = "TERN_BWRAP"

// MinBwrapVersion is the oldest bwrap taken from PATH. 0.4.1 fixed
// CVE-2020-5291 (privilege escalation in setuid installs), and every flag the
// sandbox passes exists there.
const MinBwrapVersion = "0.4.1"

// Source says how a helper was found.
type Source string

const (
	FromEnv   Source = "env"     // named by TERN_BWRAP
	Bundled   Source = "bundled" // shipped in libexec/tern beside the binary
	FromPath  Source = "path"    // found on PATH
	NotFound  Source = ""        // not found at all
	helperDir        = "libexec/tern"
)

// Helper is a helper binary that was found.
type Helper struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Source  Source `json:"source"`
	Version string `json:"version,omitempty"` // filled when it was checked
	// SHA256 is filled when the digest was checked against the build's.
	SHA256   string `json:"sha256,omitempty"`
	Verified bool   `json:"verified"`

	file *os.File // the verified helper, held open to be executed as is
}

// ExecPath is the path to execute: the verified open file when there is one.
func (h Helper) ExecPath() string {
	if h.file != nil {
		return fmt.Sprintf("/proc/self/fd/%d", h.file.Fd())
	}
	return h.Path
}

// DigestMismatchError says a shipped helper is not the one tern was built
// with.
type DigestMismatchError struct {
	Path, Want, Got string
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("the helper shipped with tern, %s, has sha256 %s, but this tern was built with %s: "+
		"the installation is damaged or was tampered with; reinstall tern", e.Path, e.Got, e.Want)
}

// Candidate is a place that was looked at, with the reason it was passed
// over; doctor and error messages print these so a user sees the whole search.
type Candidate struct {
	Path   string `json:"path"`
	Source Source `json:"source"`
	Reason string `json:"reason"`
}

// NotFoundError lists every place FindBwrap looked.
type NotFoundError struct {
	Name  string
	Tried []Candidate
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s not found", e.Name)
	for _, c := range e.Tried {
		fmt.Fprintf(&b, "; %s %s: %s", c.Source, c.Path, c.Reason)
	}
	return b.String()
}

// Finder holds what discovery depends on, so tests can fake the environment.
// The zero value is not usable; use System.
type Finder struct {
	Getenv     func(string) string
	Executable func() (string, error)
	LookPath   func(string) (string, error)
	Version    func(path string) (string, error)
	// ExpectedSHA256 gives the digest a shipped helper must have, "" for none.
	ExpectedSHA256 func(name string) string
}

// System is the Finder for the running process.
var System = Finder{
	Getenv:         os.Getenv,
	Executable:     Executable,
	LookPath:       exec.LookPath,
	Version:        BwrapVersion,
	ExpectedSHA256: buildinfo.HelperSHA256,
}

// FindBwrap finds bwrap for the running binary; see the package comment for
// the order. It returns a *NotFoundError when no usable bwrap exists, and a
// plain error when TERN_BWRAP names something unusable.
func FindBwrap() (Helper, error) { return System.FindBwrap() }

// FindBwrap is FindBwrap with this Finder's view of the world.
func (f Finder) FindBwrap() (Helper, error) {
	const name = "bwrap"
	if p := f.Getenv(EnvBwrap); p != "" {
		if err := checkExecutable(p); err != nil {
			return Helper{}, fmt.Errorf("%s=%s: %w; point it at a bwrap binary or unset it", EnvBwrap, p, err)
		}
		return Helper{Name: name, Path: p, Source: FromEnv}, nil
	}

	var tried []Candidate
	tried = append(tried, Candidate{Source: FromEnv, Path: EnvBwrap, Reason: "not set"})

	if dir, err := f.bundledDir(); err != nil {
		tried = append(tried, Candidate{Source: Bundled, Reason: err.Error()})
	} else {
		p := filepath.Join(dir, name)
		if err := checkExecutable(p); err != nil {
			tried = append(tried, Candidate{Source: Bundled, Path: p, Reason: err.Error()})
		} else {
			return f.openBundled(name, p)
		}
	}

	p, err := f.LookPath(name)
	if err != nil {
		tried = append(tried, Candidate{Source: FromPath, Path: name, Reason: "not on PATH"})
		return Helper{}, &NotFoundError{Name: name, Tried: tried}
	}
	v, err := f.Version(p)
	if err != nil {
		tried = append(tried, Candidate{Source: FromPath, Path: p, Reason: err.Error()})
		return Helper{}, &NotFoundError{Name: name, Tried: tried}
	}
	if CompareVersions(v, MinBwrapVersion) < 0 {
		tried = append(tried, Candidate{Source: FromPath, Path: p,
			Reason: fmt.Sprintf("version %s is older than the minimum %s", v, MinBwrapVersion)})
		return Helper{}, &NotFoundError{Name: name, Tried: tried}
	}
	return Helper{Name: name, Path: p, Source: FromPath, Version: v}, nil
}

// openBundled opens a shipped helper and, when the build recorded its
// digest, checks it on the open file.
func (f Finder) openBundled(name, p string) (Helper, error) {
	h := Helper{Name: name, Path: p, Source: Bundled}
	want := ""
	if f.ExpectedSHA256 != nil {
		want = f.ExpectedSHA256(name)
	}
	if want == "" {
		return h, nil // a dev build: nothing to check against
	}
	file, err := os.Open(p)
	if err != nil {
		return Helper{}, err
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, file); err != nil {
		file.Close()
		return Helper{}, fmt.Errorf("reading %s: %w", p, err)
	}
	got := hex.EncodeToString(sum.Sum(nil))
	if got != want {
		file.Close()
		return Helper{}, &DigestMismatchError{Path: p, Want: want, Got: got}
	}
	h.SHA256, h.Verified, h.file = got, true, file
	return h, nil
}

// BundledDir is libexec/tern in the tree the running binary belongs to.
func BundledDir() (string, error) { return System.bundledDir() }

func (f Finder) bundledDir() (string, error) {
	exe, err := f.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot locate the tern binary: %w", err)
	}
	// exe is <root>/bin/tern; helpers live in <root>/libexec/tern.
	return filepath.Join(filepath.Dir(filepath.Dir(exe)), filepath.FromSlash(helperDir)), nil
}

// Executable is the running binary's path with every symlink resolved, so a
// link in ~/.local/bin or node_modules/.bin leads back to the installed tree.
func Executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(exe)
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return errors.New("no such file")
	case err != nil:
		return err
	case st.IsDir():
		return errors.New("is a directory")
	case st.Mode()&0o111 == 0:
		return errors.New("not executable")
	}
	return nil
}

// BwrapVersion runs `bwrap --version` and returns the version it prints
// ("bubblewrap 0.8.0" gives "0.8.0").
func BwrapVersion(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("`%s --version` failed: %w", path, err)
	}
	// The first word that starts with a digit: "bubblewrap 0.8.0" gives 0.8.0.
	for _, word := range strings.Fields(string(out)) {
		if word[0] >= '0' && word[0] <= '9' && strings.Contains(word, ".") {
			return word, nil
		}
	}
	return "", fmt.Errorf("`%s --version` printed no version: %q", path, out)
}

// CompareVersions compares dotted numeric versions such as "0.8.0" and
// "0.11"; missing parts count as zero. It returns -1, 0 or 1.
func CompareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Package helperbuild builds the native helper binaries shipped in
// libexec/<product>/ from third_party/: it takes the pinned source from the
// content-addressed cache, unpacks it safely, applies the checked patches,
// runs the recipe, and holds the result to the lock. A result that differs
// from the lock is an error showing both digests; only an explicit
// --update-lock changes the lock.
package helperbuild

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/safeextract"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
)

// sourceDateEpoch is the time handed to recipes. It is a constant, not the
// commit time, because a helper's bytes must depend on its source alone.
const sourceDateEpoch = 315532800 // 1980-01-01

// Builder builds helpers into Out/<target>/<binary>.
type Builder struct {
	Cache      thirdparty.Cache
	Out        string // dist/helpers
	Log        io.Writer
	UpdateLock bool
}

// Output is where a helper for a target lands.
func (b Builder) Output(m *thirdparty.Manifest, target string) string {
	return filepath.Join(b.Out, target, m.Binary)
}

// LicenseFile is where the helper's licence text lands.
func (b Builder) LicenseFile(m *thirdparty.Manifest) string {
	return filepath.Join(b.Out, m.Name+"-"+m.Version+".license")
}

// Ensure returns a helper artifact for target, building it unless an
// output matching the lock is already there.
func (b Builder) Ensure(ctx context.Context, m *thirdparty.Manifest, target string) (artifact.Artifact, error) {
	lock, err := m.Lock()
	if err != nil {
		return artifact.Artifact{}, err
	}
	out := b.Output(m, target)
	sum, _, err := fileutil.SHA256File(out)
	_, licErr := os.Stat(b.LicenseFile(m))
	if err != nil || licErr != nil || sum != lock[target] || b.UpdateLock {
		if sum, err = b.Build(ctx, m, target); err != nil {
			return artifact.Artifact{}, err
		}
	}
	return artifact.Artifact{
		Name: m.Binary, Path: out, Kind: artifact.Helper, Target: target,
		Version:     m.Version,
		Source:      &artifact.Source{URL: firstOr(m.Source.URLs, m.Homepage), SHA256: m.Source.SHA256, License: m.License},
		LicenseFile: b.LicenseFile(m),
	}, nil
}

// Build builds m for target and checks the result against the lock.
func (b Builder) Build(ctx context.Context, m *thirdparty.Manifest, target string) (string, error) {
	t, ok := m.Targets[target]
	if !ok {
		return "", fmt.Errorf("%s has no build for %s in %s", m.Name, target, filepath.Join(m.Dir, "manifest.yaml"))
	}
	if !b.Cache.Has(m.Source.SHA256) {
		return "", fmt.Errorf("the %s %s source (sha256 %s) is not in %s: run `packager helpers fetch` or `make helpers-source`",
			m.Name, m.Version, m.Source.SHA256, b.Cache.Dir)
	}
	if err := os.MkdirAll(b.Out, 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(b.Out, ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	fmt.Fprintf(b.Log, "  building %s %s for %s\n", m.Binary, m.Version, target)

	if err := safeextract.File(b.Cache.Path(m.Source.SHA256), work, safeextract.DefaultLimits); err != nil {
		return "", err
	}
	src := filepath.Join(work, filepath.FromSlash(m.Source.Root))
	if err := applyPatches(ctx, m, src); err != nil {
		return "", err
	}
	if err := writeLicense(m, src, b.LicenseFile(m)); err != nil {
		return "", err
	}

	out := b.Output(m, target)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	built := filepath.Join(work, m.Binary)
	cmd := exec.CommandContext(ctx, "sh", filepath.Join(m.Dir, m.Recipe))
	cmd.Dir = src
	cmd.Env = append(os.Environ(),
		"HOST="+t.Host,
		"OUT="+built,
		"SOURCE_DATE_EPOCH="+strconv.Itoa(sourceDateEpoch),
		"JOBS="+strconv.Itoa(runtime.NumCPU()),
		"LC_ALL=C", "TZ=UTC")
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building %s for %s: %v\n%s\n(the Debian packages it needs: %s)", m.Name, target, err, log.String(), strings.Join(t.Debs, " "))
	}
	sum, _, err := fileutil.SHA256File(built)
	if err != nil {
		return "", err
	}
	if err := b.checkLock(m, target, sum); err != nil {
		return "", err
	}
	if err := os.Rename(built, out); err != nil {
		return "", err
	}
	return sum, nil
}

func (b Builder) checkLock(m *thirdparty.Manifest, target, sum string) error {
	lock, err := m.Lock()
	if err != nil {
		return err
	}
	if lock[target] == sum {
		return nil
	}
	if b.UpdateLock {
		lock[target] = sum
		fmt.Fprintf(b.Log, "  %s: lock for %s is now %s\n", m.LockPath(), target, sum)
		return m.WriteLock(lock)
	}
	return fmt.Errorf("%s for %s built to sha256 %s, but %s expects %s: the build is not what was locked; "+
		"if the change is deliberate, run `packager helpers build --update-lock`", m.Binary, target, sum, m.LockPath(), orNone(lock[target]))
}

// applyPatches checks each patch's digest, then applies it.
func applyPatches(ctx context.Context, m *thirdparty.Manifest, src string) error {
	for _, p := range m.Patches {
		path := filepath.Join(m.Dir, filepath.FromSlash(p.File))
		sum, _, err := fileutil.SHA256File(path)
		if err != nil {
			return fmt.Errorf("patch %s: %w", p.File, err)
		}
		if sum != p.SHA256 {
			return &thirdparty.MismatchError{What: "patch " + path, Want: p.SHA256, Got: sum}
		}
		cmd := exec.CommandContext(ctx, "patch", "-p1", "--forward", "--batch", "--input", path)
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("applying %s (%s): %v\n%s", p.File, p.Reason, err, out)
		}
	}
	return nil
}

func writeLicense(m *thirdparty.Manifest, src, to string) error {
	var text []string
	for _, f := range m.LicenseFiles {
		b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(f)))
		if err != nil {
			return fmt.Errorf("the licence file %s of %s: %w", f, m.Name, err)
		}
		text = append(text, string(b))
	}
	return os.WriteFile(to, []byte(strings.Join(text, "\n")), 0o644)
}

func firstOr(list []string, fallback string) string {
	if len(list) > 0 {
		return list[0]
	}
	return fallback
}

func orNone(s string) string {
	if s == "" {
		return "nothing yet"
	}
	return s
}

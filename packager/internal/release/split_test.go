package release

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/handoff"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/version"
)

// The split halves, as two build machines and a merge machine run them.
var (
	unixTargets    = []string{"linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"}
	windowsTargets = []string{"windows-x64", "windows-arm64"}
)

func buildHandoff(t *testing.T, repo string, targets []string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "handoff")
	var log bytes.Buffer
	_, err := Build(context.Background(), BuildOptions{
		Root: repo, Snapshot: true, ReuseBuild: true, SourceCache: fixtureCache,
		Targets: targets, Out: out, Log: &log,
	})
	if err != nil {
		t.Fatalf("build %v: %v\n%s", targets, err, log.String())
	}
	return out
}

func runMerge(t *testing.T, repo string, o MergeOptions, handoffs ...string) (string, error) {
	t.Helper()
	var log bytes.Buffer
	o.Root, o.Handoffs, o.Log, o.Snapshot, o.Until = repo, handoffs, &log, true, Verify
	_, err := Merge(context.Background(), o)
	return log.String(), err
}

// Two machines each build half the targets, a third merges: the release is
// the one-machine release, byte for byte.
func TestSplitReleaseIsTheOneMachineRelease(t *testing.T) {
	key, _ := testKey(t)
	signing := sign.Options{Key: key, Password: []byte("secret")}
	oneShot := readFile(t, filepath.Join(mustRelease(t, newRepo(t), Options{Snapshot: true, Sign: signing}), "SHA256SUMS"))

	unix := buildHandoff(t, newRepo(t), unixTargets)
	windows := buildHandoff(t, newRepo(t), windowsTargets)
	merger := newRepo(t)
	os.RemoveAll(filepath.Join(merger, "dist")) // no build, no helpers: the merge machine has none
	if log, err := runMerge(t, merger, MergeOptions{Sign: signing}, unix, windows); err != nil {
		t.Fatalf("merge: %v\n%s", err, log)
	}
	split := readFile(t, filepath.Join(merger, "dist", "release", "SHA256SUMS"))
	if split != oneShot {
		t.Fatalf("the split release differs from the one-machine release:\nsplit:\n%s\none machine:\n%s", split, oneShot)
	}
}

// A handoff that was cut, edited or made elsewhere never reaches a
// signature: merge names the handoff, the file and the reason, and leaves
// the previous release as it was.
func TestMergeRefusesBadHandoffsAndKeepsThePreviousRelease(t *testing.T) {
	unix := buildHandoff(t, newRepo(t), unixTargets)
	windows := buildHandoff(t, newRepo(t), windowsTargets)
	windowsX64 := buildHandoff(t, newRepo(t), windowsTargets[:1])

	// A handoff of another commit: same binaries, manifest of a later commit.
	later := newRepo(t)
	for _, args := range [][]string{{"-c", "user.name=x", "-c", "user.email=x@example.com", "commit", "-q", "--allow-empty", "-m", "later"}} {
		if out, err := run(t, later, nil, "git", args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	otherCommit := buildHandoff(t, later, windowsTargets)
	laterInfo, err := version.FromGit(later, true)
	if err != nil {
		t.Fatal(err)
	}
	fixtureInfo, err := version.FromGit(newRepo(t), true)
	if err != nil {
		t.Fatal(err)
	}

	merger := newRepo(t)
	if log, err := runMerge(t, merger, MergeOptions{}, unix, windows); err != nil {
		t.Fatalf("merge: %v\n%s", err, log)
	}
	before := readFile(t, filepath.Join(merger, "dist", "release", "SHA256SUMS"))

	copyHandoff := func(t *testing.T, from string) string {
		to := filepath.Join(t.TempDir(), filepath.Base(from))
		if err := os.CopyFS(to, os.DirFS(from)); err != nil {
			t.Fatal(err)
		}
		return to
	}
	for _, tc := range []struct {
		name string
		// handoffs returns the handoffs to merge and the one to blame.
		handoffs func(t *testing.T) (list []string, blamed string)
		want     string
	}{
		{"a flipped byte in a staged binary", func(t *testing.T) ([]string, string) {
			h := copyHandoff(t, unix)
			p := filepath.Join(h, "stage", "linux-x64", "bin", "tern")
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0x01
			os.WriteFile(p, b, 0o755)
			return []string{h, windows}, h
		}, "stage/linux-x64/bin/tern: has sha256 "},
		{"a handoff from another commit", func(t *testing.T) ([]string, string) {
			return []string{unix, otherCommit}, otherCommit
		}, "commit: is " + laterInfo.Commit + ", but this checkout is at " + fixtureInfo.Commit},
		{"a binary stamped with another commit", func(t *testing.T) ([]string, string) {
			h := copyHandoff(t, windows)
			tg, _ := cfg(t).Target("windows-x64")
			src := filepath.Join(fixtureBins, "src")
			stamp := "@(#)version=" + fixtureVersion + ";commit=" + laterInfo.Commit + ";date=" + fixtureCommitDate + ";bwrap_sha256="
			if err := buildFixtureStamp(src, filepath.Join(h, "stage", "windows-x64", "bin", "tern.exe"), tg, stamp); err != nil {
				t.Fatal(err)
			}
			resealHandoff(t, h) // a consistent manifest: only the stamp gives it away
			return []string{unix, h}, h
		}, "stage/windows-x64/bin/tern.exe: is stamped with commit " + laterInfo.Commit + ", the handoff is of commit " + fixtureInfo.Commit},
		{"a handoff with an extra file", func(t *testing.T) ([]string, string) {
			h := copyHandoff(t, windows)
			writeFile(t, filepath.Join(h, "stage", "windows-x64", "bin", "extra.dll"), "MZ")
			return []string{unix, h}, h
		}, "stage/windows-x64/bin/extra.dll: is not listed in handoff.json"},
		{"a target present twice", func(t *testing.T) ([]string, string) {
			return []string{unix, windows, windowsX64}, windowsX64
		}, "targets: windows-x64 is also in handoff " + windows},
		{"a target missing", func(t *testing.T) ([]string, string) {
			return []string{unix, windowsX64}, ""
		}, "targets: no handoff has windows-arm64: build it (packager build --targets windows-arm64)"},
		{"an unreadable manifest", func(t *testing.T) ([]string, string) {
			h := copyHandoff(t, windows)
			p := filepath.Join(h, handoff.ManifestName)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
			return []string{unix, h}, h
		}, "handoff.json: is not a handoff manifest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, blamed := tc.handoffs(t)
			log, err := runMerge(t, merger, MergeOptions{}, list...)
			want := tc.want
			if blamed != "" {
				want = "handoff " + blamed + ": " + tc.want
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v\nwant it to say %q\n%s", err, want, log)
			}
			if after := readFile(t, filepath.Join(merger, "dist", "release", "SHA256SUMS")); after != before {
				t.Fatal("a refused merge changed the previous release")
			}
			if strings.Contains(log, "pack deterministic archives") {
				t.Fatalf("a refused handoff reached the pipeline:\n%s", log)
			}
			if leftovers, _ := filepath.Glob(filepath.Join(merger, "dist", ".release-*")); len(leftovers) > 0 {
				t.Fatalf("a refused merge left %v behind", leftovers)
			}
		})
	}
}

// resealHandoff rewrites a handoff's manifest over what the handoff now holds.
func resealHandoff(t *testing.T, dir string) {
	t.Helper()
	var m handoff.Manifest
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, handoff.ManifestName))), &m); err != nil {
		t.Fatal(err)
	}
	if err := handoff.Write(dir, m); err != nil {
		t.Fatal(err)
	}
}

// --allow-missing releases without a target, and the meta package does not
// name its platform package.
func TestMergeAllowMissingLeavesTheTargetOut(t *testing.T) {
	unix := buildHandoff(t, newRepo(t), unixTargets)
	merger := newRepo(t)
	if log, err := runMerge(t, merger, MergeOptions{AllowMissing: windowsTargets}, unix); err != nil {
		t.Fatalf("merge: %v\n%s", err, log)
	}
	dir := filepath.Join(merger, "dist", "release")
	sums := readFile(t, filepath.Join(dir, "SHA256SUMS"))
	if strings.Contains(sums, "windows") || strings.Contains(sums, "win32") {
		t.Fatalf("SHA256SUMS names a target left out:\n%s", sums)
	}
	c := cfg(t)
	meta := filepath.Join(dir, strings.ReplaceAll(strings.TrimPrefix(c.NPMMetaPackage(), "@"), "/", "-")+"-"+fixtureVersion+".tgz")
	deps := metaOptionalDependencies(t, meta)
	for _, tg := range c.Targets {
		_, named := deps[c.NPMPlatformPackage(tg)]
		if want := !strings.HasPrefix(tg.Name, "windows"); named != want {
			t.Errorf("optionalDependencies names %s: %v, want %v (%v)", c.NPMPlatformPackage(tg), named, want, deps)
		}
	}
}

func metaOptionalDependencies(t *testing.T, tgz string) map[string]any {
	t.Helper()
	f, err := os.Open(tgz)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range readTar(t, gz) {
		if m.hdr.Name == "package/package.json" {
			var pkg struct {
				OptionalDependencies map[string]any `json:"optionalDependencies"`
			}
			if err := json.Unmarshal(m.data, &pkg); err != nil {
				t.Fatal(err)
			}
			return pkg.OptionalDependencies
		}
	}
	t.Fatalf("%s has no package/package.json", tgz)
	return nil
}

// The merge machine needs no compiler: it never runs go or goreleaser.
func TestMergeRunsNoCompiler(t *testing.T) {
	unix := buildHandoff(t, newRepo(t), unixTargets)
	windows := buildHandoff(t, newRepo(t), windowsTargets)
	merger := newRepo(t)
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(git, filepath.Join(bin, "git")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin) // git alone
	if log, err := runMerge(t, merger, MergeOptions{}, unix, windows); err != nil {
		t.Fatalf("merge with git alone on PATH: %v\n%s", err, log)
	}
}

package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseTag(t *testing.T) {
	for _, tag := range []string{"v1.2.3", "v1.3.0-beta.2", "v0.0.1-rc.1+build.5"} {
		if _, err := ParseTag(tag); err != nil {
			t.Errorf("ParseTag(%q): %v", tag, err)
		}
	}
	for _, tag := range []string{"1.2.3", "v1.2", "vfoo", "v01.2.3", "v1.2.3-beta.01"} {
		_, err := ParseTag(tag)
		if err == nil || !strings.Contains(err.Error(), "release tags look like v1.2.3") {
			t.Errorf("ParseTag(%q) = %v, want a clear refusal", tag, err)
		}
	}
}

func TestSnapshotIsValidSemver(t *testing.T) {
	for _, commit := range []string{"02372f3241eccd128ad13d32de27f9c49f037fed", "0123456789012345678901234567890123456789"} {
		v := Snapshot(commit)
		if _, err := ParseTag("v" + v.String()); err != nil {
			t.Errorf("snapshot of %s = %s, not strict semver: %v", commit, v, err)
		}
		if !strings.HasPrefix(v.String(), "0.0.0-snapshot.") {
			t.Errorf("snapshot version %s", v)
		}
	}
}

func TestDistTag(t *testing.T) {
	for v, want := range map[string]string{"1.3.0-beta.2": "beta", "1.3.0": "latest", "0.0.0-snapshot.abc": "snapshot", "2.0.0-rc.1": "rc"} {
		tag, _ := ParseTag("v" + v)
		if got := (Info{Version: tag}).DistTag(); got != want {
			t.Errorf("DistTag(%s) = %s, want %s", v, got, want)
		}
	}
}

func gitRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init", "-q"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "one"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func tag(t *testing.T, dir, name string) {
	t.Helper()
	if out, err := exec.Command("git", "-C", dir, "tag", name).CombinedOutput(); err != nil {
		t.Fatalf("git tag: %v\n%s", err, out)
	}
}

func TestFromGit(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	dir := gitRepo(t)

	info, err := FromGit(dir, true)
	if err != nil || !info.Snapshot || !strings.HasPrefix(info.String(), "0.0.0-snapshot.") {
		t.Fatalf("untagged snapshot: %+v, %v", info, err)
	}
	if want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC); !info.Time.Equal(want) {
		t.Errorf("time = %v, want the commit time %v", info.Time, want)
	}
	if _, err := FromGit(dir, false); err == nil || !strings.Contains(err.Error(), "has no v* tag") {
		t.Errorf("untagged release: %v", err)
	}

	tag(t, dir, "v1.3.0-beta.2")
	info, err = FromGit(dir, false)
	if err != nil || info.String() != "1.3.0-beta.2" || info.Snapshot {
		t.Fatalf("tagged release: %+v, %v", info, err)
	}

	if err := os.WriteFile(filepath.Join(dir, "dirt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := FromGit(dir, false); err == nil || !strings.Contains(err.Error(), "uncommitted changes") {
		t.Errorf("dirty release: %v", err)
	}
	if info, _ := FromGit(dir, true); !info.Snapshot {
		t.Errorf("a dirty tree must be a snapshot")
	}
	os.Remove(filepath.Join(dir, "dirt"))

	tag(t, dir, "v1.2")
	if _, err := FromGit(dir, false); err == nil || !strings.Contains(err.Error(), "several release tags") {
		t.Errorf("two tags: %v", err)
	}
	exec.Command("git", "-C", dir, "tag", "-d", "v1.3.0-beta.2").Run()
	if _, err := FromGit(dir, false); err == nil || !strings.Contains(err.Error(), `tag "v1.2" is not a semantic version`) {
		t.Errorf("invalid tag: %v", err)
	}

	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if info, _ := FromGit(dir, true); info.Time.Unix() != 1700000000 {
		t.Errorf("SOURCE_DATE_EPOCH ignored: %v", info.Time)
	}
}

package gitpublish

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/doors/doorstest"
)

// Publishing the same files twice commits once: the second run says
// "unchanged" and leaves the branch where it was. New bytes commit again,
// on top, as the default identity unless the environment names another.
func TestPublishIsIdempotent(t *testing.T) {
	bare := doorstest.BareRepo(t)
	var log bytes.Buffer
	c := Change{URL: bare, Files: map[string][]byte{"Casks/tern.rb": []byte("one\n")}, Message: "tern 1.2.3", Log: &log}
	first, err := Publish(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Changed || first.Branch != "main" || doorstest.Commits(t, bare, "main") != "2" {
		t.Fatalf("first: %+v, %s commits", first, doorstest.Commits(t, bare, "main"))
	}
	if got := doorstest.Show(t, bare, "main", "Casks/tern.rb"); got != "one" {
		t.Errorf("Casks/tern.rb: %q", got)
	}
	if got := doorstest.Git(t, bare, "log", "-1", "--format=%an <%ae>|%s", "main"); got != "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>|tern 1.2.3" {
		t.Errorf("author and message: %s", got)
	}
	second, err := Publish(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if second.Changed || second.Commit != first.Commit || doorstest.Commits(t, bare, "main") != "2" {
		t.Errorf("second: %+v, %s commits", second, doorstest.Commits(t, bare, "main"))
	}
	if !strings.Contains(log.String(), "main: unchanged, nothing pushed") {
		t.Errorf("log:\n%s", log.String())
	}

	t.Setenv("GIT_AUTHOR_NAME", "Release Bot")
	t.Setenv("GIT_AUTHOR_EMAIL", "bot@example.com")
	c.Files["Casks/tern.rb"] = []byte("two\n")
	third, err := Publish(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !third.Changed || doorstest.Commits(t, bare, "main") != "3" {
		t.Errorf("third: %+v", third)
	}
	if got := doorstest.Git(t, bare, "log", "-1", "--format=%an <%ae>", "main"); got != "Release Bot <bot@example.com>" {
		t.Errorf("author %s, want the environment's", got)
	}
}

// A branch the repository lacks starts at the default branch's head; a
// second run finds it and commits nothing; the default branch is
// untouched.
func TestPublishToANewBranch(t *testing.T) {
	bare := doorstest.BareRepo(t)
	c := Change{URL: bare, Branch: "example-org.tern-1.2.3", Message: "New version",
		Files: map[string][]byte{"manifests/e/example-org/tern/1.2.3/example-org.tern.yaml": []byte("v\n")}}
	for i, wantChanged := range []bool{true, false} {
		r, err := Publish(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Changed != wantChanged || r.Branch != c.Branch {
			t.Errorf("run %d: %+v", i+1, r)
		}
	}
	if doorstest.Commits(t, bare, c.Branch) != "2" || doorstest.Commits(t, bare, "main") != "1" {
		t.Errorf("%s has %s commits, main %s", c.Branch, doorstest.Commits(t, bare, c.Branch), doorstest.Commits(t, bare, "main"))
	}
	if got := doorstest.Git(t, bare, "merge-base", "main", c.Branch); got != doorstest.Git(t, bare, "rev-parse", "main") {
		t.Errorf("the branch does not start at main's head")
	}
}

// An empty repository, as git init --bare leaves it, takes the first
// commit on its HEAD's branch.
func TestPublishToAnEmptyRepository(t *testing.T) {
	doorstest.RequireTool(t, "git", "git")
	bare := filepath.Join(t.TempDir(), "empty.git")
	doorstest.Git(t, "", "init", "--quiet", "--bare", "--initial-branch=trunk", bare)
	r, err := Publish(context.Background(), Change{URL: bare, Files: map[string][]byte{"bucket/tern.json": []byte("{}\n")}, Message: "tern 1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Changed || r.Branch != "trunk" || doorstest.Show(t, bare, "trunk", "bucket/tern.json") != "{}" {
		t.Errorf("%+v", r)
	}
}

// A branch that moved under the run is refused, never overwritten: the
// push is not forced.
func TestPublishNeverForces(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in git is a shell script, which windows does not run")
	}
	bare := doorstest.BareRepo(t)
	fake := filepath.Join(t.TempDir(), "git")
	// A git that lets another writer push between the clone and the push.
	script := "#!/bin/sh\nif [ \"$1\" = push ]; then\n" +
		"  w=$(mktemp -d) && git clone -q " + bare + " $w && echo other > $w/other && git -C $w add other && " +
		"git -C $w -c user.name=o -c user.email=o@o commit -qm other && git -C $w push -q origin HEAD:main || exit 9\n" +
		"fi\nexec git \"$@\"\n"
	if err := writeExec(fake, script); err != nil {
		t.Fatal(err)
	}
	_, err := Publish(context.Background(), Change{URL: bare, Files: map[string][]byte{"a": []byte("a")}, Message: "m", Git: fake})
	if err == nil || !strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("got %v", err)
	}
	if doorstest.Show(t, bare, "main", "other") != "other" {
		t.Error("the other writer's commit is gone")
	}
}

// Paths that leave the repository are refused before anything is cloned.
func TestPublishRefusesPathsOutsideTheRepository(t *testing.T) {
	for _, p := range []string{"../x", "/etc/x", "a/../../x", ""} {
		if _, err := Publish(context.Background(), Change{URL: "unused", Files: map[string][]byte{p: nil}}); err == nil {
			t.Errorf("%q: no error", p)
		}
	}
}

func writeExec(p, script string) error { return os.WriteFile(p, []byte(script), 0o755) }

// A token in the URL never reaches the log nor an error.
func TestTokensAreRedacted(t *testing.T) {
	for _, u := range []string{"https://x-access-token:s3cret@github.com/o/r", "https://s3cret@github.com/o/r"} {
		if got := Redact(u); got != "https://xxxxx@github.com/o/r" {
			t.Errorf("Redact(%s) = %s", u, got)
		}
	}
	doorstest.RequireTool(t, "git", "git")
	url := "https://x-access-token:s3cret@127.0.0.1:1/o/r"
	_, err := Publish(context.Background(), Change{URL: url, Files: map[string][]byte{"a": nil}, Message: "m"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("got %v", err)
	}
}

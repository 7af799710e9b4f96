// Package gitpublish commits a few files to a git repository and pushes
// them: a Homebrew tap, a Scoop bucket, a branch of a winget-pkgs fork. It
// is idempotent: it clones afresh, writes, and commits and pushes only when
// a file changed, so a second run says "unchanged" and adds nothing. It
// never force-pushes: a branch that moved under it is an error to run
// again, never history to overwrite.
package gitpublish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultAuthor commits when the environment names no author
// (GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL, and the GIT_COMMITTER_ ones, which
// git reads itself and which win over this).
var DefaultAuthor = Author{Name: "github-actions[bot]", Email: "41898282+github-actions[bot]@users.noreply.github.com"}

// Author is a commit's author and committer.
type Author struct{ Name, Email string }

// Change is what to commit where.
type Change struct {
	URL string // what git clone takes: https://github.com/o/homebrew-tap, a path, file://…
	// Branch is the branch to commit on; "" is the repository's default
	// branch. A branch the repository does not have yet starts at the
	// default branch's head.
	Branch  string
	Files   map[string][]byte // slash paths in the repository → contents
	Message string
	Git     string // the git CLI; "" is git
	Log     io.Writer
}

// Result says what Publish did.
type Result struct {
	Changed bool   // false: every file already held these bytes, nothing was pushed
	Branch  string // the branch committed on
	Commit  string // the branch's head after the run
}

// Publish clones c.URL into a temporary directory, writes c.Files, and
// commits and pushes them to c.Branch if any differs from the branch's.
func Publish(ctx context.Context, c Change) (Result, error) {
	if len(c.Files) == 0 {
		return Result{}, fmt.Errorf("nothing to commit to %s", Redact(c.URL))
	}
	for name := range c.Files {
		if !filepath.IsLocal(filepath.FromSlash(name)) || path.Clean(name) != name {
			return Result{}, fmt.Errorf("%q is not a plain path inside the repository", name)
		}
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	g := runner{ctx: ctx, git: c.Git, url: c.URL}
	if g.git == "" {
		g.git = "git"
	}
	tmp, err := os.MkdirTemp("", "gitpublish-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "repo")

	exists := false
	if c.Branch != "" {
		out, err := g.run("", "ls-remote", "--heads", "--", c.URL, "refs/heads/"+c.Branch)
		if err != nil {
			return Result{}, err
		}
		exists = strings.TrimSpace(out) != ""
	}
	args := []string{"clone", "--quiet", "--depth", "1", "--no-tags"}
	if exists {
		args = append(args, "--branch", c.Branch)
	}
	if _, err := g.run("", append(args, "--", c.URL, dir)...); err != nil {
		return Result{}, err
	}
	branch := c.Branch
	if branch == "" {
		// The default branch, as the clone checked it out (or, for an
		// empty repository, as its HEAD names it).
		out, err := g.run(dir, "symbolic-ref", "--short", "HEAD")
		if err != nil {
			return Result{}, err
		}
		branch = strings.TrimSpace(out)
	} else if !exists {
		if _, err := g.run(dir, "checkout", "--quiet", "-b", c.Branch); err != nil {
			return Result{}, err
		}
	}

	names := make([]string, 0, len(c.Files))
	for name := range c.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return Result{}, err
		}
		if err := os.WriteFile(p, c.Files[name], 0o644); err != nil {
			return Result{}, err
		}
	}
	if _, err := g.run(dir, append([]string{"add", "--"}, names...)...); err != nil {
		return Result{}, err
	}
	// A repository without commits has nothing to compare with: any file
	// is a change.
	unborn := g.quiet(dir, "rev-parse", "--verify", "--quiet", "HEAD") != nil
	if !unborn && g.quiet(dir, "diff", "--cached", "--quiet") == nil {
		head, err := g.run(dir, "rev-parse", "HEAD")
		if err != nil {
			return Result{}, err
		}
		fmt.Fprintf(c.Log, "  %s %s: unchanged, nothing pushed\n", Redact(c.URL), branch)
		return Result{Branch: branch, Commit: strings.TrimSpace(head)}, nil
	}
	a := DefaultAuthor
	if _, err := g.run(dir, "-c", "user.name="+a.Name, "-c", "user.email="+a.Email, "commit", "--quiet", "-m", c.Message); err != nil {
		return Result{}, err
	}
	head, err := g.run(dir, "rev-parse", "HEAD")
	if err != nil {
		return Result{}, err
	}
	if _, err := g.run(dir, "push", "--quiet", "origin", "HEAD:refs/heads/"+branch); err != nil {
		return Result{}, fmt.Errorf("%w\n%s moved while this ran, or refuses the push: run the same command again, it starts from the branch as it is", err, branch)
	}
	fmt.Fprintf(c.Log, "  %s %s: committed and pushed %s\n", Redact(c.URL), branch, strings.TrimSpace(head)[:12])
	return Result{Changed: true, Branch: branch, Commit: strings.TrimSpace(head)}, nil
}

// Redact is a repository URL fit for a log: its user information, where
// a token goes (https://x-access-token:TOKEN@github.com/…,
// https://TOKEN@github.com/…), shows as xxxxx.
func Redact(repo string) string {
	u, err := url.Parse(repo)
	if err != nil || u.User == nil {
		return repo
	}
	u.User = url.User("xxxxx")
	return u.String()
}

// runner runs git without a terminal: a repository that wants a password
// fails at once with git's message instead of waiting for a prompt. Its
// errors show the repository's URL redacted.
type runner struct {
	ctx context.Context
	git string
	url string
}

func (g runner) cmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(g.ctx, g.git, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	return cmd
}

func (g runner) run(dir string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := g.cmd(dir, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := fmt.Sprintf("git %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		if g.url != "" {
			msg = strings.ReplaceAll(msg, g.url, Redact(g.url))
		}
		return "", errors.New(msg)
	}
	return stdout.String(), nil
}

// quiet runs git for its exit status only.
func (g runner) quiet(dir string, args ...string) error { return g.cmd(dir, args...).Run() }

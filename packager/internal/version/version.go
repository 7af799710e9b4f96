// Package version decides what version a checkout releases as. A clean tree
// at a v* tag releases that tag's version; anything else is a snapshot,
// 0.0.0-snapshot.<shortsha>, which is valid semver and valid for npm. It reads
// git; it never writes to the repository.
package version

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
)

// Info is what a release is stamped with.
type Info struct {
	Version  *semver.Version
	Commit   string    // full sha
	Time     time.Time // the commit time, or SOURCE_DATE_EPOCH
	Snapshot bool
}

// String is the version without a leading v.
func (i Info) String() string { return i.Version.String() }

// DistTag is the npm dist-tag for the version: the first prerelease word
// ("1.3.0-beta.2" → "beta"), or "latest" for a plain version.
func (i Info) DistTag() string { return DistTag(i.Version) }

// DistTag is the npm dist-tag of any version; see Info.DistTag.
func DistTag(v *semver.Version) string {
	pre := v.Prerelease()
	if pre == "" {
		return "latest"
	}
	word, _, _ := strings.Cut(pre, ".")
	return word
}

// ParseTag reads a release tag such as v1.2.3 or v1.3.0-beta.2.
func ParseTag(tag string) (*semver.Version, error) {
	raw, ok := strings.CutPrefix(tag, "v")
	if !ok {
		return nil, fmt.Errorf("tag %q does not start with v: release tags look like v1.2.3 or v1.3.0-beta.2", tag)
	}
	v, err := semver.StrictNewVersion(raw)
	if err != nil {
		return nil, fmt.Errorf("tag %q is not a semantic version (%v): release tags look like v1.2.3 or v1.3.0-beta.2", tag, err)
	}
	return v, nil
}

// Snapshot is the version of an untagged or dirty build of commit.
func Snapshot(commit string) *semver.Version {
	short := commit
	if len(short) > 12 {
		short = short[:12]
	}
	if strings.Trim(short, "0123456789") == "" {
		// An all-digit identifier with a leading zero is not semver.
		short = "g" + short
	}
	return semver.MustParse("0.0.0-snapshot." + short)
}

// IsSnapshot reports whether v (without a leading v) is a snapshot's
// version, as Snapshot makes them.
func IsSnapshot(v string) bool { return strings.HasPrefix(v, "0.0.0-snapshot.") }

// FromGit reads the version of the checkout at dir. With snapshot false it
// insists on a clean tree at exactly one v* tag, as a real release must.
func FromGit(dir string, snapshot bool) (Info, error) {
	commit, err := git(dir, "rev-parse", "HEAD")
	if err != nil {
		return Info{}, err
	}
	when, err := commitTime(dir)
	if err != nil {
		return Info{}, err
	}
	status, err := git(dir, "status", "--porcelain", "--untracked-files=normal")
	if err != nil {
		return Info{}, err
	}
	tags, err := git(dir, "tag", "--points-at", "HEAD", "--list", "v*")
	if err != nil {
		return Info{}, err
	}
	info := Info{Commit: commit, Time: when}

	var tagList []string
	if tags != "" {
		tagList = strings.Fields(tags)
	}
	switch {
	case snapshot || len(tagList) == 0 || status != "":
		if !snapshot {
			switch {
			case status != "":
				return Info{}, fmt.Errorf("the tree has uncommitted changes:\n%s\ncommit or stash them, or build a snapshot", status)
			default:
				return Info{}, fmt.Errorf("commit %.12s has no v* tag: tag it (git tag v1.2.3) or build a snapshot", commit)
			}
		}
		info.Version, info.Snapshot = Snapshot(commit), true
	case len(tagList) > 1:
		return Info{}, fmt.Errorf("commit %.12s has several release tags (%s): delete all but one", commit, strings.Join(tagList, ", "))
	default:
		v, err := ParseTag(tagList[0])
		if err != nil {
			return Info{}, err
		}
		info.Version = v
	}
	return info, nil
}

// commitTime is SOURCE_DATE_EPOCH when set, else HEAD's committer time.
func commitTime(dir string) (time.Time, error) {
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", s)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	s, err := git(dir, "log", "-1", "--format=%ct", "HEAD")
	if err != nil {
		return time.Time{}, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("git printed a commit time %q that is not a number", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("git %s in %s: %s", strings.Join(args, " "), dir, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

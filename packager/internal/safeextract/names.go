package safeextract

import (
	"path"
	"path/filepath"
	"strings"
)

// The rules an archive member's name and link must follow, shared by this
// package, which extracts source tarballs, and by the release gate (verify),
// which reads the release's archives without extracting them. One set of
// rules, so that the gate never accepts a name the extractor would refuse.

// Violation is a broken naming rule, worded for both callers: Noun for an
// extractor's "refusing member …: <noun>", Verb for a gate's "member … <verb>".
type Violation struct{ Noun, Verb string }

var (
	EmptyName    = &Violation{"an empty name", "has an empty name"}
	AbsolutePath = &Violation{"an absolute path", "has an absolute path"}
	Backslash    = &Violation{"a backslash in the name", "contains a backslash"}
	NUL          = &Violation{"a NUL in the name", "contains a NUL"}
	DotDot       = &Violation{"a .. in the path", "contains .."}
)

// CheckName returns the rule a member name breaks, or nil.
func CheckName(name string) *Violation {
	switch {
	case name == "":
		return EmptyName
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name) || (len(name) > 1 && name[1] == ':'):
		return AbsolutePath
	case strings.Contains(name, `\`):
		return Backslash
	case strings.ContainsRune(name, 0):
		return NUL
	}
	for _, part := range strings.Split(strings.TrimSuffix(name, "/"), "/") {
		if part == ".." {
			return DotDot
		}
	}
	return nil
}

// LinkLeaves reports whether a link named name (a slash path in the
// archive) pointing at target resolves outside root, the directory the tree
// sits under ("" for the archive's top).
func LinkLeaves(root, name, target string) bool {
	if path.IsAbs(target) {
		return true
	}
	resolved := path.Join(path.Dir(name), target)
	if root == "" {
		return resolved == ".." || strings.HasPrefix(resolved, "../")
	}
	return resolved != root && !strings.HasPrefix(resolved, root+"/")
}

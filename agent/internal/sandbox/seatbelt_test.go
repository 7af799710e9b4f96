package sandbox

import (
	"strings"
	"testing"
)

func TestSeatbeltArgs(t *testing.T) {
	p := Policy{Mode: WorkspaceWrite, Workspace: "/Users/me/src", Writable: []string{"/Users/me/.cache"}}
	args := seatbeltArgs(p, "/private/var/folders/x/tern-sandbox-1", nil, []string{"make", "-j2"})
	if args[0] != "-p" {
		t.Fatalf("args must start with the inline profile: %q", args)
	}
	profile, rest := args[1], strings.Join(args[2:], " ")
	wantRest := "-D WRITABLE_ROOT_0=/Users/me/src -D WRITABLE_ROOT_1=/Users/me/.cache -D WRITABLE_ROOT_2=/private/var/folders/x/tern-sandbox-1 -- make -j2"
	if rest != wantRest {
		t.Fatalf("args after the profile:\n got %s\nwant %s", rest, wantRest)
	}
	for i := 0; i < 3; i++ {
		if !strings.Contains(profile, `(subpath (param "`+seatbeltRootParam(i)+`"))`) {
			t.Errorf("profile does not grant %s", seatbeltRootParam(i))
		}
	}
	if strings.Contains(profile, "/Users/me") {
		t.Errorf("paths must travel as parameters, not inside the profile")
	}
}

// .git and its kind stay read-only below a writable root: denied after the
// roots are allowed, as parameters like the roots.
func TestSeatbeltProtectsGit(t *testing.T) {
	p := Policy{Mode: WorkspaceWrite, Workspace: "/Users/me/src"}
	args := seatbeltArgs(p, "/tmp/t", []string{"/Users/me/src/.git"}, []string{"true"})
	profile, rest := args[1], strings.Join(args[2:], " ")
	if !strings.Contains(rest, "-D PROTECTED_0=/Users/me/src/.git --") {
		t.Fatalf("the protected path must travel as a parameter: %s", rest)
	}
	allow := strings.Index(profile, `(subpath (param "WRITABLE_ROOT_0"))`)
	deny := strings.Index(profile, "(deny file-write*\n  (subpath (param \"PROTECTED_0\"))")
	if allow < 0 || deny < allow {
		t.Fatalf("the deny must follow the roots' allow, since the last match wins:\n%s", profile)
	}
	if parenDepth(profile) != 0 {
		t.Fatalf("unbalanced parentheses:\n%s", profile)
	}
}

func TestSeatbeltProfile(t *testing.T) {
	for _, network := range []bool{false, true} {
		profile := seatbeltProfile(1, 0, network)
		if !strings.HasPrefix(profile, "(version 1)\n(deny default)\n") {
			t.Errorf("profile must deny by default:\n%s", profile)
		}
		if got := strings.Contains(profile, "(allow network-outbound)"); got != network {
			t.Errorf("network=%v: profile allows outbound network = %v", network, got)
		}
		if depth := parenDepth(profile); depth != 0 {
			t.Errorf("network=%v: unbalanced parentheses (%d)", network, depth)
		}
	}
	readOnly := seatbeltProfile(0, 0, false)
	if strings.Contains(readOnly, "(allow file-write*\n") {
		t.Errorf("with no writable roots there must be no subpath write rule:\n%s", readOnly)
	}
}

// parenDepth counts open minus close parentheses outside strings and comments.
func parenDepth(s string) int {
	depth, inString, inComment := 0, false, false
	for _, r := range s {
		switch {
		case inComment:
			inComment = r != '\n'
		case inString:
			inString = r != '"'
		case r == ';':
			inComment = true
		case r == '"':
			inString = true
		case r == '(':
			depth++
		case r == ')':
			depth--
		}
	}
	return depth
}

package sandbox

import (
	"strings"
	"testing"
)

func TestSeatbeltArgs(t *testing.T) {
	p := Policy{Mode: WorkspaceWrite, Workspace: "/Users/me/src", Writable: []string{"/Users/me/.cache"}}
	args := seatbeltArgs(p, "/private/var/folders/x/tern-sandbox-1", []string{"make", "-j2"})
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

func TestSeatbeltProfile(t *testing.T) {
	for _, network := range []bool{false, true} {
		profile := seatbeltProfile(1, network)
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
	readOnly := seatbeltProfile(0, false)
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

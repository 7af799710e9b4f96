package safeextract

import "testing"

func TestCheckName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want *Violation
	}{
		{"tern-1.2.3-linux-x64/bin/tern", nil},
		{"dir/", nil},
		{"a..b/c", nil},
		{"", EmptyName},
		{"/etc/passwd", AbsolutePath},
		{"C:/Windows", AbsolutePath},
		{`bin\tern`, Backslash},
		{"bin/te\x00rn", NUL},
		{"src/../../escape", DotDot},
		{"../", DotDot},
	} {
		if got := CheckName(tc.name); got != tc.want {
			t.Errorf("CheckName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLinkLeaves(t *testing.T) {
	for _, tc := range []struct {
		root, name, target string
		want               bool
	}{
		{"", "src/link", "../../etc", true},
		{"", "src/link", "/etc/passwd", true},
		{"", "src/link", "other", false},
		{"", "src/a/link", "../b", false},
		{"tern-1/", "tern-1/bin/sh", "../../../bin/sh", true},
		{"tern-1", "tern-1/bin/sh", "../../../bin/sh", true},
		{"tern-1", "tern-1/bin/sh", "../LICENSE", false},
		{"tern-1", "tern-1/bin/sh", "..", false},
	} {
		if got := LinkLeaves(tc.root, tc.name, tc.target); got != tc.want {
			t.Errorf("LinkLeaves(%q, %q, %q) = %v, want %v", tc.root, tc.name, tc.target, got, tc.want)
		}
	}
}

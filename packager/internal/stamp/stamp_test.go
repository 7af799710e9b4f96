package stamp

import (
	"strings"
	"testing"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

func TestRead(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	st, err := Read([]byte("xx\x00@(#)version=1.2.3;commit=" + commit + ";date=2026Z;bwrap_sha256=" + digest + "more strings"))
	if err != nil || st.Version != "1.2.3" || st.Commit != commit {
		t.Fatalf("Read = %+v, %v", st, err)
	}
	if got := st.Digest("bwrap_sha256"); got != digest {
		t.Errorf("Digest = %q", got)
	}
	if got := st.Digest("other_sha256"); got != "" {
		t.Errorf("a missing field gave %q", got)
	}
	for bad, want := range map[string]string{
		"no stamp here": "no build stamp",
		"@(#)version=1;commit=" + commit + "@(#)version=2": "two build stamps",
		"@(#)version=1;date=x":                             "no commit",
		"@(#)version=1;commit=;date=x":                     "an empty commit",
	} {
		if _, err := Read([]byte(bad)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Read(%q) = %v, want %q", bad, err, want)
		}
	}
	empty, _ := Read([]byte("@(#)version=1;commit=" + commit + ";bwrap_sha256=;x"))
	if got := empty.Digest("bwrap_sha256"); got != "" {
		t.Errorf("an empty field gave %q", got)
	}
}

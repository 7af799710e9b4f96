package checksum

import (
	"strings"
	"testing"
)

func TestFormatAndParseRoundTrip(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	text := string(Format([]Line{{b, "z.zip"}, {a, "a.tar.gz"}}))
	if text != a+"  a.tar.gz\n"+b+"  z.zip\n" {
		t.Fatalf("Format must sort by name in sha256sum's format:\n%s", text)
	}
	lines, err := Parse(strings.NewReader(text))
	if err != nil || len(lines) != 2 || lines[1].Name != "z.zip" {
		t.Fatalf("Parse = %v, %v", lines, err)
	}
}

func TestParseRefusesMalformedLines(t *testing.T) {
	sum := strings.Repeat("a", 64)
	for _, tc := range []struct{ text, want string }{
		{sum + " x.zip\n", "is not"},
		{strings.ToUpper(sum) + "  x.zip\n", "is not"},
		{sum[:63] + "  x.zip\n", "is not"},
		{sum + "  ../x.zip\n", "not a plain file name"},
		{sum + "  b\n" + sum + "  a\n", "out of order"},
		{sum + "  a\n" + sum + "  a\n", "out of order or repeated"},
	} {
		if _, err := Parse(strings.NewReader(tc.text)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.text, err, tc.want)
		}
	}
}

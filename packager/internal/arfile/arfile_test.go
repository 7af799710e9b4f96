package arfile

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// member is one ar member as ar writes it: the header, the data, and a
// padding byte after data of odd length.
func member(name, data string) string {
	m := fmt.Sprintf("%-16s%-12s%-6s%-6s%-8s%-10d`\n", name+"/", "0", "0", "0", "100644", len(data)) + data
	if len(data)%2 == 1 {
		m += "\n"
	}
	return m
}

func readAll(archive string) (map[string]string, error) {
	ar, err := NewReader(strings.NewReader(archive))
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	for {
		name, _, err := ar.Next()
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		b, err := io.ReadAll(ar)
		if err != nil {
			return got, err
		}
		got[name] = string(b)
	}
}

func TestReadsEveryMemberPastItsPadding(t *testing.T) {
	got, err := readAll("!<arch>\n" + member("debian-binary", "2.0\n") + member("odd", "abc") + member("last", "xy"))
	if err != nil {
		t.Fatal(err)
	}
	if got["debian-binary"] != "2.0\n" || got["odd"] != "abc" || got["last"] != "xy" || len(got) != 3 {
		t.Errorf("got %q", got)
	}
}

// A member skipped unread is skipped whole; one cut short, read or not,
// and a broken header are errors, never a shorter archive.
func TestRefusesWhatIsNotWhole(t *testing.T) {
	whole := "!<arch>\n" + member("a", "hello") + member("b", "world!")
	for _, tc := range []struct{ name, archive, want string }{
		{"no magic", "!<arc>\n" + member("a", "x"), "not an ar archive"},
		{"the last member cut short", whole[:len(whole)-2], "ar member b is cut short: 2 of its 6 bytes are missing"},
		{"a header cut short", whole[:8+30], "ar header"},
		{"a broken header end", strings.Replace(whole, "`\n", "x\n", 1), "a broken ar header"},
		{"a size that is no number", "!<arch>\n" + strings.Replace(member("a", "x"), "1         `", "-1        `", 1), "bad size"},
	} {
		if _, err := readAll(tc.archive); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	ar, _ := NewReader(strings.NewReader(whole))
	for _, want := range []string{"a", "b"} {
		if name, _, err := ar.Next(); err != nil || name != want {
			t.Fatalf("skipping unread members: %q, %v; want %q", name, err, want)
		}
	}
	if _, _, err := ar.Next(); err != io.EOF {
		t.Errorf("after the last member: %v, want io.EOF", err)
	}
}

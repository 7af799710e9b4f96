package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tern-agent/tern/agent/internal/session"
)

func TestQuoteArgv(t *testing.T) {
	for _, c := range []struct {
		argv []string
		want string
	}{
		{[]string{"ls", "-la"}, "ls -la"},
		{[]string{"go", "test", "./...", "-run=X", "a@b%c+d:e,f_g"}, "go test ./... -run=X a@b%c+d:e,f_g"},
		{[]string{"echo", ""}, "echo ''"},
		{[]string{"sh", "-c", "ls | wc -l"}, "sh -c 'ls | wc -l'"},
		{[]string{"echo", "it's"}, `echo 'it'"'"'s'`},
		{[]string{"echo", "$HOME `id` *"}, "echo '$HOME `id` *'"},
		{[]string{"echo", "a\\b"}, `echo 'a\b'`},
		{[]string{"echo", "héllo wörld"}, "echo 'héllo wörld'"},
		{[]string{"echo", "héllo"}, "echo 'héllo'"},
		// Anything a terminal would act on is spelled out in $'…', which
		// bash reads back as the same bytes.
		{[]string{"sh", "-c", "rm -rf ~ #\x1b[2J\x1b[Hls -la"}, `sh -c $'rm -rf ~ #\x1b[2J\x1b[Hls -la'`},
		{[]string{"printf", "a\nb\tc\rd"}, `printf $'a\nb\tc\rd'`},
		{[]string{"echo", "it's\x00\x7f"}, `echo $'it\'s\x00\x7f'`},
		{[]string{"echo", "a\\b\x07"}, `echo $'a\\b\x07'`},
		{[]string{"echo", "\u009b31m"}, `echo $'\u009b31m'`},
		{[]string{"echo", "\u0085"}, `echo $'\u0085'`},
		{[]string{"rm", "txt.\u202eexe"}, `rm $'txt.\u202eexe'`},
		{[]string{"x\u202a\u202b\u202c\u202d"}, `$'x\u202a\u202b\u202c\u202d'`},
		{[]string{"\u2066\u2067\u2068\u2069"}, `$'\u2066\u2067\u2068\u2069'`},
		{[]string{"a\u200bb\u200e\u200f\u061c"}, `$'a\u200bb\u200e\u200f\u061c'`},
		{[]string{"a\u2028b\u2029"}, `$'a\u2028b\u2029'`},
		{[]string{"tag\U000e0041"}, `$'tag\U000e0041'`},
		{[]string{"bad\xffutf8\x9b"}, `$'bad\xffutf8\x9b'`},
	} {
		if got := quoteArgv(c.argv); got != c.want {
			t.Errorf("quoteArgv(%q) = %s, want %s", c.argv, got, c.want)
		}
	}
}

func TestEscapeControls(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"needs the network", "needs the network"},
		{"a 'quoted' \\ reason", "a 'quoted' \\ reason"},
		{"two\nlines\ttab\r", `two\nlines\ttab\r`},
		{"\x1b[2J\x1b[Hfine", `\x1b[2J\x1b[Hfine`},
		{"\x1b]0;title\x07", `\x1b]0;title\x07`},
		{"\u009b2J\u0090", `\u009b2J\u0090`},
		{"\x7f\x00", `\x7f\x00`},
		{"abc\u202edcba", `abc\u202edcba`},
		{"\u2067x\u2069", `\u2067x\u2069`},
		{"naïve café ✓ 日本", "naïve café ✓ 日本"},
		{"\xc3\x28", `\xc3(`},
	} {
		if got := escapeControls(c.in); got != c.want {
			t.Errorf("escapeControls(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestTextEventsEscapeTheModel: in text mode the model's words, its tool
// calls and their output reach the terminal the approval prompt is on, so
// they must not carry escapes either; newlines and tabs still flow.
func TestTextEventsEscapeTheModel(t *testing.T) {
	var out, errOut bytes.Buffer
	emit := textEvents(&out, &errOut)
	emit(session.Event{Type: "message.delta", Text: "Done.\n\x1b[8mhidden\tcol\u202e"})
	emit(session.Event{Type: "tool.call", Tool: "shell", Arguments: "{\"command\":[\"ls\x1b[2J\"]}"})
	emit(session.Event{Type: "tool.result", Output: "file\x1b[31mred\x1b[0m\nnext\u009b"})
	if got, want := out.String(), "Done.\n\\x1b[8mhidden\tcol\\u202e"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	want := "\n» shell {\"command\":[\"ls\\x1b[2J\"]}\n  file\\x1b[31mred\\x1b[0m\n  next\\u009b\n"
	if got := errOut.String(); got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
	if strings.ContainsAny(out.String()+errOut.String(), "\x1b\u009b\u202e") {
		t.Error("an escape reached the terminal")
	}
}

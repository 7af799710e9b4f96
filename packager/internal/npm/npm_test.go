package npm

import (
	"encoding/json"
	"strings"
	"testing"
)

// The meta package's template must list its files; a template without that
// list, or with a non-name in it, is an error naming the template.
func TestMetaTemplateFilesMustBeAListOfNames(t *testing.T) {
	for _, tc := range []struct{ name, pkg, want string }{
		{"no files", `{"name": "x"}`, `has no "files" list`},
		{"files not a list", `{"files": "bin/x.js"}`, `has no "files" list`},
		{"a file not a name", `{"files": ["bin/x.js", 7]}`, `"files" holds 7, not a file name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(tc.pkg), &m); err != nil {
				t.Fatal(err)
			}
			const p = "npm/meta/package.json"
			_, err := templateFiles(p, m)
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s: %s", err, p, tc.want)
			}
		})
	}
}

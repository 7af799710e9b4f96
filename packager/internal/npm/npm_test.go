package npm

import (
	"github.com/tern-agent/tern/packager/internal/layout"

	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

// The meta package's template must list its files; a template without that
// list, or with a non-name in it, is an error naming the template.
func TestMetaTemplateFilesMustBeAListOfNames(t *testing.T) {
	for _, tc := range []struct{ name, pkg, want string }{
		{"no files", `{"name": "x"}`, `has no "files" list`},
		{"files not a list", `{"files": "bin/tern.js"}`, `has no "files" list`},
		{"a file not a name", `{"files": ["bin/tern.js", 7]}`, `"files" holds 7, not a file name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := pipelinetest.New(t)
			p := filepath.Join(ctx.Root, layout.NPMTemplate, "meta", "package.json")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(tc.pkg), 0o644); err != nil {
				t.Fatal(err)
			}
			err := metaPackage(ctx, nil, map[string]string{})
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s: %s", err, p, tc.want)
			}
		})
	}
}

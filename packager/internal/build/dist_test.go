package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A GoReleaser config that writes elsewhere than dist/build is refused
// before GoReleaser runs, naming the key to set.
func TestCheckDistNamesTheKey(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"ours", "dist: dist/build\nbuilds: []\n", ""},
		{"a trailing slash", "dist: dist/build/\n", ""},
		{"GoReleaser's default", "builds: []\n", "dist is dist, GoReleaser's default, but the packager reads GoReleaser's output from dist/build: set `dist: dist/build`"},
		{"elsewhere", "dist: out\n", "dist is out, but the packager reads GoReleaser's output from dist/build: set `dist: dist/build`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			if err := os.WriteFile(filepath.Join(ctx.Root, GoReleaserConfig), []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			err := checkDist(ctx)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	ctx := testContext(t)
	os.Remove(filepath.Join(ctx.Root, GoReleaserConfig))
	if err := checkDist(ctx); err == nil || !strings.Contains(err.Error(), "packager init") {
		t.Fatalf("no config: %v", err)
	}
}

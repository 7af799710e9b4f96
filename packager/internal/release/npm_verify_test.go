package release

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/verify"
)

// TestVerifyChecksThePlatformFileLists: the launcher's first-run fetch unpacks exactly
// the files lib/platforms.json lists for a platform package, so the gate
// refuses a meta package whose lists differ from the packages, even
// resealed by someone with the key.
func TestVerifyChecksThePlatformFileLists(t *testing.T) {
	keyPEM, priv := testKey(t)
	good := mustRelease(t, newRepo(t), Options{Snapshot: true, Sign: sign.Options{Key: keyPEM, Password: []byte("secret")}})
	opts := verify.Options{Config: cfg(t), PublicKey: &priv.PublicKey}
	npmMeta := "tern-agent-cli-" + fixtureVersion + ".tgz"
	const pkg = "@tern-agent/cli-linux-x64"
	zeros := strings.Repeat("0", 64)

	for _, tc := range []struct {
		name string
		edit func(files map[string]any)
		want string
	}{
		{"a file left out", func(files map[string]any) { delete(files, "LICENSE") },
			npmMeta + ": lib/platforms.json does not list " + pkg + "'s LICENSE: the launcher's first-run fetch would refuse the package"},
		{"a helper's digest", func(files map[string]any) { files["libexec/tern/bwrap"] = zeros },
			npmMeta + ": lib/platforms.json records sha256 " + zeros + " for " + pkg + "'s libexec/tern/bwrap, the package's is "},
		{"a file the package lacks", func(files map[string]any) { files["bin/extra"] = zeros },
			npmMeta + ": lib/platforms.json lists bin/extra for " + pkg + ", which the package does not hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, good)
			editTarGz(t, filepath.Join(dir, npmMeta), editJSON("package/lib/platforms.json", func(table map[string]any) {
				tc.edit(table["linux-x64"].(map[string]any)["files"].(map[string]any))
			}))
			reseal(t, dir, priv, nil)
			err := verify.Release(dir, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verify must say %q:\n%v", tc.want, err)
			}
		})
	}
}

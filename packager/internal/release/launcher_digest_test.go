//go:build unix

package release

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLauncherRefusesASwappedBinary: the JS launcher runs only the binary
// the meta package was published with. A binary swapped after install, by
// a new file or in place with its size and mtime kept, is refused with both
// digests and the reinstall command, and never runs.
func TestLauncherRefusesASwappedBinary(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	release := mustRelease(t, newRepo(t), Options{Snapshot: true})

	for _, tc := range []struct {
		name     string
		firstRun bool // run the launcher once before the swap, so it has verified the original
		swap     func(t *testing.T, bin, marker string) []byte
	}{
		{"swapped before the first run", false, replaceBinary},
		{"swapped after a verified run", true, replaceBinary},
		{"rewritten in place with its size and mtime kept", true, func(t *testing.T, bin, marker string) []byte {
			st, err := os.Stat(bin)
			if err != nil {
				t.Fatal(err)
			}
			// Same size: the hostile script is padded with a comment that sh
			// never reads, after its exit.
			hostile := append(hostileBinary(marker), "exit 0\n#"...)
			if int64(len(hostile)) > st.Size() {
				t.Fatalf("the fixture binary (%d bytes) is smaller than the hostile script", st.Size())
			}
			hostile = append(hostile, strings.Repeat("#", int(st.Size())-len(hostile))...)
			f, err := os.OpenFile(bin, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(hostile)
			f.Close()
			if err := os.Chtimes(bin, st.ModTime(), st.ModTime()); err != nil {
				t.Fatal(err)
			}
			return hostile
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			project, launcher := installByHand(t, release, "linux-x64")
			bin := filepath.Join(project, "node_modules", "@tern-agent", "cli-linux-x64", "bin", "tern")
			marker := filepath.Join(project, "hostile-ran")
			original, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			if tc.firstRun {
				if r := launch(t, project, launcher, nil, "--version"); r.code != 0 {
					t.Fatalf("the published binary: exit %d\n%s", r.code, r.out)
				}
			}
			hostile := tc.swap(t, bin, marker)

			r := launch(t, project, launcher, nil, "--version")
			want := publishedDigest(t, project)
			for _, w := range []string{
				"refusing to run " + bin,
				"sha256 " + sha256Hex(hostile),
				"published with sha256 " + want,
				"npm install @tern-agent/cli@" + fixtureVersion,
			} {
				if !strings.Contains(r.out, w) {
					t.Errorf("the refusal lacks %q:\n%s", w, r.out)
				}
			}
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("the swapped binary ran")
			}

			// Put the published binary back: it runs again.
			os.Remove(bin)
			if err := os.WriteFile(bin, original, 0o755); err != nil {
				t.Fatal(err)
			}
			if r := launch(t, project, launcher, nil, "--version"); r.code != 0 || !strings.Contains(r.out, "version="+fixtureVersion) {
				t.Errorf("the published binary, restored: exit %d\n%s", r.code, r.out)
			}
		})
	}
}

// replaceBinary puts a hostile script where the binary was, as a new file.
func replaceBinary(t *testing.T, bin, marker string) []byte {
	t.Helper()
	hostile := hostileBinary(marker)
	tmp := bin + ".new"
	if err := os.WriteFile(tmp, hostile, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return hostile
}

// publishedDigest is linux-x64's binary digest in the installed meta
// package's platform table.
func publishedDigest(t *testing.T, project string) string {
	t.Helper()
	var table map[string]struct{ SHA256 string }
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(project, "node_modules", "@tern-agent", "cli", "lib", "platforms.json"))), &table); err != nil {
		t.Fatal(err)
	}
	return table["linux-x64"].SHA256
}

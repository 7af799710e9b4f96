package main

// A tern installed where its own sandboxed commands may write (a
// project-local npm install, a GOBIN in the workspace) can be replaced by
// one of them, and the next tern would run the replacement unsandboxed.
// tern cannot prevent it, so every command that runs a sandbox says so in
// one warning line, and tern doctor lists it as a problem.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const exposedWarning = "tern: warning: tern's own files lie where its sandboxed commands may write"

// installs lays out the ways tern may lie in (or out of) the workspace ws,
// each as the path to start it by and the paths its warning must name.
func installs(t *testing.T, r runner, ws string) []struct {
	name, start string
	named       []string
} {
	t.Helper()
	copied := filepath.Join(ws, "tern")
	copyFile(t, ternBin, copied)

	// npm's layout: the platform package's binary with the bwrap it ships,
	// and the bin link the package manager made.
	nodeModules := filepath.Join(ws, "node_modules")
	npmBin := filepath.Join(nodeModules, "@tern-agent", "cli-linux-x64", "bin", "tern")
	copyFile(t, ternBin, npmBin)
	systemBwrap, err := exec.LookPath("bwrap")
	if err != nil {
		t.Fatalf("bwrap is not installed; `make test` installs Debian's bubblewrap: %v", err)
	}
	npmBwrap := filepath.Join(nodeModules, "@tern-agent", "cli-linux-x64", "libexec", "tern", "bwrap")
	copyFile(t, systemBwrap, npmBwrap)
	link := filepath.Join(nodeModules, ".bin", "tern")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../@tern-agent/cli-linux-x64/bin/tern", link); err != nil {
		t.Fatal(err)
	}

	outside := filepath.Join(r.dir(t), "tern")
	copyFile(t, ternBin, outside)
	return []struct {
		name, start string
		named       []string
	}{
		{"copied into the workspace", copied, []string{"in the writable root " + ws + ": " + copied + " (tern's executable)"}},
		{"npm-installed in the workspace", link, []string{"in the writable root " + ws + ": " + npmBin + " (tern's executable)", link + " (the link tern was started through", nodeModules + " (the node_modules tree", npmBwrap + " (the bwrap tern runs)"}},
		{"outside the workspace", outside, nil},
	}
}

func TestTernWarnsWhenItLiesInAWritableRoot(t *testing.T) {
	for _, r := range runners(t) {
		t.Run(r.name, func(t *testing.T) {
			ws, elsewhere := r.dir(t), r.dir(t)
			for _, in := range installs(t, r, ws) {
				t.Run(in.name, func(t *testing.T) {
					as := runner{name: r.name, cred: r.cred, tern: in.start}
					for _, args := range [][]string{
						{"sandbox", "run", "--cd", ws, "--", "true"},
						{"mcp", "--cd", ws},
					} {
						res := as.run(t, elsewhere, nil, nil, args...)
						if res.code != 0 {
							t.Fatalf("tern %v refused (exit %d); it must only warn:\n%s", args, res.code, res.stderr)
						}
						checkExposedWarning(t, args, res.stderr, in.named)
					}
					// Read-only: no command may write, nothing to say.
					res := as.run(t, elsewhere, nil, nil, "sandbox", "run", "--sandbox", "read-only", "--cd", ws, "--", "true")
					checkExposedWarning(t, []string{"read-only"}, res.stderr, nil)
				})
			}
		})
	}
}

// checkExposedWarning: one warning naming every path in named, with the
// remedy; none when named is empty.
func checkExposedWarning(t *testing.T, args []string, stderr string, named []string) {
	t.Helper()
	n := strings.Count(stderr, exposedWarning)
	if len(named) == 0 {
		if n != 0 {
			t.Errorf("tern %v warns though it lies outside every writable root:\n%s", args, stderr)
		}
		return
	}
	if n != 1 {
		t.Fatalf("tern %v: %d warnings about its own files, want one:\n%s", args, n, stderr)
	}
	for _, want := range append(named, "could replace them, and the next tern started would run that unsandboxed", "install tern outside the workspace (npm install --global") {
		if !strings.Contains(stderr, want) {
			t.Errorf("tern %v: the warning does not say %q:\n%s", args, want, stderr)
		}
	}
}

// tern doctor, run in the workspace (its default), reports the same.
func TestDoctorReportsTernInTheWorkspace(t *testing.T) {
	for _, r := range runners(t) {
		t.Run(r.name, func(t *testing.T) {
			ws := r.dir(t)
			for _, in := range installs(t, r, ws) {
				t.Run(in.name, func(t *testing.T) {
					as := runner{name: r.name, cred: r.cred, tern: in.start}
					res := as.run(t, ws, nil, nil, "doctor", "--json")
					var report struct {
						Problems []struct{ Subject, Detail, Remedy string }
					}
					if err := json.Unmarshal([]byte(res.stdout), &report); err != nil {
						t.Fatalf("doctor --json: %v\n%s%s", err, res.stdout, res.stderr)
					}
					var found []string
					for _, p := range report.Problems {
						if p.Subject == "installation" {
							found = append(found, p.Detail+"\nremedy: "+p.Remedy)
						}
					}
					if len(in.named) == 0 {
						if len(found) != 0 {
							t.Errorf("doctor reports tern outside the workspace as exposed: %v", found)
						}
						return
					}
					if len(found) != 1 {
						t.Fatalf("doctor reports %d installation problems, want one:\n%s", len(found), res.stdout)
					}
					for _, want := range append(in.named, "install tern outside the workspace") {
						if !strings.Contains(found[0], want) {
							t.Errorf("doctor's problem does not say %q:\n%s", want, found[0])
						}
					}
					if res.code != 1 {
						t.Errorf("doctor found a problem but exited %d, want 1", res.code)
					}
				})
			}
		})
	}
}

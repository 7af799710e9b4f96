package handoff

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/config"
)

const (
	commitA = "1111111111111111111111111111111111111111"
	commitB = "2222222222222222222222222222222222222222"
)

var testConfig = &config.Config{
	Product: "tern", Binary: "tern",
	Targets: []config.Target{
		{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64", Helpers: []string{"bwrap"}},
		{Name: "windows-x64", GOOS: "windows", GOARCH: "amd64"},
	},
}

var when = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func expect() Expect {
	return Expect{Commit: commitA, Version: "1.2.3", Time: when, ConfigSHA256: "cfg"}
}

// write makes a handoff of targets whose binaries carry stampCommit.
func write(t *testing.T, stampCommit string, targets ...string) string {
	t.Helper()
	dir := t.TempDir()
	m := Manifest{Commit: commitA, Version: "1.2.3", Time: when, ConfigSHA256: "cfg", Go: "go1.26.8", Targets: targets}
	for _, name := range targets {
		tg, _ := testConfig.Target(name)
		put(t, dir, BinaryPath(testConfig, tg), "\x7fELF…@(#)version=1.2.3;commit="+stampCommit+";date=x;bwrap_sha256=", 0o755)
		put(t, dir, TreePath(name)+"/LICENSE", "licence\n", 0o644)
		if len(tg.Helpers) > 0 {
			put(t, dir, TreePath(name)+"/libexec/tern/bwrap", "helper", 0o755)
			put(t, dir, "helpers/"+name+"/bwrap", "helper", 0o755)
			put(t, dir, "helpers/bubblewrap-0.11.license", "LGPL", 0o644)
			m.Helpers = append(m.Helpers, Helper{Target: name, Name: "bwrap", Path: "helpers/" + name + "/bwrap", Version: "0.11", LicenseFile: "helpers/bubblewrap-0.11.license"})
		}
	}
	if err := Write(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func put(t *testing.T, dir, rel, text string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesWhatTheManifestDoesNotPin(t *testing.T) {
	for _, tc := range []struct {
		name   string
		commit string
		edit   func(t *testing.T, dir string)
		want   string // "" for no error
	}{
		{name: "intact", commit: commitA},
		{name: "flipped byte in a staged binary", commit: commitA, edit: func(t *testing.T, dir string) {
			p := filepath.Join(dir, "stage/linux-x64/bin/tern")
			b, _ := os.ReadFile(p)
			b[0] ^= 1
			os.WriteFile(p, b, 0o755)
		}, want: "stage/linux-x64/bin/tern: has sha256 "},
		{name: "truncated file", commit: commitA, edit: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "stage/linux-x64/LICENSE"), []byte("lic"), 0o644)
		}, want: "stage/linux-x64/LICENSE: is 3 bytes, the manifest says 8"},
		{name: "extra file", commit: commitA, edit: func(t *testing.T, dir string) {
			put(t, dir, "stage/linux-x64/bin/evil", "x", 0o755)
		}, want: "stage/linux-x64/bin/evil: is not listed in handoff.json"},
		{name: "missing file", commit: commitA, edit: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "stage/linux-x64/LICENSE"))
		}, want: "stage/linux-x64/LICENSE: is listed in handoff.json but missing"},
		{name: "unreadable manifest", commit: commitA, edit: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, ManifestName), []byte("{not json"), 0o644)
		}, want: "handoff.json: is not a handoff manifest"},
		{name: "no manifest", commit: commitA, edit: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, ManifestName))
		}, want: "handoff.json: cannot be read"},
		{name: "binary from another commit", commit: commitB,
			want: "stage/linux-x64/bin/tern: is stamped with commit " + commitB + ", the handoff is of commit " + commitA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t, tc.commit, "linux-x64")
			if tc.edit != nil {
				tc.edit(t, dir)
			}
			_, err := Open(dir, testConfig)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "handoff "+dir+": "+tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
			var he *Error
			if !errors.As(err, &he) {
				t.Fatalf("error is %T, want *Error", err)
			}
		})
	}
}

func TestCheckRefusesHandoffsOfAnotherRelease(t *testing.T) {
	open := func(t *testing.T, dir string, edit func(*Manifest)) *Handoff {
		h, err := Open(dir, testConfig)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(&h.Manifest)
		}
		return h
	}
	for _, tc := range []struct {
		name  string
		hs    func(t *testing.T) []*Handoff
		allow []string
		want  string
	}{
		{name: "split in two", hs: func(t *testing.T) []*Handoff {
			return []*Handoff{open(t, write(t, commitA, "linux-x64"), nil), open(t, write(t, commitA, "windows-x64"), nil)}
		}},
		{name: "another commit", hs: func(t *testing.T) []*Handoff {
			return []*Handoff{open(t, write(t, commitA, "linux-x64", "windows-x64"), func(m *Manifest) { m.Commit = commitB })}
		}, want: "commit: is " + commitB + ", but this checkout is at " + commitA},
		{name: "another release.yaml", hs: func(t *testing.T) []*Handoff {
			return []*Handoff{open(t, write(t, commitA, "linux-x64", "windows-x64"), func(m *Manifest) { m.ConfigSHA256 = "other" })}
		}, want: "release_yaml_sha256: is other, but this checkout's release.yaml has cfg"},
		{name: "another Go", hs: func(t *testing.T) []*Handoff {
			return []*Handoff{open(t, write(t, commitA, "linux-x64"), nil), open(t, write(t, commitA, "windows-x64"), func(m *Manifest) { m.Go = "go1.25.0" })}
		}, want: "go_version: is go1.25.0, but handoff "},
		{name: "target twice", hs: func(t *testing.T) []*Handoff {
			return []*Handoff{open(t, write(t, commitA, "linux-x64", "windows-x64"), nil), open(t, write(t, commitA, "windows-x64"), nil)}
		}, want: "targets: windows-x64 is also in handoff "},
		{name: "target missing", hs: func(t *testing.T) []*Handoff {
			return []*Handoff{open(t, write(t, commitA, "linux-x64"), nil)}
		}, want: "targets: no handoff has windows-x64: build it (packager build --targets windows-x64)"},
		{name: "target missing, allowed", allow: []string{"windows-x64"}, hs: func(t *testing.T) []*Handoff {
			return []*Handoff{open(t, write(t, commitA, "linux-x64"), nil)}
		}},
		{name: "allowed target unknown", allow: []string{"plan9-x64"}, hs: func(t *testing.T) []*Handoff {
			return []*Handoff{open(t, write(t, commitA, "linux-x64", "windows-x64"), nil)}
		}, want: "--allow-missing plan9-x64: release.yaml has no target plan9-x64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.hs(t), expect(), testConfig, tc.allow)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestCopyTreeRestoresModesAndRechecks(t *testing.T) {
	dir := write(t, commitA, "linux-x64")
	h, err := Open(dir, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	// An artifact store that drops modes: the manifest restores them.
	os.Chmod(filepath.Join(dir, "stage/linux-x64/bin/tern"), 0o644)
	dst := t.TempDir()
	if err := h.CopyTree(TreePath("linux-x64"), dst); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{"bin/tern": 0o755, "LICENSE": 0o644, "libexec/tern/bwrap": 0o755} {
		info, err := os.Stat(filepath.Join(dst, p))
		if err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", p, info.Mode().Perm(), err, want)
		}
	}
	os.WriteFile(filepath.Join(dir, "stage/linux-x64/LICENSE"), []byte("LICENCE\n"), 0o644)
	if err := h.CopyTree(TreePath("linux-x64"), t.TempDir()); err == nil || !strings.Contains(err.Error(), "changed after it was checked") {
		t.Fatalf("a file changed after Open: %v", err)
	}
}

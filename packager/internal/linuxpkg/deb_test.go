package linuxpkg

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/layout"
)

// TestDebInfoAndContents reads the .deb with dpkg-deb, as a user checks a
// download: the control fields, and every file at its place and mode.
func TestDebInfoAndContents(t *testing.T) {
	needTool(t, "dpkg-deb", "apt-get install dpkg")
	f := newFixture(t, uniqueProduct(t), false)
	p, b := f.cfg.Product, f.cfg.Binary
	debFile := f.build(t, layout.Deb, Keys{}, t.TempDir())
	if got, want := filepath.Base(debFile), p+"_1.2.3_amd64.deb"; got != want {
		t.Errorf("file name %s, want %s", got, want)
	}

	info := run(t, "dpkg-deb", "--info", debFile)
	for _, want := range []string{
		"Package: " + p, "Version: 1.2.3", "Architecture: amd64", "Section: devel", "Priority: optional",
		"Maintainer: " + Maintainer(f.cfg), "Homepage: " + f.cfg.Repository,
		"Description: test of the Linux packages", " Built from " + f.cfg.Repository, " at commit " + strings.Repeat("0123456789", 4) + ".",
	} {
		if !strings.Contains(info, want+"\n") {
			t.Errorf("dpkg-deb --info lacks %q:\n%s", want, info)
		}
	}

	contents := run(t, "dpkg-deb", "--contents", debFile)
	for _, want := range []string{
		"-rwxr-xr-x root/root", "./usr/bin/" + b + "\n",
		"./usr/libexec/" + p + "/" + helperName + "\n",
		"./usr/share/doc/" + p + "/copyright\n", "./usr/share/doc/" + p + "/LICENSE\n", "./usr/share/doc/" + p + "/changelog.gz\n",
		"./usr/share/doc/" + p + "/THIRD_PARTY_NOTICES.md\n",
		"./usr/share/man/man1/" + b + ".1.gz\n",
		"./usr/share/" + p + "/README.md\n",
		"2026-11-23 14:57 ./usr/bin/" + b + "\n",
	} {
		if !strings.Contains(contents, want) {
			t.Errorf("dpkg-deb --contents lacks %q:\n%s", want, contents)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(contents), "\n") {
		if !strings.Contains(line, " root/root ") || !strings.Contains(line, " 2026-11-23 14:57 ") {
			t.Errorf("every entry is root's and dated at the commit: %s", line)
		}
		if strings.Contains(line, "/usr/bin/"+b) || strings.Contains(line, "/libexec/"+p+"/"+helperName) {
			if !strings.HasPrefix(line, "-rwxr-xr-x") {
				t.Errorf("not executable: %s", line)
			}
		} else if strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "-rw-r--r--") {
			t.Errorf("a data file should be 0644: %s", line)
		}
	}
}

// TestDebLintian runs lintian, Debian's package checker, over the package
// of the real agent, and accepts no error (E:). Warnings and notes are
// logged: the fake helper, a script, does not match the override meant
// for the real, static bwrap.
func TestDebLintian(t *testing.T) {
	needTool(t, "lintian", "apt-get install lintian")
	f := newFixture(t, "tern", true)
	debFile := f.build(t, layout.Deb, Keys{}, t.TempDir())
	out, err := exec.Command("lintian", "--tag-display-limit", "0", debFile).CombinedOutput()
	t.Logf("lintian:\n%s", out)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "E: ") {
			t.Errorf("lintian error: %s", line)
		}
	}
	if err != nil && !strings.Contains(string(out), "E: ") {
		// lintian exits 2 on a crash or a bad argument, 1 on an error tag.
		t.Fatalf("lintian failed: %v", err)
	}
}

// TestDebInstallRunRemove installs the .deb into this very system with
// dpkg, as a user does, runs the binary from /usr/bin, which finds and runs
// its helper in /usr/libexec/<product>, then removes the package and
// checks that nothing of it is left. The product name is unique to the
// run, so nothing real collides.
func TestDebInstallRunRemove(t *testing.T) {
	needTool(t, "dpkg", "apt-get install dpkg")
	needRoot(t)
	f := newFixture(t, uniqueProduct(t), false)
	p, b := f.cfg.Product, f.cfg.Binary
	debFile := f.build(t, layout.Deb, Keys{}, t.TempDir())

	dpkg(t, "-i", debFile)
	installed := true
	t.Cleanup(func() {
		if installed {
			exec.Command("dpkg", "--purge", p).Run()
		}
	})
	listed := run(t, "dpkg", "-L", p)
	wantFiles := []string{
		"/usr/bin/" + b, "/usr/libexec/" + p + "/" + helperName, "/usr/share/doc/" + p + "/copyright",
		"/usr/share/doc/" + p + "/THIRD_PARTY_NOTICES.md", "/usr/share/man/man1/" + b + ".1.gz", "/usr/share/" + p + "/README.md", "/usr/share/" + p + "/doc/guide.md",
	}
	for _, want := range wantFiles {
		if !strings.Contains(listed, want+"\n") {
			t.Errorf("dpkg -L %s lacks %s:\n%s", p, want, listed)
		}
	}

	if got := run(t, "/usr/bin/"+b, "--version"); got != p+" "+testVersion+"\n" {
		t.Errorf("%s --version printed %q", b, got)
	}
	// Run by name through PATH, as a user does.
	cmd := exec.Command(b, "helper")
	cmd.Env = append(os.Environ(), "PATH=/usr/bin:/bin")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s helper: %v\n%s", b, err, out)
	}
	if want := "helper: /usr/libexec/" + p + "/" + helperName + "\n" + helperOutput + "\n"; string(out) != want {
		t.Errorf("%s helper printed %q, want %q", b, out, want)
	}

	dpkg(t, "-r", p)
	installed = false
	dpkg(t, "--purge", p)
	for _, gone := range append(wantFiles, "/usr/libexec/"+p, "/usr/share/doc/"+p, "/usr/share/"+p) {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("%s is left after dpkg -r (%v)", gone, err)
		}
	}
	if out, err := exec.Command("dpkg", "-s", p).CombinedOutput(); err == nil {
		t.Errorf("dpkg -s %s still knows the package:\n%s", p, out)
	}
}

// dpkg runs dpkg as run does, waiting while another dpkg or apt holds its
// lock (another test package, or the machine's own apt), as apt's
// DPkg::Lock::Timeout would.
func dpkg(t *testing.T, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := exec.Command("dpkg", args...).CombinedOutput()
		if err == nil {
			return string(out)
		}
		if !strings.Contains(string(out), "lock") || time.Now().After(deadline) {
			t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/tern-agent/tern/packager/internal/helperbuild/helperbuildtest"
	"github.com/tern-agent/tern/packager/internal/image"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/manifest"
)

// The image with the real tern in it, run as a container runs it: its
// filesystem as /, as the user its config names, in a sandbox that may not
// make namespaces (no capabilities, no further user namespaces, as
// Docker's defaults). tern --version works; tern doctor reports that the
// shipped bwrap cannot start and Landlock stands in, and its trial run
// passes; and tern sandbox run -- true, with no program but tern in the
// image, exits 127 naming the image as the cause and the remedy.
func TestTheImageRunsAsItsUserInAContainerThatForbidsNamespaces(t *testing.T) {
	if runtime.GOARCH != "amd64" || os.Geteuid() != 0 {
		t.Skip("the test runs the amd64 image's real tern as the image's user, which takes root to arrange")
	}
	outer, err := exec.LookPath("bwrap")
	if err != nil {
		t.Fatalf("bwrap is not installed; `make test` installs Debian's bubblewrap: %v", err)
	}
	repo := newRepo(t)
	dir := mustRelease(t, repo, Options{Snapshot: true})
	m, err := manifest.Read(filepath.Join(dir, layout.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg(t)
	tg, _ := c.Target("linux-x64")
	tree := filepath.Join(repo, "dist", "stage", tg.Name)

	// The real tern and the real static bwrap, built from third_party/ as
	// a release builds it, in place of the fixture's; tern stamped with
	// bwrap's digest as a release stamps it.
	root, _ := filepath.Abs("../../..")
	bwrap := helperbuildtest.Bwrap(t, root, "linux-x64")
	if err := os.WriteFile(filepath.Join(tree, filepath.FromSlash(layout.HelperPath(c, "bwrap"))), bwrap, 0o755); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bwrap)
	build := exec.Command("go", "build", "-trimpath", "-ldflags",
		"-s -w -X 'github.com/tern-agent/tern/agent/internal/buildinfo.stamp=@(#)version="+m.Version+";commit="+m.Commit+";bwrap_sha256="+hex.EncodeToString(sum[:])+"'",
		"-o", filepath.Join(tree, filepath.FromSlash(layout.BinaryPath(c, tg))), "./agent/cmd/tern")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the agent: %v\n%s", err, out)
	}

	idx, err := image.Build(c, filepath.Join(repo, "dist", "stage"), image.Release{Version: m.Version, Commit: m.Commit, Created: m.Time})
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	var rootfs string
	var env []string
	var uid, gid int
	for _, d := range im.Manifests {
		if d.Platform.Architecture != "amd64" {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		env = cf.Config.Env
		u, g, _ := strings.Cut(cf.Config.User, ":")
		uid, _ = strconv.Atoi(u)
		gid, _ = strconv.Atoi(g)
		if uid == 0 {
			t.Fatalf("the image runs as %q", cf.Config.User)
		}
		rootfs = unpack(t, mutate.Extract(img))
	}
	// The mount points a container runtime makes itself.
	for _, d := range []string{"proc", "dev"} {
		if err := os.Mkdir(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	container := func(args ...string) (stdout, stderr string, code int) {
		t.Helper()
		argv := []string{"--unshare-user", "--disable-userns", "--unshare-pid", "--cap-drop", "ALL",
			"--bind", rootfs, "/", "--proc", "/proc", "--dev", "/dev", "--chdir", "/work", "--clearenv"}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			argv = append(argv, "--setenv", k, v)
		}
		argv = append(append(argv, "--", "/bin/tern"), args...)
		cmd := exec.Command(outer, argv...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("tern %v did not finish in 60 s:\n%s", args, e.String())
		}
		return o.String(), e.String(), cmd.ProcessState.ExitCode()
	}

	if out, errOut, code := container("--version"); code != 0 || !strings.Contains(out, m.Version) {
		t.Fatalf("tern --version in the image: exit %d\n%s%s", code, out, errOut)
	}

	out, errOut, _ := container("doctor", "--json") // exits 1 on a problem; the report says which
	var doctor struct {
		Sandbox struct {
			Backend  string `json:"backend"`
			TrialRun string `json:"trial_run"`
			Fallback string `json:"fallback"`
			Host     struct {
				BwrapStartErr string `json:"bwrap_start_error"`
			} `json:"host"`
		} `json:"sandbox"`
	}
	if err := json.Unmarshal([]byte(out), &doctor); err != nil {
		t.Fatalf("tern doctor --json in the image: %v\n%s%s", err, out, errOut)
	}
	if s := doctor.Sandbox; s.Backend != "landlock" || s.TrialRun != "ok" ||
		!strings.Contains(s.Fallback, "/libexec/tern/bwrap failed to start a trivial sandbox: bwrap: Creating new namespace failed") ||
		s.Host.BwrapStartErr != s.Fallback {
		t.Errorf("tern doctor in the image: backend %q, trial run %q, fallback %q, bwrap_start_error %q; want landlock, ok and why bwrap cannot start\n%s",
			s.Backend, s.TrialRun, s.Fallback, s.Host.BwrapStartErr, out)
	}

	out, errOut, code := container("sandbox", "run", "--", "true")
	t.Logf("tern sandbox run -- true in the image: exit %d\n%s%s", code, out, errOut)
	for _, want := range []string{"true: command not found: PATH (/bin) holds no program but tern", "COPY --from=<tern's image> /bin/tern /usr/local/bin/tern"} {
		if code != 127 || !strings.Contains(errOut, want) {
			t.Errorf("tern sandbox run -- true in the image exits %d, and does not say %q", code, want)
		}
	}
}

// unpack writes an image's flattened filesystem into a directory every
// user can reach, outside /tmp, with the owners and modes the image gives.
func unpack(t *testing.T, rc interface {
	Read([]byte) (int, error)
	Close() error
}) string {
	t.Helper()
	defer rc.Close()
	dir, err := os.MkdirTemp("/var/tmp", "tern-image-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	for _, m := range readTar(t, rc) {
		p := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(m.hdr.Name, "/")))
		if m.hdr.Typeflag == '5' { // a directory
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, m.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, m.hdr.Uid, m.hdr.Gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, os.FileMode(m.hdr.Mode&0o777)|modeBits(m.hdr.Mode)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func modeBits(mode int64) os.FileMode {
	if mode&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}

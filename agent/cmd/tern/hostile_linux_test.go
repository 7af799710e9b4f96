package main

// Attacks on the sandbox, each as a red team ran it against an earlier tern.
// Every test runs on both backends (bwrap and Landlock) and, where the
// attack differs by who runs tern, both as root (containers, CI) and as a
// throw-away unprivileged user that the test creates.

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tern-agent/tern/agent/internal/testuser"
)

// runner is who runs tern: root, or an unprivileged user.
type runner struct {
	name string
	cred *syscall.Credential // nil: this process's own (root)
	tern string              // a tern binary this runner may execute
}

var (
	probeOnce sync.Once
	probePath string
	probeErr  error
)

// probeBin builds testdata/probe into a directory every user can read,
// outside /tmp (which bwrap replaces).
func probeBin(t *testing.T) string {
	t.Helper()
	probeOnce.Do(func() {
		dir, err := os.MkdirTemp("/var/tmp", "tern-probe-")
		if err != nil {
			probeErr = err
			return
		}
		os.Chmod(dir, 0o755)
		probePath = filepath.Join(dir, "probe")
		build := exec.Command("go", "build", "-o", probePath, "./testdata/probe")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := build.CombinedOutput(); err != nil {
			probeErr = fmt.Errorf("building the probe: %v\n%s", err, b)
		}
	})
	if probeErr != nil {
		t.Fatal(probeErr)
	}
	return probePath
}

// runners returns root and a fresh unprivileged user. Not running as root,
// the test has only itself, and says so.
func runners(t *testing.T) []runner {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Logf("not root: the root and unprivileged-user cases need root to run; testing as uid %d only", os.Geteuid())
		return []runner{{name: "self", tern: ternBin}}
	}
	return []runner{{name: "root", tern: ternBin}, throwawayUser(t)}
}

// throwawayUser is an unprivileged user made for this test, removed
// afterwards, with a copy of tern it can execute.
func throwawayUser(t *testing.T) runner {
	t.Helper()
	u := testuser.Create(t)
	dir := outsideDir(t)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "tern")
	copyFile(t, ternBin, bin)
	return runner{name: "user", cred: u.Credential(), tern: bin}
}

// dir makes a directory the runner owns, outside /tmp.
func (r runner) dir(t *testing.T) string {
	t.Helper()
	d := outsideDir(t)
	if r.cred != nil {
		if err := os.Chown(d, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// run runs tern as the runner, with stdin from in (nil: none).
func (r runner) run(t *testing.T, dir string, env []string, in *os.File, args ...string) result {
	t.Helper()
	cmd := exec.Command(r.tern, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}, env...)
	if in != nil {
		cmd.Stdin = in
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if r.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
	}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tern %v did not finish in 60 s; stderr %s", args, stderr.String())
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// each runs f for every backend and runner.
func each(t *testing.T, f func(t *testing.T, b backend, r runner)) {
	for _, r := range runners(t) {
		for _, b := range backends(t) {
			t.Run(r.name+"/"+b.name, func(t *testing.T) { f(t, b, r) })
		}
	}
}

// Critical 1: root kept every capability inside bwrap, so a read-only
// sandbox could remount / read-write and write the host, and TIOCSTI could
// type into the parent's terminal.
func TestSandboxedCommandsHaveNoCapabilities(t *testing.T) {
	probe := probeBin(t)
	each(t, func(t *testing.T, b backend, r runner) {
		env := b.env(t)
		ws, victim := r.dir(t), outsideDir(t)
		target := filepath.Join(victim, "f")
		// A .git makes Landlock take its mount-namespace path, where the
		// restricted child briefly holds capabilities: none may remain.
		if err := os.Mkdir(filepath.Join(ws, ".git"), 0o755); err != nil {
			t.Fatal(err)
		}
		res := r.run(t, ws, env, nil, "sandbox", "run", "--mode", "read-only", "--", "sh", "-c",
			`grep CapEff /proc/self/status; mount -o remount,bind,rw / 2>/dev/null && echo remounted; echo x > `+target+` 2>/dev/null && echo wrote`)
		if !strings.Contains(res.stdout, "CapEff:\t0000000000000000") {
			t.Errorf("the sandboxed command has capabilities: %q (stderr %s)", res.stdout, res.stderr)
		}
		if strings.Contains(res.stdout, "remounted") || strings.Contains(res.stdout, "wrote") || exists(target) {
			t.Errorf("the sandboxed command remounted / or wrote the host: %q", res.stdout)
		}

		// TIOCSTI on a terminal the command holds.
		ptmx, tty := openPTY(t)
		if r.cred != nil {
			os.Chown(tty.Name(), int(r.cred.Uid), -1)
		}
		res = r.run(t, ws, env, tty, "sandbox", "run", "--mode", "read-only", "--", probe, "tiocsti")
		if !strings.HasPrefix(res.stdout, "denied:") {
			t.Errorf("TIOCSTI into the terminal worked: %q (stderr %s)", res.stdout, res.stderr)
		}
		if typed := drain(ptmx); strings.Contains(typed, "id") {
			t.Errorf("keystrokes reached the terminal: %q", typed)
		}
	})
}

// drain reads what is waiting on the terminal's master side.
// drain reads what is waiting on the terminal's master side: what was
// typed into it is echoed there.
func drain(ptmx *os.File) string {
	fd := int(ptmx.Fd())
	unix.SetNonblock(fd, true)
	defer unix.SetNonblock(fd, false)
	time.Sleep(100 * time.Millisecond)
	buf := make([]byte, 4096)
	n, _ := unix.Read(fd, buf)
	return string(buf[:max(n, 0)])
}

// Critical 2: under Landlock, root could mknod a block device in the
// workspace and write a host disk through it.
func TestNoDeviceNodesInTheWorkspace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a loop device needs root; the attack needs it too")
	}
	backing := filepath.Join(outsideDir(t), "disk.img")
	if err := os.WriteFile(backing, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", backing).Output()
	if err != nil {
		t.Skipf("no loop device can be attached here (%v); the mknod refusal is still tested below", err)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", loop).Run() })
	var st unix.Stat_t
	if err := unix.Stat(loop, &st); err != nil {
		t.Fatal(err)
	}
	major, minor := unix.Major(st.Rdev), unix.Minor(st.Rdev)

	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ws := outsideDir(t)
			r := tern(t, ws, b.env(t), "sandbox", "run", "--mode", "workspace-write", "--", "sh", "-c",
				fmt.Sprintf(`mknod ./blk b %d %d && echo pwned | dd of=./blk conv=notrunc 2>/dev/null && echo wrote`, major, minor))
			if strings.Contains(r.stdout, "wrote") || exists(filepath.Join(ws, "blk")) {
				t.Errorf("a block device was made in the workspace: %q %s", r.stdout, r.stderr)
			}
			if data, _ := os.ReadFile(backing); bytes.Contains(data, []byte("pwned")) {
				t.Fatalf("the sandboxed command wrote the loop device's backing file")
			}
		})
	}
}

// High 4: .git was writable in workspace-write, so a planted hook or
// core.fsmonitor ran unsandboxed at the user's next git command.
func TestGitStaysReadOnly(t *testing.T) {
	each(t, func(t *testing.T, b backend, r runner) {
		// Under Landlock an ordinary user gets the read-only mounts in a user
		// namespace; where the host refuses one, doctor says .git is not
		// protected (see the sandbox package's plan tests).
		ws := r.dir(t)
		gitAs(t, r, ws, "init", "-q")
		// A linked worktree's .git is a file naming its git dir.
		wt := filepath.Join(ws, "wt")
		gitAs(t, r, ws, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x")
		gitAs(t, r, ws, "worktree", "add", "-q", wt)
		// A vendored checkout: a repository of its own, deeper down.
		nested := filepath.Join(ws, "vendor", "lib")
		if err := os.MkdirAll(nested, 0o755); err != nil {
			t.Fatal(err)
		}
		if r.cred != nil {
			exec.Command("chown", "-R", fmt.Sprintf("%d:%d", r.cred.Uid, r.cred.Gid), filepath.Join(ws, "vendor")).Run()
		}
		gitAs(t, r, nested, "init", "-q")

		for _, dir := range []string{ws, wt} {
			res := r.run(t, dir, b.env(t), nil, "sandbox", "run", "--mode", "workspace-write", "--", "sh", "-c", `
				echo ok > allowed && echo wrote-allowed
				gitdir=$(git rev-parse --git-common-dir)
				echo 'touch /var/tmp/pwned' > "$gitdir/hooks/pre-commit" 2>/dev/null && echo wrote-hook
				git config core.fsmonitor 'touch /var/tmp/pwned' 2>/dev/null && echo wrote-config
				mv .git .git-moved 2>/dev/null && echo moved-git
				rm -rf "$gitdir/hooks" 2>/dev/null; [ -d "$gitdir/hooks" ] || echo removed-hooks
				if [ -d vendor/lib/.git ]; then
					echo '[core] fsmonitor = touch /var/tmp/pwned' >> vendor/lib/.git/config 2>/dev/null && echo wrote-nested
					# Move the repository aside and put a writable .git in its place.
					mv vendor/lib vendor/lib-aside 2>/dev/null && mkdir -p vendor/lib/.git && echo swapped-nested
					mv vendor vendor-aside 2>/dev/null && echo moved-vendor
				fi
				true`)
			if !strings.Contains(res.stdout, "wrote-allowed") {
				t.Fatalf("%s: the workspace itself must stay writable: %q %s", dir, res.stdout, res.stderr)
			}
			for _, bad := range []string{"wrote-hook", "wrote-config", "moved-git", "removed-hooks", "wrote-nested", "swapped-nested", "moved-vendor"} {
				if strings.Contains(res.stdout, bad) {
					t.Errorf("%s: the sandboxed command could %s: %q", dir, bad, res.stdout)
				}
			}
		}
	})
}

func gitAs(t *testing.T, r runner, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1")
	if r.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// Medium 8 and 9: with the network off, Landlock still sent UDP, and both
// backends reached host listeners on path sockets (under Landlock, the
// user's ssh-agent). With --allow-network, both work: the control.
func TestNetworkOffReachesNoSocket(t *testing.T) {
	probe := probeBin(t)
	each(t, func(t *testing.T, b backend, r runner) {
		udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer udp.Close()
		sockDir := r.dir(t)
		stream, err := net.Listen("unix", filepath.Join(sockDir, "agent.sock"))
		if err != nil {
			t.Fatal(err)
		}
		defer stream.Close()
		gram, err := net.ListenPacket("unixgram", filepath.Join(sockDir, "log.sock"))
		if err != nil {
			t.Fatal(err)
		}
		defer gram.Close()
		if r.cred != nil {
			for _, s := range []string{"agent.sock", "log.sock"} {
				os.Chown(filepath.Join(sockDir, s), int(r.cred.Uid), int(r.cred.Gid))
			}
		}
		received := make(chan string, 8)
		go func() {
			for {
				c, err := stream.Accept()
				if err != nil {
					return
				}
				received <- "unix"
				c.Close()
			}
		}()
		for _, l := range []net.PacketConn{udp, gram} {
			go func() {
				buf := make([]byte, 64)
				for {
					if _, _, err := l.ReadFrom(buf); err != nil {
						return
					}
					received <- l.LocalAddr().Network()
				}
			}()
		}

		attempts := map[string][]string{
			"udp":      {"udp", udp.LocalAddr().String()},
			"unix":     {"unix", filepath.Join(sockDir, "agent.sock")},
			"unixgram": {"unixgram", filepath.Join(sockDir, "log.sock")},
			// The kernel makes an AF_UNIX SOCK_RAW socket a datagram one.
			"unixraw": {"unixraw", filepath.Join(sockDir, "log.sock")},
		}
		ws := r.dir(t)
		for name, args := range attempts {
			res := r.run(t, ws, b.env(t), nil, append([]string{"sandbox", "run", "--mode", "read-only", "--", probe}, args...)...)
			if !strings.HasPrefix(res.stdout, "denied:") {
				t.Errorf("network off, %s: %q (stderr %s)", name, res.stdout, res.stderr)
			}
			res = r.run(t, ws, b.env(t), nil, append([]string{"sandbox", "run", "--mode", "read-only", "--allow-network", "--", probe}, args...)...)
			if res.stdout != "ok\n" {
				t.Errorf("--allow-network, %s must work: %q (stderr %s)", name, res.stdout, res.stderr)
			}
		}
		time.Sleep(100 * time.Millisecond)
		close(received)
		var got []string
		for g := range received {
			got = append(got, g)
		}
		if len(got) != len(attempts) {
			t.Errorf("the listeners heard %v; want exactly the %d --allow-network attempts", got, len(attempts))
		}

		if b.name == "bwrap" {
			res := r.run(t, ws, b.env(t), nil, "sandbox", "run", "--mode", "read-only", "--", "ls", "-A", "/run")
			if res.code != 0 || strings.TrimSpace(res.stdout) != "" {
				t.Errorf("with the network off, bwrap's /run must be private and empty: %q %s", res.stdout, res.stderr)
			}
		}
	})
}

// Medium 11: under Landlock a daemon (setsid, double fork) outlived the
// call, and one holding the output pipe kept tern waiting past the timeout.
func TestNothingOutlivesTheCommand(t *testing.T) {
	each(t, func(t *testing.T, b backend, r runner) {
		marker := fmt.Sprintf("%d", 7000+os.Getpid()%1000) // a sleep length no other test uses
		ws := r.dir(t)
		start := time.Now()
		res := r.run(t, ws, b.env(t), nil, "sandbox", "run", "--", "sh", "-c",
			`setsid sleep `+marker+` & (sleep `+marker+` &) ; echo started`)
		if res.code != 0 || !strings.Contains(res.stdout, "started") {
			t.Fatalf("exit %d, %q %s", res.code, res.stdout, res.stderr)
		}
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("tern waited %s for daemons holding its output", took)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			out, _ := exec.Command("pgrep", "-f", "sleep "+marker).Output()
			if len(bytes.TrimSpace(out)) == 0 {
				break
			}
			if time.Now().After(deadline) {
				exec.Command("pkill", "-f", "sleep "+marker).Run()
				t.Fatalf("daemons outlived the sandboxed command: pids %s", out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// Descriptors tern inherits (a socket, a pipe, a terminal its parent left
// open) reached the sandboxed command, and a connected socket carried it
// past "network off".
func TestNoInheritedDescriptorReachesTheCommand(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	conn, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sock, err := conn.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()

	each(t, func(t *testing.T, b backend, r runner) {
		cmd := exec.Command(r.tern, "sandbox", "run", "--", "ls", "/proc/self/fd")
		cmd.Dir = r.dir(t)
		cmd.Env = append([]string{"HOME=" + cmd.Dir, "PATH=" + os.Getenv("PATH")}, b.env(t)...)
		cmd.ExtraFiles = []*os.File{sock, pw} // fds 3 and 4 in tern
		if r.cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		// ls holds one descriptor of its own, the directory it lists.
		if got := strings.Fields(string(out)); strings.Join(got, " ") != "0 1 2 3" {
			t.Fatalf("the sandboxed command holds descriptors beyond stdio and its own: %v", got)
		}
	})
}

// Under Landlock /dev was readable, so a command could open another of the
// user's terminals (/dev/pts/N) and read what is typed there, answers to
// tern's own approval prompt included.
func TestNoOtherTerminalIsReadable(t *testing.T) {
	each(t, func(t *testing.T, b backend, r runner) {
		master, slave := openPTY(t)
		if r.cred != nil {
			os.Chown(slave.Name(), int(r.cred.Uid), -1)
		}
		if _, err := master.Write([]byte("hunter2\n")); err != nil {
			t.Fatal(err)
		}
		res := r.run(t, r.dir(t), b.env(t), nil, "sandbox", "run", "--", "dd", "bs=8", "count=1", "if="+slave.Name())
		if strings.Contains(res.stdout, "hunter2") {
			t.Fatalf("the sandboxed command read another terminal: %q", res.stdout)
		}
	})
}

package testuser

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
	"testing"
)

// User is a throw-away user that a test created.
type User struct {
	Name     string
	UID, GID int
}

// Create makes a user for this test, deleted when the test ends. It skips
// the test where no user can be made: not root, or no useradd. One name
// per test process, so parallel packages never share a user.
func Create(t *testing.T) User {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("only root can make a throw-away user")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skipf("useradd is missing (package passwd), so no unprivileged user can be made: %v", err)
	}
	name := fmt.Sprintf("tern-t%d", os.Getpid()%100000)
	if _, err := user.Lookup(name); err != nil {
		if out, err := exec.Command("useradd", "--no-create-home", "--shell", "/bin/sh", name).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v\n%s", name, err, out)
		}
		t.Cleanup(func() {
			// userdel refuses a user who still has processes; a failed
			// test may have left some.
			exec.Command("pkill", "-KILL", "-u", name).Run()
			exec.Command("userdel", name).Run()
		})
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return User{Name: name, UID: uid, GID: gid}
}

// Credential is what a command started as this user runs with.
func (u User) Credential() *syscall.Credential {
	return &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID)}
}

// RunAs makes cmd, not yet started, run as this user.
func (u User) RunAs(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = u.Credential()
}

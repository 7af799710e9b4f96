package main

import (
	"encoding/json"
	"os"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// envNoLandlockExec makes the test binary install a seccomp filter that
// fails landlock_create_ruleset with ENOSYS, exactly as a kernel without
// Landlock does, and then execute the command in the variable. That lets the
// refusal path run for real on a kernel that has Landlock.
const envNoLandlockExec = "TERN_TEST_EXEC_WITHOUT_LANDLOCK"

// withoutLandlock runs tern on a kernel that, as far as tern can tell, has no
// Landlock.
func withoutLandlock(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv, err := json.Marshal(append([]string{ternBin}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return runIn(t, dir, self, append(env, envNoLandlockExec+"="+string(argv)))
}

func execWithoutLandlock(rawArgv string) {
	var argv []string
	if err := json.Unmarshal([]byte(rawArgv), &argv); err != nil {
		panic(err)
	}
	os.Unsetenv(envNoLandlockExec)
	runtime.LockOSThread() // the filter binds the thread that then calls execve
	const (
		ldAbsW     = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq        = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret        = unix.BPF_RET | unix.BPF_K
		retErrno   = 0x00050000 // SECCOMP_RET_ERRNO
		retAllow   = 0x7fff0000 // SECCOMP_RET_ALLOW
		nrOffset   = 0          // offsetof(struct seccomp_data, nr)
		sysRuleset = 444        // landlock_create_ruleset on amd64 and arm64
	)
	filter := []unix.SockFilter{
		{Code: ldAbsW, K: nrOffset},
		{Code: jeq, Jt: 0, Jf: 1, K: sysRuleset},
		{Code: ret, K: retErrno | uint32(syscall.ENOSYS)},
		{Code: ret, K: retAllow},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		panic(err)
	}
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0); err != nil {
		panic(err)
	}
	err := syscall.Exec(argv[0], argv, os.Environ())
	panic(err)
}

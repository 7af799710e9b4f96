package sandbox

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp filter every sandboxed command runs under, on both Linux
// backends (bwrap loads it with --seccomp; the Landlock child installs it
// itself). It closes what the filesystem rules and namespaces cannot:
//
//   - always: TIOCSTI and TIOCLINUX, which push keystrokes into a terminal
//     (the parent's, if the command finds one open); the kernel keyring
//     (keyctl, add_key, request_key), where the user's session secrets live;
//     and io_uring, whose socket and connect operations never pass through
//     the socket() and connect() checks below;
//   - always: new user namespaces (clone or unshare with CLONE_NEWUSER; and
//     clone3, whose flags lie in memory the filter cannot read, gets ENOSYS,
//     which makes glibc fall back to clone). A command needs none, and each
//     counts against its user's quota (user.max_user_namespaces) on the
//     host: a command holding the whole quota made the bwrap of any tern
//     started meanwhile fail, and is the kernel's widest door besides;
//   - with the network off: every socket family but AF_UNIX (UDP and DNS
//     included, which Landlock's TCP rules leave open), every AF_UNIX type
//     but stream and seqpacket (a datagram socket, or a raw one, which the
//     kernel makes a datagram socket, names a path per message), and connect()
//     on any socket, so that no path socket is reached: the user's
//     ssh-agent, a Docker daemon, a listener under /var/tmp. seccomp cannot
//     read the path a connect() names, so this is all or nothing; a stream
//     or seqpacket socketpair (how build tools talk to their workers) keeps
//     working.
//
// System calls of a foreign architecture (i386 on x86-64, x32) are refused:
// their numbers differ, so the filter cannot judge them.

// bpf instruction classes and fields, from linux/filter.h.
const (
	bpfLD   = 0x00
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfALU  = 0x04
	bpfW    = 0x00
	bpfABS  = 0x20
	bpfJEQ  = 0x10
	bpfJGE  = 0x30
	bpfJSET = 0x40
	bpfAND  = 0x50
	bpfK    = 0x00
)

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16 // args[i] at 16 + 8*i; the low 32 bits first on little-endian
)

// nativeArch is the audit architecture whose system call numbers unix.SYS_*
// give, on the architectures tern ships for Linux.
func nativeArch() (uint32, error) {
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64, nil
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64, nil
	}
	return 0, fmt.Errorf("no seccomp filter for %s", runtime.GOARCH)
}

func errnoRet(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }

// filterProgram assembles the filter. Jumps are written by label and
// resolved at the end, so the program reads top to bottom.
type filterProgram struct {
	ins    []unix.SockFilter
	labels map[string]int
	fixups []fixup
}

type fixup struct {
	at     int
	jt, jf string
}

func (p *filterProgram) load(off uint32) {
	p.ins = append(p.ins, unix.SockFilter{Code: bpfLD | bpfW | bpfABS, K: off})
}

func (p *filterProgram) and(k uint32) {
	p.ins = append(p.ins, unix.SockFilter{Code: bpfALU | bpfAND | bpfK, K: k})
}

// jump goes to label jt when the accumulator op k holds, else to jf ("" is
// the next instruction).
func (p *filterProgram) jump(op uint16, k uint32, jt, jf string) {
	p.fixups = append(p.fixups, fixup{at: len(p.ins), jt: jt, jf: jf})
	p.ins = append(p.ins, unix.SockFilter{Code: bpfJMP | op | bpfK, K: k})
}

func (p *filterProgram) ret(k uint32) {
	p.ins = append(p.ins, unix.SockFilter{Code: bpfRET | bpfK, K: k})
}

func (p *filterProgram) label(name string) {
	if p.labels == nil {
		p.labels = map[string]int{}
	}
	p.labels[name] = len(p.ins)
}

func (p *filterProgram) resolve() ([]unix.SockFilter, error) {
	offset := func(from int, label string) (uint8, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := p.labels[label]
		if !ok || to <= from || to-from-1 > 255 {
			return 0, fmt.Errorf("seccomp filter: bad jump to %q", label)
		}
		return uint8(to - from - 1), nil
	}
	for _, f := range p.fixups {
		var err error
		if p.ins[f.at].Jt, err = offset(f.at, f.jt); err != nil {
			return nil, err
		}
		if p.ins[f.at].Jf, err = offset(f.at, f.jf); err != nil {
			return nil, err
		}
	}
	return p.ins, nil
}

// seccompFilter builds the filter for a policy.
func seccompFilter(allowNetwork bool) ([]unix.SockFilter, error) {
	arch, err := nativeArch()
	if err != nil {
		return nil, err
	}
	var p filterProgram
	p.load(offArch)
	p.jump(bpfJEQ, arch, "", "foreign")
	p.load(offNr)
	if runtime.GOARCH == "amd64" {
		p.jump(bpfJGE, 0x40000000, "foreign", "") // the x32 ABI
	}
	p.jump(bpfJEQ, unix.SYS_IOCTL, "ioctl", "")
	for _, nr := range []uint32{unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY} {
		p.jump(bpfJEQ, nr, "eperm", "")
	}
	for _, nr := range []uint32{unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER, unix.SYS_CLONE3} {
		p.jump(bpfJEQ, nr, "enosys", "")
	}
	p.jump(bpfJEQ, unix.SYS_CLONE, "namespaces", "")
	p.jump(bpfJEQ, unix.SYS_UNSHARE, "namespaces", "")
	if !allowNetwork {
		p.jump(bpfJEQ, unix.SYS_SOCKET, "socket", "")
		p.jump(bpfJEQ, unix.SYS_SOCKETPAIR, "socket", "")
		p.jump(bpfJEQ, unix.SYS_CONNECT, "eacces", "")
	}
	p.ret(unix.SECCOMP_RET_ALLOW)

	p.label("ioctl")
	p.load(offArg0 + 8) // the request; the kernel reads it as a 32-bit int
	p.jump(bpfJEQ, unix.TIOCSTI, "eperm", "")
	p.jump(bpfJEQ, unix.TIOCLINUX, "eperm", "")
	p.ret(unix.SECCOMP_RET_ALLOW)

	p.label("namespaces")
	p.load(offArg0) // the flags, of clone and unshare alike
	p.jump(bpfJSET, unix.CLONE_NEWUSER, "eperm", "")
	p.ret(unix.SECCOMP_RET_ALLOW)

	if !allowNetwork {
		p.label("socket")
		p.load(offArg0) // the family
		p.jump(bpfJEQ, unix.AF_UNIX, "", "eafnosupport")
		p.load(offArg0 + 8) // the type, with SOCK_CLOEXEC and SOCK_NONBLOCK
		p.and(0xf)
		// Connection-mode types only: the kernel turns AF_UNIX SOCK_RAW
		// into a datagram socket, so a list of what to refuse would leak.
		p.jump(bpfJEQ, unix.SOCK_STREAM, "allow", "")
		p.jump(bpfJEQ, unix.SOCK_SEQPACKET, "allow", "eacces")
		p.label("allow")
		p.ret(unix.SECCOMP_RET_ALLOW)
		p.label("eafnosupport")
		p.ret(errnoRet(unix.EAFNOSUPPORT))
		p.label("eacces")
		p.ret(errnoRet(unix.EACCES))
	}
	p.label("eperm")
	p.ret(errnoRet(unix.EPERM))
	p.label("enosys")
	p.ret(errnoRet(unix.ENOSYS))
	p.label("foreign")
	p.ret(unix.SECCOMP_RET_KILL_PROCESS)
	return p.resolve()
}

// seccompBytes is the filter as bwrap's --seccomp reads it: the raw struct
// sock_filter array, native byte order.
func seccompBytes(allowNetwork bool) ([]byte, error) {
	prog, err := seccompFilter(allowNetwork)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		out = binary.NativeEndian.AppendUint16(out, in.Code)
		out = append(out, in.Jt, in.Jf)
		out = binary.NativeEndian.AppendUint32(out, in.K)
	}
	return out, nil
}

// installSeccomp loads the filter on every thread of this process. It needs
// no_new_privs (or CAP_SYS_ADMIN), which the caller sets first.
func installSeccomp(allowNetwork bool) error {
	prog, err := seccompFilter(allowNetwork)
	if err != nil {
		return err
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return fmt.Errorf("loading the seccomp filter: %w", errno)
	}
	return nil
}

package sandbox

import (
	"fmt"
	"strings"
)

// seatbeltArgs builds the sandbox-exec command line for p: a generated
// profile, the writable roots and the protected paths in them as -D
// parameters, then argv. Paths travel as parameters, never spliced into the
// profile text, so no directory name can change the profile's meaning.
func seatbeltArgs(p Policy, tmp string, protected []string, argv []string) []string {
	roots := append(p.WritableRoots(), tmp)
	args := []string{"-p", seatbeltProfile(len(roots), len(protected), p.AllowNetwork)}
	for i, r := range roots {
		args = append(args, "-D", fmt.Sprintf("%s=%s", seatbeltRootParam(i), r))
	}
	for i, r := range protected {
		args = append(args, "-D", fmt.Sprintf("%s=%s", seatbeltProtectedParam(i), r))
	}
	args = append(args, "--")
	return append(args, argv...)
}

func seatbeltRootParam(i int) string      { return fmt.Sprintf("WRITABLE_ROOT_%d", i) }
func seatbeltProtectedParam(i int) string { return fmt.Sprintf("PROTECTED_%d", i) }

// seatbeltProfile is an SBPL profile that denies by default, then allows:
// reading everything, writing below the nWritable parameterised roots and to
// the terminal and null devices, running programs, and the few system services
// ordinary command-line programs need. Network access only when asked for.
//
// The protected paths (.git and the like, see ProtectedNames) are denied
// writes after the roots are allowed them: in SBPL the last matching rule
// wins.
func seatbeltProfile(nWritable, nProtected int, allowNetwork bool) string {
	var b strings.Builder
	b.WriteString(`(version 1)
(deny default)

; processes: run programs, and signal only those in this sandbox
(allow process-exec)
(allow process-fork)
(allow signal (target same-sandbox))
(allow process-info* (target same-sandbox))

; the filesystem: read everywhere, write only below the writable roots
(allow file-read*)
(allow file-write* file-ioctl
  (literal "/dev/null") (literal "/dev/zero") (literal "/dev/tty")
  (literal "/dev/dtracehelper") (regex #"^/dev/ttys[0-9]+$"))
`)
	if nWritable > 0 {
		b.WriteString("(allow file-write*")
		for i := 0; i < nWritable; i++ {
			fmt.Fprintf(&b, "\n  (subpath (param %q))", seatbeltRootParam(i))
		}
		b.WriteString(")\n")
	}
	if nProtected > 0 {
		b.WriteString("(deny file-write*")
		for i := 0; i < nProtected; i++ {
			fmt.Fprintf(&b, "\n  (subpath (param %q))", seatbeltProtectedParam(i))
		}
		b.WriteString(")\n")
	}
	b.WriteString(`
; what libc and common tools need: user lookups, sysctls, shared memory, ptys
(allow sysctl-read)
(allow mach-lookup
  (global-name "com.apple.system.opendirectoryd.libinfo")
  (global-name "com.apple.system.notification_center")
  (global-name "com.apple.system.logger")
  (global-name "com.apple.trustd.agent"))
(allow ipc-posix-sem)
(allow ipc-posix-shm-read* ipc-posix-shm-write-data)
(allow pseudo-tty)
(allow file-read* file-write* file-ioctl (literal "/dev/ptmx"))
`)
	if allowNetwork {
		b.WriteString(`
; network: allowed by --allow-network
(allow network-outbound)
(allow network-inbound)
(allow system-socket)
(allow mach-lookup
  (global-name "com.apple.dnssd.service")
  (global-name "com.apple.SystemConfiguration.configd"))
`)
	}
	return b.String()
}

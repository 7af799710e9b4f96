package sandbox

import (
	"fmt"
	"strings"
)

// Protection is one safeguard of a sandbox and whether a plan enforces it.
// tern doctor prints them; the README's sandbox section states the same.
type Protection struct {
	Name     string `json:"name"`
	Enforced bool   `json:"enforced"`
	Detail   string `json:"detail"`
}

// Names of the protections.
const (
	ProtectCapabilities = "capabilities"
	ProtectPaths        = "protected paths"
	ProtectNetwork      = "network"
	ProtectSyscalls     = "system calls"
	ProtectProcesses    = "processes"
)

// seccompDetail is what the seccomp filter denies in every mode.
const seccompDetail = "seccomp denies TIOCSTI and TIOCLINUX (typing into a terminal), the kernel keyring, io_uring and new user namespaces"

// Protections describes what this plan enforces for p, in the order a
// person checks them.
func (pl Plan) Protections(p Policy) []Protection {
	protected := strings.Join(ProtectedNames, " and ")
	switch pl.Backend {
	case Bubblewrap, Landlock:
		caps := Protection{ProtectCapabilities, true, "all dropped, even for root; no_new_privs"}
		paths := Protection{ProtectPaths, true, protected + " stay read-only below writable roots (read-only bind mounts)"}
		network := Protection{ProtectNetwork, true, "allowed (--allow-network)"}
		procs := Protection{ProtectProcesses, true, "a PID namespace of the sandbox's own: nothing outlives the command"}
		if !p.AllowNetwork {
			how := "own network namespace"
			if pl.Backend == Landlock {
				how = "Landlock denies TCP"
			}
			network.Detail = "off: " + how + "; seccomp allows only AF_UNIX stream and seqpacket sockets and no connect(), so no host socket (ssh-agent, D-Bus, Docker) is reached"
			if pl.Backend == Bubblewrap {
				network.Detail += "; /run is private"
			} else {
				network.Detail += "; /run is unreadable"
			}
		}
		if pl.Backend == Landlock {
			procs.Detail = "a supervisor outside the sandbox reaps and kills every process the command leaves; " +
				"no PID namespace: the command sees the host's processes and their command lines, though not their environment or memory"
			if pl.LandlockABI < 6 {
				procs.Detail += fmt.Sprintf(" (Landlock ABI %d: the command can still signal it; ABI 6 scopes signals)", pl.LandlockABI)
			}
			if !pl.MountNS {
				paths = Protection{ProtectPaths, false, protected + " are writable: Landlock cannot take write access away below a writable root, " +
					"and this host refuses the mount namespace that could (see user namespaces); use bubblewrap with user namespaces allowed, or the read-only mode"}
			} else {
				paths.Detail += " in a mount namespace"
			}
		}
		if p.Mode == ReadOnly {
			paths.Detail = "everything is read-only"
			paths.Enforced = true
		}
		return []Protection{caps, paths, network, {ProtectSyscalls, true, seccompDetail}, procs}
	case SandboxExec:
		network := Protection{ProtectNetwork, true, "off: the profile denies network and unix-socket connections"}
		if p.AllowNetwork {
			network.Detail = "allowed (--allow-network)"
		}
		return []Protection{
			{ProtectPaths, true, protected + " stay read-only below writable roots (denied by the profile)"},
			network,
			{ProtectProcesses, false, "processes the command leaves running may outlive it"},
		}
	}
	return []Protection{{"sandbox", false, "none: " + string(DangerFullAccess)}}
}

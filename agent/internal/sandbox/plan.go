package sandbox

import (
	"fmt"

	"github.com/tern-agent/tern/agent/internal/helperbin"
)

// Host is what this machine offers for sandboxing, as found by Probe. It is
// plain data so that the choice between mechanisms can be tested for any
// host, not just the one the tests run on.
type Host struct {
	OS string `json:"os"`

	// Linux.
	Bwrap    *helperbin.Helper `json:"bwrap,omitempty"`
	BwrapErr string            `json:"bwrap_error,omitempty"`
	// BwrapConfigErr marks BwrapErr as the user's explicit choice gone wrong
	// (a bad TERN_BWRAP): that stops everything rather than falling back.
	BwrapConfigErr bool `json:"-"`
	// BwrapStartErr says that bwrap, though found, could not start a
	// trivial sandbox here (a container that forbids namespaces, a helper
	// this user may not execute): tern then falls back to Landlock.
	BwrapStartErr string `json:"bwrap_start_error,omitempty"`
	// BwrapStartPassing says that the failure looks passing (a quota or
	// a resource ran out, the start timed out): tern then refuses rather
	// than fall back, since a command in another session of this user
	// can cause it (see bwrapStartError).
	BwrapStartPassing bool `json:"bwrap_start_passing,omitempty"`
	// LandlockMounts says, where bwrap could not start, whether the
	// Landlock sandbox can still keep protected paths read-only in a
	// mount namespace (a mount trial); nil where it was not asked.
	LandlockMounts *Check `json:"landlock_mounts,omitempty"`
	UserNS         Check  `json:"user_namespaces"`
	LandlockABI    int    `json:"landlock_abi"` // 0: none
	LandlockErr    string `json:"landlock_error,omitempty"`

	// macOS.
	SandboxExec string `json:"sandbox_exec,omitempty"` // path, when present
}

// Check is the outcome of one capability probe.
type Check struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Remedy string `json:"remedy,omitempty"`
	// Setting names the kernel setting at fault, when one is.
	Setting string `json:"setting,omitempty"`
}

// BwrapStartRemedy is what lets a found bwrap start its sandbox.
const BwrapStartRemedy = "in a container, let it create namespaces (docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined --cap-add SYS_ADMIN, " +
	"or podman run --privileged); otherwise make the bwrap binary executable by this user, on a filesystem not mounted noexec, or set " + helperbin.EnvBwrap + " to one that is"

// BwrapRetryRemedy is what to do about a bwrap start that failed for a
// passing reason.
const BwrapRetryRemedy = "this looks temporary, and tern does not weaken the sandbox for it: run the command again; " +
	"if it keeps failing, look for processes of this user holding user namespaces, processes or memory " +
	"(a command left running in another tern session can; compare /proc/sys/user/max_user_namespaces and ulimit -u)"

// landlockNetABI is the first Landlock ABI that can deny TCP connect and bind.
const landlockNetABI = 4

// Plan is the mechanism chosen for a policy on a host.
type Plan struct {
	Backend     Backend
	Bwrap       helperbin.Helper // with Bubblewrap
	LandlockABI int              // with Landlock
	SandboxExec string           // with SandboxExec
	// MountNS says, with Landlock, that the host lets tern make a mount
	// namespace (as root, or in a user namespace), where it keeps the
	// protected paths read-only; Landlock alone cannot.
	MountNS bool
	// Fallback says, with Landlock, why the bwrap that was found does not
	// enforce the policy; Run warns with it once.
	Fallback string
}

// Plan picks the strongest mechanism that enforces p on this host, or says
// why none can.
func (h Host) Plan(p Policy) (Plan, error) {
	if p.Mode == DangerFullAccess {
		return Plan{Backend: NoSandbox}, nil
	}
	switch h.OS {
	case "linux":
		return h.planLinux(p)
	case "darwin":
		if h.SandboxExec != "" {
			return Plan{Backend: SandboxExec, SandboxExec: h.SandboxExec}, nil
		}
		return Plan{}, &UnavailableError{Mode: p.Mode, Problems: []Problem{{
			Subject: "sandbox-exec",
			Detail:  "/usr/bin/sandbox-exec is missing",
			Remedy:  "it ships with macOS; check that /usr/bin is intact",
		}}}
	case "windows":
		return Plan{}, &UnavailableError{Mode: p.Mode, Problems: []Problem{{
			Subject: "windows",
			Detail:  "tern has no sandbox for Windows yet",
			Remedy:  "run under WSL2, where the Linux sandbox works",
		}}}
	default:
		return Plan{}, &UnavailableError{Mode: p.Mode, Problems: []Problem{{
			Subject: h.OS,
			Detail:  "tern has no sandbox for this operating system",
		}}}
	}
}

func (h Host) planLinux(p Policy) (Plan, error) {
	if h.BwrapConfigErr {
		return Plan{}, &UnavailableError{Mode: p.Mode, Problems: []Problem{{Subject: "bwrap", Detail: h.BwrapErr}}}
	}
	if h.Bwrap != nil && h.UserNS.OK && h.BwrapStartErr == "" {
		return Plan{Backend: Bubblewrap, Bwrap: *h.Bwrap}, nil
	}
	if h.Bwrap != nil && h.UserNS.OK && h.BwrapStartPassing {
		return Plan{}, &UnavailableError{Mode: p.Mode, Problems: []Problem{{Subject: "bwrap", Detail: h.BwrapStartErr, Remedy: BwrapRetryRemedy}}}
	}
	landlockOK := h.LandlockABI >= 1 && (p.AllowNetwork || h.LandlockABI >= landlockNetABI)
	if landlockOK {
		// A bwrap that failed to start may have been refused its
		// namespaces, which Landlock's mount namespace would be too:
		// promise that protection only where the mount trial passed.
		mountNS := h.UserNS.OK && (h.BwrapStartErr == "" || h.LandlockMounts != nil && h.LandlockMounts.OK)
		return Plan{Backend: Landlock, LandlockABI: h.LandlockABI, MountNS: mountNS, Fallback: h.bwrapUnusable()}, nil
	}
	return Plan{}, &UnavailableError{Mode: p.Mode, Problems: h.linuxProblems(p)}
}

// bwrapUnusable is why the bwrap that was found cannot enforce a policy
// here; "" when none was found (nothing to warn about: tern was installed
// without it) or when it can.
func (h Host) bwrapUnusable() string {
	switch {
	case h.Bwrap == nil:
		return ""
	case !h.UserNS.OK:
		return h.UserNS.Detail
	}
	return h.BwrapStartErr
}

// linuxProblems explains why neither bwrap nor Landlock can enforce p.
func (h Host) linuxProblems(p Policy) []Problem {
	var probs []Problem
	switch {
	case h.Bwrap == nil:
		probs = append(probs, Problem{
			Subject: "bwrap",
			Detail:  h.BwrapErr,
			Remedy:  "install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap), reinstall tern from a release that ships libexec/tern/bwrap, or set " + helperbin.EnvBwrap + " to a bwrap binary",
		})
	case !h.UserNS.OK:
		subject := "user namespaces"
		if h.UserNS.Setting != "" {
			subject = h.UserNS.Setting
		}
		probs = append(probs, Problem{Subject: subject, Detail: h.UserNS.Detail, Remedy: h.UserNS.Remedy})
	case h.BwrapStartErr != "":
		probs = append(probs, Problem{Subject: "bwrap", Detail: h.BwrapStartErr, Remedy: BwrapStartRemedy})
	}
	switch {
	case h.LandlockABI == 0:
		probs = append(probs, Problem{
			Subject: "landlock",
			Detail:  h.LandlockErr,
			Remedy:  "use Linux 5.13 or newer with landlock in the lsm= boot parameter",
		})
	case !p.AllowNetwork && h.LandlockABI < landlockNetABI:
		probs = append(probs, Problem{
			Subject: "landlock",
			Detail:  fmt.Sprintf("Landlock ABI %d cannot deny network access (ABI %d, Linux 6.7, can)", h.LandlockABI, landlockNetABI),
			Remedy:  "pass --allow-network if the command may use the network, or use Linux 6.7 or newer",
			Fix:     FixAllowNetwork,
		})
	}
	return probs
}

package sandbox

import (
	"os"
	"path/filepath"
	"strings"
)

// Names of the kernel settings that can stop bwrap from creating the user
// namespace it needs when it is not run by root.
const (
	sysctlAppArmorUserNS = "kernel.apparmor_restrict_unprivileged_userns"
	sysctlUsernsClone    = "kernel.unprivileged_userns_clone"
	sysctlMaxUserNS      = "user.max_user_namespaces"
)

// UserNSProbe decides, from kernel settings alone and before bwrap runs,
// whether bwrap can create the namespaces it needs. Its fields point at the
// real files by default and at fakes in tests.
type UserNSProbe struct {
	ProcSys     string // normally /proc/sys
	AppArmorDir string // normally /etc/apparmor.d
	Euid        int
}

// SystemUserNSProbe reads this machine's settings.
func SystemUserNSProbe() UserNSProbe {
	return UserNSProbe{ProcSys: "/proc/sys", AppArmorDir: "/etc/apparmor.d", Euid: os.Geteuid()}
}

// sysctl reads a setting such as kernel.unprivileged_userns_clone; missing
// settings read as "".
func (pr UserNSProbe) sysctl(name string) string {
	b, err := os.ReadFile(filepath.Join(pr.ProcSys, strings.ReplaceAll(name, ".", "/")))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Check reports whether bwrap at bwrapPath can set up its namespaces.
//
// The AppArmor case matters most: Ubuntu 24.04 sets
// kernel.apparmor_restrict_unprivileged_userns=1, which lets the namespace be
// created but strips its capabilities, so bwrap dies later with an obscure
// "loopback: Failed RTM_NEWADDR: Operation not permitted". Detecting the
// setting up front lets tern fall back to Landlock and name the setting.
func (pr UserNSProbe) Check(bwrapPath string) Check {
	if pr.Euid == 0 {
		return Check{OK: true, Detail: "running as root: bwrap needs no unprivileged user namespace"}
	}
	if bwrapPath != "" && isSetuidRoot(bwrapPath) {
		return Check{OK: true, Detail: "bwrap is setuid root: it needs no unprivileged user namespace"}
	}
	if pr.sysctl(sysctlMaxUserNS) == "0" {
		return Check{
			Detail:  sysctlMaxUserNS + "=0 forbids user namespaces, which bwrap needs",
			Remedy:  "sudo sysctl -w " + sysctlMaxUserNS + "=15000 (persist it in /etc/sysctl.d/)",
			Setting: sysctlMaxUserNS,
		}
	}
	if pr.sysctl(sysctlUsernsClone) == "0" {
		return Check{
			Detail:  sysctlUsernsClone + "=0 forbids unprivileged user namespaces, which bwrap needs",
			Remedy:  "sudo sysctl -w " + sysctlUsernsClone + "=1 (persist it in /etc/sysctl.d/)",
			Setting: sysctlUsernsClone,
		}
	}
	if pr.sysctl(sysctlAppArmorUserNS) == "1" && !pr.appArmorAllowsUserNS(bwrapPath) {
		return Check{
			Detail: sysctlAppArmorUserNS + "=1: AppArmor denies user namespaces to programs without a profile that allows them, " +
				"so bwrap would fail with \"loopback: Failed RTM_NEWADDR: Operation not permitted\"",
			Remedy: "allow this bwrap with an AppArmor profile, e.g. /etc/apparmor.d/tern-bwrap containing " +
				"`abi <abi/4.0>, include <tunables/global> profile tern-bwrap " + orPlaceholder(bwrapPath) + " flags=(unconfined) { userns, }` " +
				"then `sudo apparmor_parser -r /etc/apparmor.d/tern-bwrap`; or lift the restriction with " +
				"`sudo sysctl -w " + sysctlAppArmorUserNS + "=0`",
			Setting: sysctlAppArmorUserNS,
		}
	}
	return Check{OK: true, Detail: "unprivileged user namespaces are allowed"}
}

func orPlaceholder(p string) string {
	if p == "" {
		return "/path/to/bwrap"
	}
	return p
}

// appArmorAllowsUserNS reports whether some AppArmor profile names bwrapPath
// and grants it userns. It reads profiles as text: a heuristic, but one that
// recognises the profile our remedy tells users to write, and Ubuntu's own
// bwrap-userns-restrict profile for /usr/bin/bwrap.
func (pr UserNSProbe) appArmorAllowsUserNS(bwrapPath string) bool {
	if bwrapPath == "" {
		return false
	}
	entries, err := os.ReadDir(pr.AppArmorDir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(pr.AppArmorDir, e.Name()))
		if err != nil {
			continue
		}
		text := string(b)
		if strings.Contains(text, bwrapPath) && strings.Contains(text, "userns") {
			return true
		}
	}
	return false
}

func isSetuidRoot(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	return st.Mode()&os.ModeSetuid != 0 && fileOwnerIsRoot(st)
}

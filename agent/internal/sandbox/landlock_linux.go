package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/landlock-lsm/go-landlock/landlock"
	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// Landlock restricts the process that asks for it, and what it executes
// afterwards, so the command is started through two copies of tern:
//
//	tern ──> supervisor ──> restricted child ──exec──> command
//
// The supervisor (role "supervise") stays outside the Landlock domain. It is
// the child subreaper of everything the command starts, so a daemon that
// double-forks or calls setsid still ends up its child; when the command
// exits, or tern closes the lifeline pipe (a timeout, Ctrl-C, tern's own
// death), it kills every process left and only then exits. bwrap gets the
// same from its PID namespace. From Landlock ABI 6 the command cannot
// signal the supervisor or tern, so it cannot kill its own reaper.
//
// The restricted child (role "restrict") drops every capability, sets
// no_new_privs, applies the Landlock rules and the seccomp filter, and
// executes the command in its place.
const envLandlockSpec = "TERN_INTERNAL_LANDLOCK_SPEC"

type landlockSpec struct {
	Role      string   `json:"role"` // supervise or restrict
	ABI       int      `json:"abi"`
	ReadWrite []string `json:"rw"`
	// Workspace stays readable when it lies under a directory the
	// sandbox hides (see hiddenByMounts).
	Workspace    string   `json:"workspace,omitempty"`
	Protected    []string `json:"protected,omitempty"`
	Pinned       []string `json:"pinned,omitempty"`
	MountNS      bool     `json:"mount_ns"` // protect them by mounts
	AllowNetwork bool     `json:"allow_network"`
	Argv         []string `json:"argv"`
}

const (
	roleSupervise = "supervise"
	roleRestrict  = "restrict"
	// roleMountTrial makes the mounts protectByMounts makes, on /, in the
	// namespace it was started in, and exits: whether the Landlock
	// sandbox can keep the protected paths read-only here.
	roleMountTrial = "mount-trial"
	lifelineFD     = 3 // the supervisor's end of the lifeline
)

// supervisorGrace is how long tern lets the supervisor clean up after a
// cancel before it kills it: killing it mid-sweep would leave the rest.
const supervisorGrace = 10 * time.Second

// landlockConfigs holds one go-landlock config per ABI version, index ABI-1.
var landlockConfigs = []landlock.Config{
	landlock.V1, landlock.V2, landlock.V3, landlock.V4, landlock.V5, landlock.V6,
	landlock.V7, landlock.V8, landlock.V9, landlock.V10, landlock.V11,
}

// LandlockABI returns the kernel's Landlock ABI version, or 0 and the reason
// there is none.
func LandlockABI() (int, string) {
	v, err := llsys.LandlockGetABIVersion()
	if err != nil || v < 1 {
		return 0, fmt.Sprintf("not available in this kernel (%v); it needs Linux 5.13 or newer with landlock in the lsm= boot parameter", err)
	}
	return v, ""
}

func runLandlock(ctx context.Context, pl Plan, p Policy, c Command) (int, error) {
	// The private temporary directory stands in for bwrap's empty /tmp.
	tmp, err := os.MkdirTemp("", "tern-sandbox-")
	if err != nil {
		return ExitSandboxFailed, fmt.Errorf("creating the sandbox's temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	warnFallback(pl.Fallback)
	protected := p.Protected
	if len(protected) > 0 && !pl.MountNS {
		warnUnprotected(protected, "Landlock cannot protect them without a mount namespace, which this host refuses")
	}
	warnLinked(p)
	spec, err := json.Marshal(landlockSpec{
		Role:         roleSupervise,
		ABI:          pl.LandlockABI,
		ReadWrite:    append(p.WritableRoots(), tmp),
		Workspace:    p.Workspace,
		Protected:    protected,
		Pinned:       p.Pinned,
		MountNS:      pl.MountNS,
		AllowNetwork: p.AllowNetwork,
		Argv:         c.Argv,
	})
	if err != nil {
		return ExitSandboxFailed, err
	}
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return ExitSandboxFailed, err
	}
	defer lifeW.Close()

	cmd := exec.Command("/proc/self/exe")
	cmd.Args[0] = "tern-sandbox"
	cmd.Dir = p.Workspace
	cmd.Env = withEnv(withEnv(c.Env, "TMPDIR", tmp), envLandlockSpec, string(spec))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	cmd.ExtraFiles = []*os.File{lifeR}
	cmd.WaitDelay = waitDelay
	// A session of its own, and no death signal: when tern dies the
	// lifeline closes and the supervisor cleans up before it exits.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	lifeR.Close()
	if err != nil {
		return ExitSandboxFailed, fmt.Errorf("starting the Landlock sandbox: %w", err)
	}
	exited := make(chan struct{}) // closed once supervise has reaped it
	defer close(exited)
	stop := func() {
		lifeW.Close()
		// The supervisor normally exits within milliseconds; past this,
		// end it and whatever it still holds by force, unless it is gone
		// (its process group ID could name another group by then).
		go func() {
			select {
			case <-exited:
			case <-time.After(supervisorGrace):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		}()
	}
	return supervise(ctx, cmd, c, func() int { return cmd.Process.Pid }, stop)
}

// RunIfLandlockChild must be the first thing main does. In a process that
// runLandlock started, it plays its role and never returns; anywhere else it
// returns at once.
func RunIfLandlockChild() {
	raw, ok := os.LookupEnv(envLandlockSpec)
	if !ok {
		return
	}
	os.Unsetenv(envLandlockSpec)
	var spec landlockSpec
	err := json.Unmarshal([]byte(raw), &spec)
	switch {
	case err != nil:
		err = fmt.Errorf("bad sandbox spec: %w", err)
	case spec.Role == roleMountTrial:
		runtime.LockOSThread()
		err = protectByMounts([]string{"/"}, nil)
		if err == nil {
			os.Exit(0)
		}
	case spec.ABI < 1 || len(spec.Argv) == 0:
		err = errors.New("bad sandbox spec: no ABI or no command")
	case spec.Role == roleSupervise:
		os.Exit(superviseLandlocked(spec))
	case spec.Role == roleRestrict:
		err = execLandlocked(spec)
	default:
		err = fmt.Errorf("bad sandbox spec: unknown role %q", spec.Role)
	}
	fmt.Fprintf(os.Stderr, "tern: landlock sandbox: %v\n", err)
	os.Exit(ExitSandboxFailed)
}

// superviseLandlocked starts the restricted child, waits for it, then kills
// every process the command left behind. It returns the command's exit
// status in a shell's terms.
func superviseLandlocked(spec landlockSpec) int {
	unix.CloseOnExec(lifelineFD) // the command must not hold it
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "tern: landlock sandbox: becoming the subreaper: %v\n", err)
		return ExitSandboxFailed
	}
	// tern signals the whole process group, the command's and ours: the
	// command acts on the signal, the supervisor outlives it to clean up.
	// (Caught, not ignored: an ignored signal would stay ignored across the
	// command's exec.)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		for range sigs {
		}
	}()

	spec.Role = roleRestrict
	raw, err := json.Marshal(spec)
	if err != nil {
		return ExitSandboxFailed
	}
	child := restrictedChild(raw)
	if spec.MountNS && len(spec.Protected) > 0 {
		inMountNS(child.SysProcAttr)
	}
	err = child.Start()
	if err != nil && child.SysProcAttr.Cloneflags != 0 {
		// A container may forbid new namespaces (no CAP_SYS_ADMIN, or a
		// seccomp profile against CLONE_NEWUSER) although the sysctls
		// allow them: run unprotected, and say so, rather than not at all.
		warnUnprotected(spec.Protected, fmt.Sprintf("a mount namespace was refused (%v)", err))
		spec.MountNS = false
		if raw, err = json.Marshal(spec); err != nil {
			return ExitSandboxFailed
		}
		child = restrictedChild(raw)
		err = child.Start()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tern: landlock sandbox: %v\n", err)
		return ExitSandboxFailed
	}

	done := make(chan struct{})
	go func() { _ = child.Wait(); close(done) }()
	lifeline := make(chan struct{})
	go func() {
		var b [1]byte
		os.NewFile(lifelineFD, "lifeline").Read(b[:]) // returns when tern closes it or dies
		close(lifeline)
	}()
	code := 0
	select {
	case <-done:
		code = exitCode(child.ProcessState)
	case <-lifeline:
		_ = child.Process.Kill()
		<-done
		code = 128 + int(syscall.SIGKILL)
	}
	killOrphans()
	return code
}

// inMountNS makes a child start in a mount namespace of its own.
func inMountNS(attr *syscall.SysProcAttr) {
	attr.Cloneflags = syscall.CLONE_NEWNS
	if uid, gid := os.Getuid(), os.Getgid(); uid != 0 {
		// Only a user namespace lets an ordinary user mount. The
		// command keeps its own uid and gid in it, so the restricted
		// child carries the two capabilities it needs across its exec
		// as ambient ones, and drops them before the command runs.
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		attr.AmbientCaps = []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_SETPCAP}
	}
}

// mountTrialTimeout bounds the mount trial, which takes milliseconds.
const mountTrialTimeout = 5 * time.Second

// mountsProtect reports whether the Landlock sandbox can keep protected
// paths read-only here: a copy of tern, started as the supervisor starts
// the restricted child, makes the same mounts. It is asked only where
// bwrap, though found, could not start: its failure (a helper this user
// may not execute, a noexec mount) need not mean that namespaces are
// refused, and guessing so left .git writable where it need not be.
func mountsProtect() error {
	spec, err := json.Marshal(landlockSpec{Role: roleMountTrial})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), mountTrialTimeout)
	defer cancel()
	trial := exec.CommandContext(ctx, "/proc/self/exe")
	trial.Args[0] = "tern-mount-trial"
	trial.Env = []string{envLandlockSpec + "=" + string(spec)}
	var out strings.Builder
	trial.Stdout, trial.Stderr = &out, &out
	trial.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	inMountNS(trial.SysProcAttr)
	if err := trial.Run(); err != nil {
		if why := strings.TrimSpace(out.String()); why != "" {
			return errors.New(why)
		}
		return err
	}
	return nil
}

// restrictedChild is the command that starts the restricted child with raw
// as its spec, killed should the supervisor die.
func restrictedChild(raw []byte) *exec.Cmd {
	child := exec.Command("/proc/self/exe")
	child.Args[0] = "tern-landlock"
	child.Env = withEnv(os.Environ(), envLandlockSpec, string(raw))
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	child.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return child
}

// killOrphans kills every process below this one and reaps them, round
// after round, until none is left. Each round kills the whole subtree at
// once, not one generation: a deep chain of forks must not outlast the
// cleanup. As the subreaper this process inherits each killed process's
// children, so they stay in the subtree until reaped.
func killOrphans() {
	self := os.Getpid()
	for {
		tree := descendants(self)
		for _, pid := range tree {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
		if len(tree) == 0 {
			return
		}
		time.Sleep(time.Millisecond) // let the kernel hand the dead's children over
	}
}

// descendants lists every process below pid, zombies included, from one
// pass over /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		var p int
		if _, err := fmt.Sscan(e.Name(), &p); err != nil {
			continue
		}
		if pp := parentOf(p); pp > 0 {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	for queue := children[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return out
}

// parentOf reads the parent PID from /proc/PID/stat, whose second field (the
// command name, in parentheses) may itself hold spaces and parentheses.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := len(b) - 1
	for i >= 0 && b[i] != ')' {
		i--
	}
	var state string
	var ppid int
	if i < 0 {
		return 0
	}
	if _, err := fmt.Sscan(string(b[i+1:]), &state, &ppid); err != nil {
		return 0
	}
	return ppid
}

// execLandlocked restricts this process and executes the command. The order
// matters: mounts need the capabilities that are dropped next; Landlock and
// seccomp need no_new_privs; and everything is done on the one thread that
// then calls execve, since capabilities and seccomp filters are per thread.
func execLandlocked(spec landlockSpec) error {
	path, err := exec.LookPath(spec.Argv[0])
	if err != nil {
		return err
	}
	runtime.LockOSThread()
	if spec.MountNS && len(spec.Protected) > 0 {
		if err := protectByMounts(spec.Protected, spec.Pinned); err != nil {
			// Refused although the namespace was made (AppArmor strips a
			// user namespace's capabilities): run, and say so.
			warnUnprotected(spec.Protected, err.Error())
		}
	}
	if err := restrictLandlock(spec); err != nil {
		return err
	}
	if err := dropCapabilities(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	if err := installSeccomp(spec.AllowNetwork); err != nil {
		return err
	}
	SealInheritedFDs() // tern sealed its own; this is the last word
	return syscall.Exec(path, spec.Argv, os.Environ())
}

// restrictLandlock: read and execute everywhere; write only the writable
// roots and the harmless character devices every program expects. Making
// device nodes is denied even in writable roots: a block device made there
// would reach a host disk.
func restrictLandlock(spec landlockSpec) error {
	cfg := landlockConfigs[min(spec.ABI, len(landlockConfigs))-1]
	if spec.AllowNetwork {
		cfg.HandledAccessNet = 0 // with no network rule, every TCP bind and connect is denied
	}
	// Read and execute everywhere but /dev, where another terminal of the
	// user's (/dev/pts/N) would let the command read what is typed there;
	// of /dev, only the harmless devices every program expects.
	rules := []landlock.Rule{
		landlock.PathAccess(landlock.AccessFSSet(llsys.AccessFSReadDir), "/"),
		landlock.RWFiles("/dev/null", "/dev/zero", "/dev/full", "/dev/tty",
			"/dev/random", "/dev/urandom").IgnoreIfMissing(),
	}
	hidden := []string{"/dev"}
	if !spec.AllowNetwork {
		// As under bwrap, /run is hidden with the network off: the
		// user's session sockets live there, and in a container, where
		// Landlock stands in most often, the secrets too
		// (/run/secrets, Kubernetes' service-account token).
		hidden = append(hidden, "/run")
	}
	dirs, files := topLevelExcept(hidden...)
	if spec.Workspace != "" && hiddenByMounts(spec.Workspace, spec.AllowNetwork) {
		dirs = append(dirs, spec.Workspace)
	}
	rules = append(rules, landlock.RODirs(dirs...).IgnoreIfMissing(), landlock.ROFiles(files...).IgnoreIfMissing())
	if len(spec.ReadWrite) > 0 {
		noDevices := landlock.AccessFSSet(llsys.AccessFSMakeChar | llsys.AccessFSMakeBlock)
		rw := cfg.HandledAccessFS &^ noDevices &^ landlock.AccessFSSet(llsys.AccessFSIoctlDev|llsys.AccessFSResolveUnix)
		rules = append(rules, landlock.PathAccess(rw, spec.ReadWrite...))
	}
	if err := cfg.Restrict(rules...); err != nil {
		return fmt.Errorf("applying Landlock rules: %w", err)
	}
	return nil
}

// topLevelExcept lists the entries of / but those in skip, as directories
// and files, following links (a rule binds the inode a path names).
func topLevelExcept(skip ...string) (dirs, files []string) {
	entries, err := os.ReadDir("/")
	if err != nil {
		return nil, nil
	}
	for _, e := range entries {
		p := "/" + e.Name()
		if slices.Contains(skip, p) {
			continue
		}
		st, err := os.Stat(p)
		switch {
		case err != nil:
		case st.IsDir():
			dirs = append(dirs, p)
		default:
			files = append(files, p)
		}
	}
	return dirs, files
}

// protectByMounts makes each protected path read-only with a bind mount, in
// the mount namespace the supervisor started this process in. Landlock
// cannot take write access away below a writable root, so where no mount
// namespace can be had the protection holds under bwrap only (tern doctor
// says so, and tern warns).
func protectByMounts(paths, pinned []string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	// A path gone since the policy was made is no error (as bwrap's -try).
	for _, dir := range pinned { // see pinnedDirs
		if err := unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("pinning %s: %w", dir, err)
		}
	}
	for _, p := range paths {
		err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, "")
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("protecting %s: %w", p, err)
		}
		// In a user namespace the flags the mount already has are locked:
		// the remount must repeat them.
		var st unix.Statfs_t
		if err := unix.Statfs(p, &st); err != nil {
			return fmt.Errorf("protecting %s: %w", p, err)
		}
		if err := unix.Mount("", p, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|lockedFlags(st.Flags), ""); err != nil {
			return fmt.Errorf("protecting %s: %w", p, err)
		}
	}
	return nil
}

// lockedFlags turns statfs's ST_* flags into the MS_* flags a remount must
// repeat; the atime flags differ in value between the two.
func lockedFlags(st int64) uintptr {
	var ms uintptr
	for _, f := range []struct {
		st int64
		ms uintptr
	}{
		{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if st&f.st != 0 {
			ms |= f.ms
		}
	}
	if st&(unix.ST_NOATIME|unix.ST_RELATIME) == 0 {
		ms |= unix.MS_STRICTATIME
	}
	return ms
}

// dropCapabilities leaves this thread, and what it executes, no capability:
// the bounding set first (root regains every capability in it at execve),
// then the ambient, effective, permitted and inheritable sets. Without
// CAP_SETPCAP (an ordinary user) there is nothing to drop.
func dropCapabilities() error {
	var hdr = unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("reading capabilities: %w", err)
	}
	if data[0].Effective&(1<<unix.CAP_SETPCAP) != 0 {
		// Root's uid 0 must not bring capabilities back at execve.
		const secure = 0x2f // SECBIT_NOROOT, _LOCKED, NO_SETUID_FIXUP, _LOCKED, KEEP_CAPS_LOCKED
		if err := unix.Prctl(unix.PR_SET_SECUREBITS, secure, 0, 0, 0); err != nil {
			return fmt.Errorf("setting securebits: %w", err)
		}
		for c := 0; c <= lastCap(); c++ {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("dropping capability %d from the bounding set: %w", c, err)
			}
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clearing ambient capabilities: %w", err)
	}
	data = [2]unix.CapUserData{}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("dropping capabilities: %w", err)
	}
	return nil
}

// lastCap is the kernel's highest capability number.
func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	n := 0
	if err != nil {
		return unix.CAP_LAST_CAP
	}
	if _, err := fmt.Sscan(string(b), &n); err != nil {
		return unix.CAP_LAST_CAP
	}
	return n
}

//go:build unix

package release

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
)

// The packager is meant to release any Go CLI, not only tern. These tests
// take two real, popular ones at pinned versions, of different shapes, and
// do with each what their maintainer would: packager init, commit, packager
// release --snapshot, packager verify; then install the release the ways a
// user would (install.sh from a release server, npm i -g from a registry,
// both on 127.0.0.1) and run it, on this machine and, for linux-armv7, under
// qemu-user. No file of their releases may name tern.

// thirdPartyCLI is one project under test.
type thirdPartyCLI struct {
	module, version string // on the Go module proxy
	origin          string // git remote origin, from which init derives the repository
	binary          string // the command it installs
	initArgs        []string
	// files is appended to release.yaml after init: extra files every tree ships.
	files []config.File
	// use is a real use of the command: args, stdin, and the output wanted.
	use struct{ args, stdin, want string }
}

// thirdPartyTargets are few, to keep the compile time of a 2-core CI down,
// and one is beyond the packager's default six: linux-armv7, run under qemu.
const thirdPartyTargets = "linux-x64,linux-arm64,linux-armv7,darwin-arm64,windows-x64"

var thirdPartyCLIs = []thirdPartyCLI{
	{
		// Has a .goreleaser.yml of its own (one build, many targets,
		// notarize, archives), and package main's `version` var.
		module: "github.com/junegunn/fzf", version: "v0.56.3",
		origin: "https://github.com/junegunn/fzf", binary: "fzf",
		initArgs: []string{"--npm-scope", "@fzf-test", "--targets", thirdPartyTargets},
		files: []config.File{
			{Src: "man/man1/fzf.1", Dst: "share/man/man1/fzf.1"},
			{Src: "shell/completion.bash", Dst: "share/fzf/completion.bash"},
		},
		use: struct{ args, stdin, want string }{"--filter ban", "apple\nbanana\ncherry\n", "banana\n"},
	},
	{
		// No GoReleaser config; its version is a var of another package.
		module: "github.com/mikefarah/yq/v4", version: "v4.44.3",
		origin: "https://github.com/mikefarah/yq", binary: "yq",
		initArgs: []string{"--npm-scope", "@yq-test", "--targets", thirdPartyTargets,
			"--version-var", "github.com/mikefarah/yq/v4/cmd.Version"},
		use: struct{ args, stdin, want string }{".a.b", "a: {b: 1}\n", "1\n"},
	},
}

// thirdPartyDate is the fixture commits' author and committer date: the
// same repository, the same commit, on every run.
const thirdPartyDate = "2024-11-01T12:00:00Z"

// ternAt is the offset of the first mention of tern in b, or -1: tern as a
// word, TERN_… or tern-agent, in any case, but not pattern, internal,
// eastern or PATTERN_. (bytes.Index, not a regexp: the release holds tens
// of megabytes of binaries, and a case-blind regexp over them takes seconds.)
func ternAt(b []byte) int {
	lower := bytes.ToLower(b)
	for off := 0; ; {
		i := bytes.Index(lower[off:], []byte("tern"))
		if i < 0 {
			return -1
		}
		i += off
		end := i + len("tern")
		if (i == 0 || !isWordByte(lower[i-1])) && (end == len(lower) || lower[end] == '_' || !isWordByte(lower[end])) {
			return i
		}
		off = end
	}
}

// textRuns are the runs of printable text in data, as strings(1) finds
// them (8 bytes at least): a word in a binary is in a string of the
// program, while a random "tern" among machine code or compressed bytes
// would be noise.
func textRuns(data []byte) [][]byte {
	var runs [][]byte
	start := -1
	for i := 0; i <= len(data); i++ {
		printable := i < len(data) && (data[i] >= 0x20 && data[i] < 0x7f || data[i] == '\n' || data[i] == '\t')
		switch {
		case printable && start < 0:
			start = i
		case !printable && start >= 0:
			if i-start >= 8 {
				runs = append(runs, data[start:i])
			}
			start = -1
		}
	}
	return runs
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_'
}

func TestThirdPartyCLIs(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles two real CLIs for five targets each")
	}
	if runtime.GOOS != "linux" {
		t.Skip("runs the released linux binaries, and linux-armv7 under qemu-user")
	}
	goreleaser := goreleaserCLI(t)
	packager := buildPackager(t)
	start := time.Now()
	t.Cleanup(func() { t.Logf("TestThirdPartyCLIs took %s", time.Since(start).Round(time.Second)) })
	for _, p := range thirdPartyCLIs {
		t.Run(p.binary, func(t *testing.T) {
			t.Parallel()
			p.test(t, packager, goreleaser)
		})
	}
}

// test runs every step on p. Fixture, init and release each need the one
// before; the checks of the release after them are independent, so each
// failure is reported by the step's own name.
func (p thirdPartyCLI) test(t *testing.T, packager, goreleaser string) {
	start := time.Now()
	defer func() { t.Logf("%s took %s", p.binary, time.Since(start).Round(time.Second)) }()
	// step runs a step the later ones need: they run if it got to its end,
	// even with errors (those are reported), and not if it stopped.
	step := func(name string, fn func(t *testing.T)) bool {
		done := false
		t.Run(name, func(t *testing.T) { fn(t); done = true })
		return done
	}
	// The repository outlives the fixture step: it is made in the test's
	// directory, not the step's.
	repo := filepath.Join(t.TempDir(), p.binary)
	if !step("fixture", func(t *testing.T) { p.fixture(t, repo) }) {
		return
	}
	// The packager's own environment must not steer theirs: no go.work, no
	// signing key of the developer's (a snapshot signs with a throw-away one).
	env := []string{"GOWORK=off", "GOFLAGS=", "COSIGN_KEY=", "COSIGN_PASSWORD=", "SOURCE_DATE_EPOCH="}
	if !step("init", func(t *testing.T) { p.init(t, packager, repo, env) }) {
		return
	}
	var ver string
	if !step("release", func(t *testing.T) { ver = p.release(t, packager, goreleaser, repo, env) }) {
		return
	}
	rel := layout.ReleaseDir(repo)
	c, err := config.Load(filepath.Join(repo, "release.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("verify", func(t *testing.T) {
		out, err := run(t, repo, env, packager, "verify", "--key", filepath.Join(repo, "dist", layout.SnapshotKey), rel)
		if err != nil {
			t.Fatalf("packager verify: %v\n%s", err, out)
		}
	})
	t.Run("files", func(t *testing.T) { p.checkFiles(t, c, repo, rel, ver) })
	t.Run("install.sh", func(t *testing.T) { p.installSh(t, c, repo, rel, ver) })
	t.Run("qemu linux-armv7", func(t *testing.T) { p.qemu(t, c, rel, ver) })
	t.Run("npm", func(t *testing.T) { p.npm(t, c, packager, repo, ver, env) })
	t.Run("names no tern", func(t *testing.T) { noTern(t, rel) })
}

// fixture fetches the module through the Go module proxy into the module
// cache (outside the clone, and warm after the first run), and makes a git
// repository of it in a temporary directory, with one commit of fixed
// author and date, and the project's own origin, at repo.
func (p thirdPartyCLI) fixture(t *testing.T, repo string) {
	env := []string{"GOWORK=off", "GOFLAGS=-mod=mod"}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	cmd := exec.Command("go", "mod", "download", "-json", p.module+"@"+p.version)
	cmd.Dir = t.TempDir() // no go.mod, no go.work: the module alone
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(raw, &mod); err != nil || jerr != nil || mod.Error != "" {
		t.Fatalf("go mod download %s@%s (through GOPROXY into %s): %v %s\n%s%s", p.module, p.version, strings.TrimSpace(string(out)), err, mod.Error, raw, stderr.String())
	}
	// The module cache is read-only; the copy must be the maintainer's own.
	if out, err := exec.Command("cp", "-R", mod.Dir, repo).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	if out, err := exec.Command("chmod", "-R", "u+w", repo).CombinedOutput(); err != nil {
		t.Fatalf("chmod: %v\n%s", err, out)
	}
	// Their dependencies too, so that a proxy failure shows here and not
	// in the middle of GoReleaser's log.
	if out, err := run(t, repo, env, "go", "mod", "download"); err != nil {
		t.Fatalf("go mod download in %s: %v\n%s", p.module, err, out)
	}
	gitIn(t, repo, "init", "-q", "-b", "main")
	gitIn(t, repo, "remote", "add", "origin", p.origin)
	commitAll(t, repo, p.module+"@"+p.version)
}

func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	out, err := run(t, dir, []string{"GIT_AUTHOR_DATE=" + thirdPartyDate, "GIT_COMMITTER_DATE=" + thirdPartyDate},
		"git", append([]string{"-c", "user.name=fixture", "-c", "user.email=fixture@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func commitAll(t *testing.T, dir, msg string) {
	t.Helper()
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "--allow-empty", "-m", msg)
}

// init runs packager init, checks that a second run changes nothing, adds
// p.files to release.yaml, and commits, as the maintainer would.
func (p thirdPartyCLI) init(t *testing.T, packager, repo string, env []string) {
	ownConfig := goreleaserConfigs(repo)
	args := append([]string{"init"}, p.initArgs...)
	out, err := run(t, repo, env, packager, args...)
	if err != nil {
		t.Fatalf("packager %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("packager %s:\n%s", strings.Join(args, " "), out)
	// A project's own GoReleaser config is adapted, not shadowed by a
	// second one GoReleaser would pick instead of it, or it instead of ours.
	if configs := goreleaserConfigs(repo); len(configs) != 1 {
		t.Errorf("after init the repository has GoReleaser configs %v, want one", configs)
	}
	if len(ownConfig) > 0 && !strings.Contains(out, "adapted") {
		t.Errorf("init did not adapt the project's own %v:\n%s", ownConfig, out)
	}

	before := treeDigest(t, repo)
	out, err = run(t, repo, env, packager, args...)
	if err != nil {
		t.Fatalf("a second packager %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "unchanged") && !strings.HasPrefix(line, "note:") {
			t.Errorf("a second init must change nothing, and said: %s", line)
		}
	}
	if changed := changedFiles(before, treeDigest(t, repo)); len(changed) > 0 {
		t.Errorf("a second init changed %s", strings.Join(changed, ", "))
	}

	if len(p.files) > 0 {
		var b strings.Builder
		b.WriteString("\n# Added by the test, as a maintainer would.\nfiles:\n")
		for _, f := range p.files {
			fmt.Fprintf(&b, "  - {src: %s, dst: %s}\n", f.Src, f.Dst)
		}
		f, err := os.OpenFile(filepath.Join(repo, "release.yaml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString(b.String())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := config.Load(filepath.Join(repo, "release.yaml")); err != nil {
		t.Fatalf("the release.yaml init wrote does not load: %v", err)
	}
	commitAll(t, repo, "packager init")
}

// goreleaserConfigs are the files GoReleaser would read as its config.
func goreleaserConfigs(repo string) []string {
	var found []string
	for _, name := range []string{".config/goreleaser.yml", ".config/goreleaser.yaml", ".goreleaser.yml", ".goreleaser.yaml", "goreleaser.yml", "goreleaser.yaml"} {
		if _, err := os.Stat(filepath.Join(repo, name)); err == nil {
			found = append(found, name)
		}
	}
	return found
}

// treeDigest maps every file of the repository but .git to its digest.
func treeDigest(t *testing.T, repo string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(repo, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repo, p)
		files[rel] = sha256Hex(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// changedFiles names the files added, removed or changed from before to after.
func changedFiles(before, after map[string]string) []string {
	var changed []string
	for name, sum := range after {
		if before[name] != sum {
			changed = append(changed, name)
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			changed = append(changed, name+" (removed)")
		}
	}
	slices.Sort(changed)
	return changed
}

// release cuts the snapshot and returns its version.
func (p thirdPartyCLI) release(t *testing.T, packager, goreleaser, repo string, env []string) string {
	out, err := run(t, repo, env, packager, "version", "--snapshot")
	if err != nil {
		t.Fatalf("packager version --snapshot: %v\n%s", err, out)
	}
	ver := strings.TrimSpace(out)
	start := time.Now()
	out, err = run(t, repo, env, packager, "release", "--snapshot", "--goreleaser", goreleaser)
	if err != nil {
		t.Fatalf("packager release --snapshot: %v\n%s", err, out)
	}
	t.Logf("packager release --snapshot of %s %s took %s", p.binary, ver, time.Since(start).Round(time.Second))
	if !strings.Contains(out, "UNTRUSTED SNAPSHOT SIGNATURE") {
		t.Errorf("the snapshot must say it is signed with a throw-away key:\n%s", out)
	}
	return ver
}

// checkFiles checks the release's archives for every target: the tree a
// user unpacks holds the binary and the extra files of release.yaml.
func (p thirdPartyCLI) checkFiles(t *testing.T, c *config.Config, repo, rel, ver string) {
	for _, tg := range c.Targets {
		name := layout.ArchiveName(c, ver, tg)
		members, err := archiveMembers(filepath.Join(rel, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		prefix := layout.Prefix(c, ver, tg) + "/"
		want := []string{layout.BinaryPath(c, tg), layout.License}
		for _, f := range p.files {
			want = append(want, f.Dst)
		}
		for _, w := range want {
			if _, ok := members[prefix+w]; !ok {
				t.Errorf("%s lacks %s", name, prefix+w)
			}
		}
		for _, f := range p.files {
			if got, ok := members[prefix+f.Dst]; ok {
				src, err := os.ReadFile(filepath.Join(repo, f.Src))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, src) {
					t.Errorf("%s: %s is not the repository's %s", name, prefix+f.Dst, f.Src)
				}
			}
		}
	}
}

// installSh serves the release as GitHub would, on 127.0.0.1, and runs its
// install.sh under dash with the project's environment prefix; then runs
// what it installed.
func (p thirdPartyCLI) installSh(t *testing.T, c *config.Config, repo, rel, ver string) {
	dash, err := exec.LookPath("dash")
	if err != nil {
		needTool(t, "dash")
	}
	srv := serveRelease(t, ver, rel)
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, "tmp"), 0o755)
	args := []string{filepath.Join(rel, "install.sh"), "--no-modify-path"}
	if os.Getenv("COSIGN") != "" {
		args = append(args, "--require-signature")
	}
	cmd := exec.Command(dash, args...)
	cmd.Env = []string{"HOME=" + home, "PATH=" + toolDir(t, "curl"), "TMPDIR=" + filepath.Join(home, "tmp"), "SHELL=/bin/sh",
		c.EnvPrefix + "DOWNLOAD_URL=" + srv.URL, c.EnvPrefix + "COSIGN_KEY=" + filepath.Join(repo, "dist", layout.SnapshotKey)}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dash install.sh %s (%sDOWNLOAD_URL=%s): %v\n%s", strings.Join(args[1:], " "), c.EnvPrefix, srv.URL, err, out)
	}
	if !strings.Contains(string(out), "checksum verified") || (os.Getenv("COSIGN") != "" && !strings.Contains(string(out), "signature verified")) {
		t.Errorf("install.sh must say what it verified:\n%s", out)
	}
	p.runs(t, filepath.Join(home, ".local", "bin", p.binary), nil, c, ver)
}

// serveRelease serves one release dir as the latest, at GitHub's paths.
func serveRelease(t *testing.T, ver, dir string) *releaseServer {
	t.Helper()
	s := &releaseServer{dirs: map[string]string{ver: dir}, latest: ver}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(s.serve)}}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// runs runs bin (with prefix, a runner such as qemu, before it): its
// version check, then p.use.
func (p thirdPartyCLI) runs(t *testing.T, bin string, prefix []string, c *config.Config, ver string) {
	t.Helper()
	rule := c.VersionRule()
	argv := append(append(append([]string{}, prefix...), bin), rule.Args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil || !rule.Reports(string(out), ver) {
		t.Errorf("%s: %v, want output holding %q:\n%s", strings.Join(argv, " "), err, rule.Expect(ver), out)
	}
	argv = append(append(append([]string{}, prefix...), bin), strings.Fields(p.use.args)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(p.use.stdin)
	out, err = cmd.CombinedOutput()
	if err != nil || string(out) != p.use.want {
		t.Errorf("printf %q | %s: %v, want %q, got:\n%s", p.use.stdin, strings.Join(argv, " "), err, p.use.want, out)
	}
}

// qemu runs the linux-armv7 binary of the release's archive under qemu-user.
func (p thirdPartyCLI) qemu(t *testing.T, c *config.Config, rel, ver string) {
	tg, ok := c.Target("linux-armv7")
	if !ok {
		t.Fatalf("release.yaml has no linux-armv7 target; init was asked for %s", thirdPartyTargets)
	}
	qemu, err := exec.LookPath("qemu-arm-static")
	if err != nil {
		if qemu, err = exec.LookPath("qemu-arm"); err != nil {
			needTool(t, "qemu-arm-static (Debian's qemu-user-static)")
		}
	}
	members, err := archiveMembers(filepath.Join(rel, layout.ArchiveName(c, ver, tg)))
	if err != nil {
		t.Fatal(err)
	}
	member := layout.Prefix(c, ver, tg) + "/" + layout.BinaryPath(c, tg)
	b, ok := members[member]
	if !ok {
		t.Fatalf("%s lacks %s", layout.ArchiveName(c, ver, tg), member)
	}
	bin := filepath.Join(t.TempDir(), p.binary)
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	p.runs(t, bin, []string{qemu}, c, ver)
}

// npm publishes the release to a verdaccio on 127.0.0.1 with packager
// publish npm, installs the meta package globally, and runs the command it
// installed, which has the project's own name.
func (p thirdPartyCLI) npm(t *testing.T, c *config.Config, packager, repo, ver string, env []string) {
	if !c.Doors.NPMOn() {
		t.Fatal("init switched the npm door off")
	}
	verdaccio, _ := npmTools(t)
	if _, err := exec.LookPath("npm"); err != nil {
		needTool(t, "npm")
	}
	reg := startVerdaccio(t, verdaccio)
	npmEnv := append(append([]string{}, env...), reg.env(t)...)
	out, err := run(t, repo, npmEnv, packager, "publish", "npm", "--registry", reg.url)
	if err != nil {
		t.Fatalf("packager publish npm --registry %s: %v\n%s", reg.url, err, out)
	}
	prefix := t.TempDir()
	meta := c.NPMMetaPackage() + "@" + ver
	if r := runEnv(t, prefix, npmEnv, "npm", "install", "-g", "--prefix", prefix, meta); r.code != 0 {
		t.Fatalf("npm install -g --prefix %s %s: exit %d\n%s", prefix, meta, r.code, r.out)
	}
	bins, _ := filepath.Glob(filepath.Join(prefix, "bin", "*"))
	if len(bins) != 1 || filepath.Base(bins[0]) != p.binary {
		t.Errorf("npm i -g %s installed commands %v, want %s alone", meta, bins, p.binary)
	}
	p.runs(t, filepath.Join(prefix, "bin", p.binary), nil, c, ver)
}

// noTern walks every file of the release, and every member of its archives
// and npm tarballs, for a name or a word that is tern's.
func noTern(t *testing.T, rel string) {
	entries, err := os.ReadDir(rel)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatalf("%s is empty", rel)
	}
	check := func(where string, data []byte) {
		if ternAt([]byte(where)) >= 0 {
			t.Errorf("%s: its name names tern", where)
		}
		for _, run := range textRuns(data) {
			if i := ternAt(run); i >= 0 {
				t.Errorf("%s names tern: %q", where, run[max(i-60, 0):min(i+64, len(run))])
			}
		}
	}
	for _, e := range entries {
		p := filepath.Join(rel, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !isArchive(e.Name()) {
			check(e.Name(), data)
		} else { // its compressed bytes are noise; its members are read below
			check(e.Name(), nil)
		}
		if isArchive(e.Name()) {
			members, err := archiveMembers(p)
			if err != nil {
				t.Errorf("%s: %v", e.Name(), err)
				continue
			}
			for name, b := range members {
				check(e.Name()+"!"+name, b)
			}
		}
	}
}

func isArchive(name string) bool {
	return strings.HasSuffix(name, ".tar.gz") || strings.HasSuffix(name, ".tgz") || strings.HasSuffix(name, ".zip")
}

// goreleaserCLI is GoReleaser as `make test` builds it (GORELEASER).
func goreleaserCLI(t *testing.T) string {
	t.Helper()
	p := os.Getenv("GORELEASER")
	if p == "" {
		needTool(t, "GORELEASER (GoReleaser v2; `make tools` builds it, `make test` sets it)")
	}
	return p
}

// needTool fails under `make test` (TERN_TEST_REQUIRE_TOOLS) and skips
// elsewhere.
func needTool(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("TERN_TEST_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s is missing; `make test` installs it", what)
	}
	t.Skipf("%s is missing (run `make test`)", what)
}

// buildPackager builds the packager command once, as a user would run it.
func buildPackager(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "packager")
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "build", "-o", bin, "./packager/cmd/packager")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./packager/cmd/packager: %v\n%s", err, out)
	}
	return bin
}

func TestTernAt(t *testing.T) {
	for _, tc := range []struct {
		text string
		want int
	}{
		{"tern", 0}, {"a Tern b", 2}, {"TERN_VERSION", 0}, {"@tern-agent/cli", 1}, {"bin/tern.js", 4},
		{"pattern", -1}, {"internal", -1}, {"Eastern", -1}, {"PATTERN_X", -1}, {"terns", -1}, {"xtern_", -1},
		{"pattern tern", 8},
	} {
		if got := ternAt([]byte(tc.text)); got != tc.want {
			t.Errorf("ternAt(%q) = %d, want %d", tc.text, got, tc.want)
		}
	}
	// In a binary, only a program's strings count, not bytes that happen
	// to spell the word among code or compressed data.
	bin := []byte("\x86\xb2ow\x88Ss\xe2!tern}\xb4y\x00set TERN_VERSION first\x00\x9d")
	if runs := textRuns(bin); len(runs) != 1 || string(runs[0]) != "set TERN_VERSION first" {
		t.Errorf("textRuns = %q", runs)
	}
}

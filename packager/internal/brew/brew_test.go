package brew

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/doors"
	"github.com/tern-agent/tern/packager/internal/doors/doorstest"
)

// evalCask loads a cask in Ruby with a stand-in for Homebrew's DSL, on
// one platform, and returns the stanzas that platform sees: Ruby, not a
// regular expression, says which url, sha256 and binary each machine gets.
const evalCask = `
require "json"
OS_NAME, ARCH_NAME = ARGV[1], ARGV[2]
class DSL
  attr_reader :h
  def initialize; @h = {"binary" => []}; end
  %w[version desc homepage url sha256].each { |m| define_method(m) { |v| @h[m] = v } }
  def livecheck(&b); end
  def binary(v, target: nil); @h["binary"] << [v, target]; end
  def postflight(&b); @h["postflight"] = true; end
  def on_macos; yield if OS_NAME == "macos"; end
  def on_linux; yield if OS_NAME == "linux"; end
  def on_intel; yield if ARCH_NAME == "intel"; end
  def on_arm; yield if ARCH_NAME == "arm"; end
end
def cask(token, &b); d = DSL.new; d.instance_eval(&b); d.h["token"] = token; puts JSON.generate(d.h); end
load ARGV[0]
`

type seen struct {
	Token, Version, Desc, Homepage, URL, SHA256 string
	Binary                                      [][2]string
	Postflight                                  bool
}

func writeCask(t *testing.T, raw []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tern.rb")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func eval(t *testing.T, caskPath, system, arch string) seen {
	t.Helper()
	script := filepath.Join(t.TempDir(), "eval.rb")
	if err := os.WriteFile(script, []byte(evalCask), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ruby", script, caskPath, system, arch).CombinedOutput()
	if err != nil {
		t.Fatalf("ruby: %v\n%s", err, out)
	}
	var s seen
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return s
}

// The cask is Ruby (ruby -c), and on each of Homebrew's four platforms it
// gives that platform's archive: its URL, its sha256, and the binary
// inside its top directory.
func TestCaskGivesEachPlatformItsArchive(t *testing.T) {
	doorstest.RequireTool(t, "ruby", "ruby")
	c := doorstest.Config()
	archives := doorstest.Archives(c)
	raw, err := Generate(c, doorstest.Version, archives)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Generate(c, doorstest.Version, archives)
	if !bytes.Equal(raw, again) {
		t.Fatal("two runs wrote two casks")
	}
	p := writeCask(t, raw)
	if out, err := exec.Command("ruby", "-c", p).CombinedOutput(); err != nil {
		t.Fatalf("ruby -c: %v\n%s\n%s", err, out, raw)
	}
	byTarget := map[string]doors.Archive{}
	for _, a := range archives {
		byTarget[a.Target] = a
	}
	for _, tc := range []struct{ system, arch, target string }{
		{"macos", "intel", "darwin-x64"},
		{"macos", "arm", "darwin-arm64"},
		{"linux", "intel", "linux-x64"},
		{"linux", "arm", "linux-arm64"},
	} {
		s := eval(t, p, tc.system, tc.arch)
		a := byTarget[tc.target]
		if s.Token != "tern" || s.Version != "1.2.3" || s.Desc != "An agent for your terminal" || s.Homepage != c.Repository {
			t.Errorf("%s-%s: %+v", tc.system, tc.arch, s)
		}
		if want := "https://github.com/example-org/tern/releases/download/v1.2.3/" + a.Name; s.URL != want {
			t.Errorf("%s-%s: url %s, want %s", tc.system, tc.arch, s.URL, want)
		}
		if s.SHA256 != a.SHA256 {
			t.Errorf("%s-%s: sha256 %s, want %s", tc.system, tc.arch, s.SHA256, a.SHA256)
		}
		if want := [2]string{"tern-1.2.3-" + tc.target + "/bin/tern", "tern"}; len(s.Binary) != 1 || s.Binary[0] != want {
			t.Errorf("%s-%s: binary %v, want %v", tc.system, tc.arch, s.Binary, want)
		}
		// The binaries are not notarized: the cask clears the quarantine.
		if !s.Postflight {
			t.Errorf("%s-%s: no postflight clears the quarantine", tc.system, tc.arch)
		}
	}
	if err := Check(c, doorstest.Version, raw, archives); err != nil {
		t.Errorf("Check: %v", err)
	}
	for _, never := range []string{"windows", "freebsd", "armv7"} {
		if strings.Contains(string(raw), never) {
			t.Errorf("the cask names %s:\n%s", never, raw)
		}
	}
}

// A description with Ruby's quote, interpolation and escape characters
// stays text: the cask parses, and its desc is the description.
func TestDescriptionIsQuotedForRuby(t *testing.T) {
	doorstest.RequireTool(t, "ruby", "ruby")
	c := doorstest.Config()
	c.NPM.Description = `say "hi" #{system("id")} \ done`
	raw, err := Generate(c, doorstest.Version, doorstest.Archives(c))
	if err != nil {
		t.Fatal(err)
	}
	if s := eval(t, writeCask(t, raw), "linux", "intel"); s.Desc != c.NPM.Description {
		t.Errorf("desc %q, want %q", s.Desc, c.NPM.Description)
	}
}

// With darwin notarization in release.yaml, Gatekeeper accepts the
// binary and the cask leaves the quarantine alone.
func TestNotarizedBinariesKeepTheQuarantine(t *testing.T) {
	c := doorstest.Config()
	c.PlatformSigning.Darwin = &config.DarwinSigning{Identity: "Developer ID Application: X (ABCDE12345)"}
	raw, err := Generate(c, doorstest.Version, doorstest.Archives(c))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "quarantine") {
		t.Errorf("the cask clears the quarantine of notarized binaries:\n%s", raw)
	}
}

// Check names every way a cask differs from the release.
func TestCheckRefusesACaskThatIsNotTheRelease(t *testing.T) {
	c := doorstest.Config()
	archives := doorstest.Archives(c)
	raw, err := Generate(c, doorstest.Version, archives)
	if err != nil {
		t.Fatal(err)
	}
	var linuxArm doors.Archive
	for _, a := range archives {
		if a.Target == "linux-arm64" {
			linuxArm = a
		}
	}
	macArm := regexp.MustCompile(`(?s)\n    on_arm do\n.*?    end\n`).FindString(string(raw))
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"another digest", linuxArm.SHA256, strings.Repeat("0", 64),
			"tern.rb: linux-arm: sha256 " + strings.Repeat("0", 64) + ", but tern-1.2.3-linux-arm64.tar.gz has " + linuxArm.SHA256},
		{"another version", `version "1.2.3"`, `version "1.2.4"`, `tern.rb: version "1.2.4", want "1.2.3"`},
		{"another url", "download/v1.2.3/tern-1.2.3-darwin-x64.tar.gz", "download/v1.2.3/evil.tar.gz",
			"tern.rb: macos-intel: url https://github.com/example-org/tern/releases/download/v1.2.3/evil.tar.gz, want https://github.com/example-org/tern/releases/download/v1.2.3/tern-1.2.3-darwin-x64.tar.gz"},
		{"a platform missing", macArm, "", "tern.rb: no macos-arm entry, but the release has tern-1.2.3-darwin-arm64.tar.gz for it"},
		{"a platform twice", "on_arm do", "on_intel do", "tern.rb: line 23: a second url for macos-intel"},
		{"another binary", `binary "tern-1.2.3-linux-x64/bin/tern"`, `binary "tern"`, `tern.rb: linux-intel: binary "tern", want "tern-1.2.3-linux-x64/bin/tern"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(raw), tc.from, tc.to, 1)
			err := Check(c, doorstest.Version, []byte(bad), archives)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

// The pipe writes the cask over the archives it made, with their real
// digests, and registers it; with doors.homebrew false it writes nothing.
func TestPipe(t *testing.T) {
	ctx, digests := doorstest.Context(t)
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(ctx.Release, "tern.rb"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), digests["tern-1.2.3-linux-x64.tar.gz"]) {
		t.Errorf("the cask lacks linux-x64's digest:\n%s", raw)
	}
	if got := ctx.Artifacts.Filter(artifact.ByKind(artifact.Homebrew)); len(got) != 1 || got[0].Name != "tern.rb" {
		t.Errorf("registered %v", got)
	}
	log := ctx.Log.(*bytes.Buffer).String()
	if !strings.Contains(log, "linux-armv7: left out, Homebrew runs only on macOS and Linux, amd64 and arm64") {
		t.Errorf("log:\n%s", log)
	}

	off := false
	ctx, _ = doorstest.Context(t)
	ctx.Config.Doors.Homebrew = &off
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ctx.Release, "tern.rb")); !os.IsNotExist(err) {
		t.Errorf("a cask was written with doors.homebrew false (%v)", err)
	}
	if !strings.Contains(ctx.Log.(*bytes.Buffer).String(), "skipped: doors.homebrew is false in release.yaml") {
		t.Errorf("log: %s", ctx.Log)
	}
}

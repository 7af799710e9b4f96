// Package brew writes the release's Homebrew cask: one file a tap serves,
// which downloads the archive for the machine (macOS or Linux, Intel or
// Arm), checks its sha256 and links the binary from it.
//
// A cask, not a formula: Homebrew installs casks on Linux since 4.5 (a
// cask that declares no macOS dependency is installable there), casks are
// where Homebrew wants prebuilt binaries, and GoReleaser moved to them for
// that reason. A formula would have Homebrew treat a download as a build.
// The cask never names a platform Homebrew cannot run on, and it never
// holds a digest but the archive's.
package brew

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/doors"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Dir is the tap's directory of casks.
const Dir = "Casks"

// Token is the cask's name: the binary's, lower-case, with any character
// a cask token may not hold as '-'.
func Token(c *config.Config) string {
	return strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(c.Binary), "-"), "-")
}

// FileName is the cask's file name, in the release and in the tap's Casks/.
func FileName(c *config.Config) string { return Token(c) + ".rb" }

// Homebrew's platforms: on_macos or on_linux, then on_intel or on_arm.
// Homebrew runs on 64-bit Intel and Arm only.
var (
	brewOS   = map[string]string{"darwin": "macos", "linux": "linux"}
	brewArch = map[string]string{"amd64": "intel", "arm64": "arm"}
)

// PlatformKey is the cask's platform for a target (macos-arm,
// linux-intel), and false for a target Homebrew does not run on.
func PlatformKey(t config.Target) (string, bool) {
	system, okOS := brewOS[t.GOOS]
	arch, okArch := brewArch[t.GOARCH]
	if !okOS || !okArch {
		return "", false
	}
	return system + "-" + arch, true
}

// Generate renders the cask for version from the release's archives. The
// bytes depend on nothing else, so the same release writes the same cask.
func Generate(c *config.Config, version string, archives []doors.Archive) ([]byte, error) {
	ps, _, err := doors.Select(c, version, archives, "homebrew", PlatformKey)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("no archive is for macOS or Linux on amd64 or arm64, the platforms Homebrew runs on: set doors: {homebrew: false} in release.yaml")
	}
	byKey := map[string]doors.Platform{}
	hasMac := false
	for _, p := range ps {
		byKey[p.Key] = p
		hasMac = hasMac || p.Target.GOOS == "darwin"
	}
	var b bytes.Buffer
	b.WriteString("# typed: false\n# frozen_string_literal: true\n\n")
	b.WriteString("# Written by packager from release.yaml and the release's archives: change those, not this file.\n")
	// Casks have no license stanza (Homebrew warns of an unknown method on
	// every load), so the license is told here.
	fmt.Fprintf(&b, "# License: %s\n", oneLine(c.NPM.License))
	fmt.Fprintf(&b, "cask %s do\n", quote(Token(c)))
	fmt.Fprintf(&b, "  version %s\n", quote(version))
	fmt.Fprintf(&b, "  desc %s\n", quote(oneLine(doors.Description(c))))
	fmt.Fprintf(&b, "  homepage %s\n", quote(c.Repository))
	b.WriteString("\n  livecheck do\n    skip \"Written on each release\"\n  end\n")
	for _, system := range []string{"macos", "linux"} {
		var blocks []doors.Platform
		for _, arch := range []string{"intel", "arm"} {
			if p, ok := byKey[system+"-"+arch]; ok {
				blocks = append(blocks, p)
			}
		}
		if len(blocks) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n  on_%s do\n", system)
		for i, p := range blocks {
			if i > 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "    on_%s do\n", strings.TrimPrefix(p.Key, system+"-"))
			fmt.Fprintf(&b, "      url %s\n", quote(p.URL))
			fmt.Fprintf(&b, "      sha256 %s\n", quote(p.SHA256))
			fmt.Fprintf(&b, "      binary %s, target: %s\n", quote(p.Binary), quote(c.BinaryName(p.Target)))
			b.WriteString("    end\n")
		}
		b.WriteString("  end\n")
	}
	if hasMac && !c.PlatformSigning.Darwin.NotarizeOn() {
		// Homebrew quarantines what a cask downloads, and Gatekeeper
		// refuses a quarantined binary that is not notarized: without
		// this the command is killed on its first run with no message.
		b.WriteString("\n  postflight do\n")
		b.WriteString("    if OS.mac?\n")
		b.WriteString("      system_command \"/usr/bin/xattr\", args: [\"-dr\", \"com.apple.quarantine\", staged_path.to_s]\n")
		b.WriteString("    end\n")
		b.WriteString("  end\n")
	}
	b.WriteString("end\n")
	return b.Bytes(), nil
}

// quote is s as a Ruby double-quoted string literal that interpolates
// nothing: a description with "#{...}" or a backslash stays text.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `#`, `\#`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// oneLine keeps a value to one line of the cask.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Pipe writes the cask into the release, unless doors.homebrew is false or
// no target is one Homebrew runs on.
type Pipe struct{}

func (Pipe) String() string { return "write the Homebrew cask" }

func (Pipe) Run(ctx *pipeline.Context) error {
	c, version := ctx.Config, ctx.Version.String()
	if !c.Doors.HomebrewOn() {
		ctx.Logf("skipped: doors.homebrew is false in release.yaml")
		return nil
	}
	archives, err := doors.FromPipeline(ctx)
	if err != nil {
		return err
	}
	ps, left, err := doors.Select(c, version, archives, "homebrew", PlatformKey)
	if err != nil {
		return err
	}
	for _, name := range left {
		ctx.Logf("%s: left out, Homebrew runs only on macOS and Linux, amd64 and arm64", name)
	}
	if len(ps) == 0 {
		ctx.Logf("skipped: no target is one Homebrew runs on (macOS or Linux, amd64 or arm64)")
		return nil
	}
	raw, err := Generate(c, version, archives)
	if err != nil {
		return err
	}
	return doors.Write(ctx, FileName(c), raw, artifact.Homebrew)
}

var (
	stanzaRE  = regexp.MustCompile(`^\s*(version|url|sha256|binary)\s+"((?:[^"\\]|\\.)*)"(?:,\s*target:\s*"((?:[^"\\]|\\.)*)")?\s*$`)
	blockRE   = regexp.MustCompile(`^\s*on_(macos|linux|intel|arm)\s+do\s*$`)
	endRE     = regexp.MustCompile(`^\s*end\s*$`)
	unquoteRE = regexp.MustCompile(`\\(.)`)
)

// Check reads a cask back and reports every way it differs from the
// release: its version, and for each platform Homebrew runs on its url,
// sha256 and binary path, which must be the archive's; a platform more or
// less than the archives give is a problem too. It reads the cask as
// Generate writes it, line by line, not as Ruby: a cask edited by hand is
// a problem of its own.
func Check(c *config.Config, version string, cask []byte, archives []doors.Archive) error {
	want, _, err := doors.Select(c, version, archives, "homebrew", PlatformKey)
	if err != nil {
		return err
	}
	name := FileName(c)
	got := map[string]doors.Entry{}
	var stack []string
	var gotVersion string
	for n, line := range strings.Split(string(cask), "\n") {
		if m := blockRE.FindStringSubmatch(line); m != nil {
			stack = append(stack, m[1])
			continue
		}
		if endRE.MatchString(line) && len(stack) > 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		m := stanzaRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		value := unquoteRE.ReplaceAllString(m[2], "$1")
		if m[1] == "version" {
			gotVersion = value
			continue
		}
		if len(stack) != 2 {
			return fmt.Errorf("%s: line %d: %s outside an on_<os> do on_<arch> do block", name, n+1, m[1])
		}
		key := stack[0] + "-" + stack[1]
		e := got[key]
		field := map[string]*string{"url": &e.URL, "sha256": &e.SHA256, "binary": &e.Path}[m[1]]
		if *field != "" {
			return fmt.Errorf("%s: line %d: a second %s for %s", name, n+1, m[1], key)
		}
		*field = value
		got[key] = e
	}
	var errs []error
	if gotVersion != version {
		errs = append(errs, fmt.Errorf("%s: version %q, want %q", name, gotVersion, version))
	}
	if err := doors.Compare(name, want, got, "binary", func(p doors.Platform) string { return p.Binary }); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

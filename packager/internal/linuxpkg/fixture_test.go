package linuxpkg

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
)

// commitTime stands for the commit's time in every fixture.
var commitTime = time.Date(2026, 11, 23, 14, 57, 54, 0, time.UTC)

const testVersion = "1.2.3"

// needTool skips a test without name, or fails it where make test promised
// the real tools (TERN_TEST_REQUIRE_TOOLS=1).
func needTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (TERN_TEST_REQUIRE_TOOLS=1): %s", name, install)
		}
		t.Skipf("%s not installed (%s); set TERN_TEST_REQUIRE_TOOLS=1 to fail instead", name, install)
	}
	return p
}

// needRoot skips a test that installs into the real system unless it runs
// as root, or fails it under TERN_TEST_REQUIRE_TOOLS=1.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("installing a package needs root (TERN_TEST_REQUIRE_TOOLS=1): run the tests as root, in a container")
		}
		t.Skip("installing a package needs root")
	}
}

// run runs a command in the C locale and UTC, so dates read the same
// anywhere, and returns its standard output, failing the test on an error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// uniqueProduct is a product name no real package has, so that installing
// it into the system collides with nothing.
func uniqueProduct(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "linuxpkgtest-" + hex.EncodeToString(b)
}

// fixture is a release config with one linux target (and a darwin one,
// which gets no Linux package) and that target's staged tree.
type fixture struct {
	cfg    *config.Config
	target config.Target
	tree   string
}

// helperName is the fake helper every fixture ships in libexec/<product>.
const helperName = "fakehelper"

// helperOutput is what the fake helper prints.
const helperOutput = "fake helper ran"

// tinyProgram prints "<product> <version>" on --version and, on helper,
// runs its helper where tern's helperbin looks: <the executable's directory,
// symlinks resolved>/../libexec/<product>/<helper>.
const tinyProgram = `package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

var product, version, helper string

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println(product, version)
		return
	}
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p := filepath.Join(filepath.Dir(filepath.Dir(exe)), "libexec", product, helper)
	fmt.Println("helper:", p)
	cmd := exec.Command(p)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`

// buildTiny compiles tinyProgram for linux/amd64, static, into path.
func buildTiny(t *testing.T, product, path string) {
	t.Helper()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(tinyProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module tiny\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.product="+product+" -X main.version="+testVersion+" -X main.helper="+helperName,
		"-o", path, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test binary: %v\n%s", err, out)
	}
}

// buildAgent compiles the real agent (agent/cmd/tern), static, for
// linux/amd64, into path.
func buildAgent(t *testing.T, path string) {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", path, "./agent/cmd/tern")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the agent: %v\n%s", err, out)
	}
}

// manPage is a small valid man page, which lintian reads.
const manPage = `.TH %[1]s 1 "November 2026" "%[1]s 1.2.3" "User Commands"
.SH NAME
%[1]s \- a test binary for the Linux packages
.SH SYNOPSIS
.B %[1]s
[\fB\-\-version\fR]
.SH DESCRIPTION
Prints its version, or runs its helper.
`

// newFixture stages a tree for product: the binary (the tiny program, or
// with agent the real tern, whose product is then tern and its helper
// bwrap), a fake helper, the licence, the notices, a man page, a README and
// a guide in doc/.
func newFixture(t *testing.T, product string, agent bool) fixture {
	t.Helper()
	binary, helper := product, helperName
	if agent {
		binary, helper = "tern", "bwrap"
	}
	cfg := &config.Config{
		Product: product, Binary: binary, Repository: "https://github.com/tern-agent/" + product,
		LicenseFile: "LICENSE",
		NPM:         config.NPM{Description: product + ", a test of the Linux packages", License: "Apache-2.0"},
		Files: []config.File{
			{Src: "docs/" + binary + ".1", Dst: "share/man/man1/" + binary + ".1"},
			{Src: "README.md", Dst: "README.md"},
			// Below a directory of the product's: rpm must own both.
			{Src: "docs/guide.md", Dst: "doc/guide.md"},
		},
	}
	linux := config.Target{Name: "linux-x64", GOOS: "linux", GOARCH: "amd64", Helpers: []string{helper}}
	darwin := config.Target{Name: "darwin-arm64", GOOS: "darwin", GOARCH: "arm64"}
	cfg.Targets = []config.Target{linux, darwin}

	tree := filepath.Join(t.TempDir(), linux.Name)
	write := func(rel, body string, mode os.FileMode) {
		p := filepath.Join(tree, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(tree, filepath.FromSlash(layout.BinaryPath(cfg, linux)))
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if agent {
		buildAgent(t, bin)
		write(layout.HelperPath(cfg, helper), "#!/bin/sh\necho bubblewrap 0.9.0\n", 0o755)
	} else {
		buildTiny(t, product, bin)
		write(layout.HelperPath(cfg, helper), "#!/bin/sh\necho '"+helperOutput+"'\n", 0o755)
	}
	write(layout.License, apacheNotice, 0o644)
	write(layout.Notices, "# Third-party notices\n\nNone: a test.\n", 0o644)
	write("share/man/man1/"+binary+".1", strings.ReplaceAll(manPage, "%[1]s", binary), 0o644)
	write("README.md", "# "+product+"\n\nA test.\n", 0o644)
	write("doc/guide.md", "# Guide\n", 0o644)
	return fixture{cfg: cfg, target: linux, tree: tree}
}

// apacheNotice is a licence file's text as a project ships it.
const apacheNotice = `Copyright 2026 The tern Authors

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
`

// build writes f's package in format fm, with keys, into dir, and returns
// its path.
func (f fixture) build(t *testing.T, fm layout.LinuxFormat, keys Keys, dir string) string {
	t.Helper()
	v, err := layout.LinuxVersionFor(testVersion, commitTime)
	if err != nil {
		t.Fatal(err)
	}
	arch, _ := layout.LinuxArchFor(f.target)
	out := filepath.Join(dir, layout.LinuxPackageName(f.cfg, fm, v, arch))
	var b bytes.Buffer
	start := time.Now()
	if err := Build(&b, Package{Config: f.cfg, Target: f.target, Tree: f.tree, Format: fm, Version: v, Arch: arch,
		Time: commitTime, Commit: strings.Repeat("0123456789", 4), Keys: keys}); err != nil {
		t.Fatalf("building the %s: %v", fm, err)
	}
	t.Logf("%s: %d bytes in %s", filepath.Base(out), b.Len(), time.Since(start).Round(time.Millisecond))
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

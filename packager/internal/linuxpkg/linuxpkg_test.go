package linuxpkg

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/version"
)

// TestSameCommitSameBytes builds every format twice, signed, from two
// copies of the tree made at different times (so the files' own mtimes
// differ), and wants the same bytes: the commit alone decides them.
func TestSameCommitSameBytes(t *testing.T) {
	f := newFixture(t, uniqueProduct(t), false)
	rpmKey, _ := testRPMKey(t)
	apkKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys := Keys{RPM: rpmKey, APK: apkKey, APKName: "test.rsa.pub"}
	again := f
	again.tree = filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(again.tree, os.DirFS(f.tree)); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	filepath.WalkDir(again.tree, func(p string, _ os.DirEntry, _ error) error { return os.Chtimes(p, later, later) })
	for _, fm := range layout.LinuxFormats {
		first, err := os.ReadFile(f.build(t, fm, keys, t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		second, err := os.ReadFile(again.build(t, fm, keys, t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Errorf("two builds of the %s differ (%d and %d bytes)", fm, len(first), len(second))
		}
	}
}

// TestPipe runs the pipe over a tree artifact as the release does: it
// writes the three packages of the linux target into the release
// directory, registers them, and leaves the darwin target alone; with the
// door off it writes nothing.
func TestPipe(t *testing.T) {
	f := newFixture(t, uniqueProduct(t), false)
	ctx := func(doorOn bool) (*pipeline.Context, *bytes.Buffer) {
		cfg := *f.cfg
		cfg.Doors.Linux = &doorOn
		var log bytes.Buffer
		c := &pipeline.Context{
			Context: context.Background(), Config: &cfg, Release: t.TempDir(), Artifacts: &artifact.List{}, Log: &log,
			Version: version.Info{Version: semver.MustParse("0.0.0-snapshot.0123abcd4567"), Commit: strings.Repeat("0123456789", 4), Time: commitTime, Snapshot: true},
		}
		c.Artifacts.Add(artifact.Artifact{Name: "linux-x64", Path: f.tree, Kind: artifact.Tree, Target: "linux-x64"})
		c.Artifacts.Add(artifact.Artifact{Name: "darwin-arm64", Path: t.TempDir(), Kind: artifact.Tree, Target: "darwin-arm64"})
		return c, &log
	}

	off, log := ctx(false)
	if err := (Pipe{}).Run(off); err != nil {
		t.Fatal(err)
	}
	if made := off.Artifacts.Filter(artifact.ByKind(artifact.LinuxPackage)); len(made) != 0 || !strings.Contains(log.String(), "doors.linux_packages is false") {
		t.Errorf("with the door off: %v, log %q", made, log)
	}

	on, log := ctx(true)
	if err := (Pipe{}).Run(on); err != nil {
		t.Fatal(err)
	}
	p := f.cfg.Product
	want := []string{
		p + "-0.0.0-snapshot.0123abcd4567-1.x86_64.rpm",
		p + "-0.0.0_git20261123_p145754-r0.x86_64.apk",
		p + "_0.0.0-snapshot.0123abcd4567_amd64.deb",
	}
	var got []string
	for _, a := range on.Artifacts.Filter(artifact.ByKind(artifact.LinuxPackage)) {
		got = append(got, a.Name)
		if a.Target != "linux-x64" || a.Path != filepath.Join(on.Release, a.Name) {
			t.Errorf("artifact %+v", a)
		}
		if _, err := os.Stat(a.Path); err != nil {
			t.Error(err)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("made %v, want %v", got, want)
	}
	for _, want := range []string{"the rpms are unsigned: RPM_SIGN_KEY is not set", "the apks are unsigned: APK_SIGN_KEY is not set"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	t.Logf("pipe log:\n%s", log)
}

// TestContentsRefuseAnIncompleteTree: a tree without a file layout.Tree
// lists is an error that names the file and the remedy.
func TestContentsRefuseAnIncompleteTree(t *testing.T) {
	f := newFixture(t, uniqueProduct(t), false)
	if err := os.Remove(filepath.Join(f.tree, layout.Notices)); err != nil {
		t.Fatal(err)
	}
	err := Build(io.Discard, Package{Config: f.cfg, Target: f.target, Tree: f.tree, Format: layout.Deb,
		Version: layout.LinuxVersion{Deb: "1.2.3"}, Arch: layout.LinuxArch{Deb: "amd64"}, Time: commitTime})
	if err == nil || !strings.Contains(err.Error(), "has no file THIRD_PARTY_NOTICES.md: stage the target again") {
		t.Errorf("got %v", err)
	}
}

func TestSynopsisDropsTheNameAndTheArticle(t *testing.T) {
	for desc, want := range map[string]string{
		"tern, a coding agent that runs commands in a sandbox": "coding agent that runs commands in a sandbox",
		"tern - The agent":         "agent",
		"An agent for your shell":  "agent for your shell",
		"ternary search, a tool":   "ternary search, a tool",
		"tern: fast sandboxed CLI": "fast sandboxed CLI",
	} {
		if got := Synopsis(&config.Config{Product: "tern", NPM: config.NPM{Description: desc}}); got != want {
			t.Errorf("Synopsis(%q) = %q, want %q", desc, got, want)
		}
	}
}

func TestDebianCopyrightPointsAtCommonLicenses(t *testing.T) {
	c := &config.Config{Product: "acme", Repository: "https://example.com/acme", NPM: config.NPM{License: "MIT OR Apache-2.0"}}
	text := []byte("Copyright 2026 Acme Inc\n\nPermission is hereby granted…\n")
	got := DebianCopyright(c, text)
	for _, want := range []string{"License: MIT OR Apache-2.0\n", "Copyright 2026 Acme Inc\n", "/usr/share/common-licenses/Apache-2.0.\n", "/usr/share/doc/acme/LICENSE"} {
		if !strings.Contains(got, want) {
			t.Errorf("copyright lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Permission is hereby granted") {
		t.Errorf("with a licence Debian ships, the copyright points at it rather than copying the file:\n%s", got)
	}
	c.NPM.License = "MIT"
	if got := DebianCopyright(c, text); !strings.Contains(got, "Permission is hereby granted") {
		t.Errorf("a licence Debian does not ship is copied in:\n%s", got)
	}
}

func TestKeysFromEnv(t *testing.T) {
	rpmKey, _ := testRPMKey(t)
	var armored bytes.Buffer
	w, err := armorPrivate(&armored)
	if err != nil {
		t.Fatal(err)
	}
	if err := rpmKey.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	apkKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	apkPEM := filepath.Join(t.TempDir(), "apk.rsa")
	if err := os.WriteFile(apkPEM, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(apkKey)}), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvRPMKey: armored.String(), EnvAPKKey: apkPEM}
	k, err := KeysFromEnv(func(k string) string { return env[k] }, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if k.RPM == nil || k.RPM.PrimaryKey.KeyId != rpmKey.PrimaryKey.KeyId || k.APK == nil || !k.APK.Equal(apkKey) || k.APKName != "acme.rsa.pub" {
		t.Errorf("keys %+v", k)
	}

	none, err := KeysFromEnv(func(string) string { return "" }, "acme")
	if err != nil || none.RPM != nil || none.APK != nil {
		t.Errorf("with no variables, no keys: %+v %v", none, err)
	}

	env = map[string]string{EnvRPMKey: "not a key", EnvAPKKey: armored.String()}
	_, err = KeysFromEnv(func(k string) string { return env[k] }, "acme")
	for _, want := range []string{"RPM_SIGN_KEY: is neither a readable file, nor a key, nor base64", "APK_SIGN_KEY: "} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

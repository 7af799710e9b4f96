package installers

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/pipeline/pipelinetest"
)

const pub = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"

func TestPinFillsThePlaceholderOnce(t *testing.T) {
	for _, tc := range []struct{ name, script, want string }{
		{"install.sh", "#!/bin/sh\nPUBLIC_KEY_PEM=''\nmain \"$@\"\n", "\nPUBLIC_KEY_PEM='-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----'\n"},
		{"install.ps1", "param()\n$PublicKeyPem = ''\nMain\n", "\n$PublicKeyPem = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----'\n"},
	} {
		out, err := Pin("installers/"+tc.name, tc.name, []byte(tc.script), []byte(pub))
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Fatalf("%s: %v\n%s", tc.name, err, out)
		}
		if got, err := Pinned(tc.name, out); err != nil || got != strings.TrimSpace(pub) {
			t.Errorf("%s: Pinned gives %q, %v", tc.name, got, err)
		}
		if got, err := Pinned(tc.name, []byte(tc.script)); err != nil || got != "" {
			t.Errorf("%s: Pinned of the placeholder gives %q, %v", tc.name, got, err)
		}
	}
}

func TestPinRefusesAScriptWithoutExactlyOnePlaceholder(t *testing.T) {
	for _, tc := range []struct{ name, script, want string }{
		{"none", "#!/bin/sh\nmain \"$@\"\n", "installers/install.sh has no line PUBLIC_KEY_PEM='', want exactly one"},
		{"two", "#!/bin/sh\nPUBLIC_KEY_PEM=''\nPUBLIC_KEY_PEM=''\n", "installers/install.sh has more than one line PUBLIC_KEY_PEM='', want exactly one"},
		{"indented", "#!/bin/sh\n  PUBLIC_KEY_PEM=''\n", "has no line"},
	} {
		for _, key := range [][]byte{nil, []byte(pub)} {
			_, err := Pin("installers/install.sh", "install.sh", []byte(tc.script), key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s (key %v): %v", tc.name, key != nil, err)
			}
		}
	}
}

func TestPipeWritesBothScriptsWhenTheDoorIsOn(t *testing.T) {
	ctx := pipelinetest.New(t)
	if err := (Pipe{}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	got := ctx.Artifacts.Filter(artifact.ByKind(artifact.Installer))
	if len(got) != 2 {
		t.Fatalf("%d installers in the artifact list, want install.sh and install.ps1: %v", len(got), got)
	}
	for _, name := range []string{"install.sh", "install.ps1"} {
		if _, err := os.Stat(filepath.Join(ctx.Release, name)); err != nil {
			t.Errorf("the release holds no %s: %v", name, err)
		}
	}
}

func TestPipeWritesNothingWhenTheDoorIsOff(t *testing.T) {
	ctx := pipelinetest.New(t)
	off := false
	ctx.Config.Doors.Installers = &off
	if err := (Pipe{PublicKeyPEM: []byte(pub)}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(ctx.Release); len(entries) != 0 {
		t.Errorf("with doors.installers false the release holds %s", entries[0].Name())
	}
	if got := ctx.Artifacts.Filter(artifact.ByKind(artifact.Installer)); len(got) != 0 {
		t.Errorf("with doors.installers false the artifact list holds %v", got)
	}
	if log := ctx.Log.(*bytes.Buffer).String(); !strings.Contains(log, "doors.installers is false") {
		t.Errorf("the step does not say why it wrote nothing: %q", log)
	}
}

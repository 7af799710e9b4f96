// Package installers publishes install.sh and install.ps1, rendered from the
// packager's templates (package templates) for this release, in the release,
// where SHA256SUMS covers them like every other file. The scripts consume
// only what the release already holds (archives, SHA256SUMS, its signature):
// there is no installer-only artifact to make.
//
// A release signed with a cosign key pins that key's public half in both
// scripts, in place of their empty placeholder line, so that an install
// with openssl and no --public-key still checks the signature. It never pins
// the throw-away key of a snapshot, nor anything for a keyless release.
//
// With release.yaml's doors.installers false it writes nothing.
package installers

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/templates"
)

// keyVar is each script's pinned-key variable: the line that assigns it ”
// in the repository is the placeholder the packager fills.
var keyVar = map[string]string{
	"install.sh":  "PUBLIC_KEY_PEM=",
	"install.ps1": "$PublicKeyPem = ",
}

// Pipe copies the installers into the release, pinning PublicKeyPEM when
// it is set.
type Pipe struct {
	// PublicKeyPEM is the public half of COSIGN_KEY; nil pins nothing.
	PublicKeyPEM []byte
}

func (Pipe) String() string { return "add the installers" }

func (p Pipe) Run(ctx *pipeline.Context) error {
	if !ctx.Config.Doors.InstallersOn() {
		ctx.Logf("none: doors.installers is false in release.yaml")
		return nil
	}
	for _, name := range layout.InstallerScripts {
		raw, err := templates.Render(ctx.Config, ctx.Root, name)
		if err != nil {
			return err
		}
		if raw, err = Pin("the rendered "+name, name, raw, p.PublicKeyPEM); err != nil {
			return err
		}
		out := filepath.Join(ctx.Release, name)
		if err := os.WriteFile(out, raw, 0o644); err != nil {
			return err
		}
		ctx.Artifacts.Add(artifact.Artifact{Name: name, Path: out, Kind: artifact.Installer})
	}
	if p.PublicKeyPEM != nil {
		ctx.Logf("pinned the signing key in %s", strings.Join(layout.InstallerScripts, " and "))
	}
	return nil
}

// Pin replaces the script's placeholder line (`PUBLIC_KEY_PEM=”`) with
// the key in single quotes, which neither sh nor PowerShell expands inside.
// The placeholder must be there exactly once, key or not, so that a script
// that lost it is caught before a release that needs it. file names the
// script in errors.
func Pin(file, name string, script, publicKeyPEM []byte) ([]byte, error) {
	v, ok := keyVar[name]
	if !ok {
		return nil, fmt.Errorf("%s: no pinned-key variable is known for %s", file, name)
	}
	placeholder := v + "''"
	lines := strings.Split(string(script), "\n")
	at := -1
	for i, l := range lines {
		if l != placeholder {
			continue
		}
		if at >= 0 {
			return nil, fmt.Errorf("%s has more than one line %s, want exactly one: the packager pins the signing key there", file, placeholder)
		}
		at = i
	}
	if at < 0 {
		return nil, fmt.Errorf("%s has no line %s, want exactly one: the packager pins the signing key there (restore the line)", file, placeholder)
	}
	if publicKeyPEM == nil {
		return script, nil
	}
	pemText := strings.TrimSpace(string(publicKeyPEM))
	if strings.Contains(pemText, "'") {
		return nil, fmt.Errorf("the public key to pin in %s holds a quote: it is not a PEM", file)
	}
	lines[at] = v + "'" + pemText + "'"
	return []byte(strings.Join(lines, "\n")), nil
}

// Pinned returns the key a published script pins, "" when it pins none.
// It is an error when the script has no key line, or more than one.
func Pinned(name string, script []byte) (string, error) {
	v, ok := keyVar[name]
	if !ok {
		return "", fmt.Errorf("no pinned-key variable is known for %s", name)
	}
	var starts []int
	for i := 0; i < len(script); {
		j := bytes.IndexByte(script[i:], '\n')
		if bytes.HasPrefix(script[i:], []byte(v+"'")) {
			starts = append(starts, i+len(v)+1)
		}
		if j < 0 {
			break
		}
		i += j + 1
	}
	if len(starts) != 1 {
		return "", fmt.Errorf("has %d lines %s'…', want exactly one", len(starts), v)
	}
	rest := script[starts[0]:]
	end := bytes.IndexByte(rest, '\'')
	if end < 0 {
		return "", fmt.Errorf("its %s line has no closing quote", v)
	}
	return string(rest[:end]), nil
}

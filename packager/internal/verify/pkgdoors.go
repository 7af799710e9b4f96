package verify

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/tern-agent/tern/packager/internal/brew"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/doors"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/scoop"
	"github.com/tern-agent/tern/packager/internal/winget"
)

// packageManagers checks the Homebrew cask, the Scoop manifest and the
// winget manifests against the release's archives: version, URLs, hashes
// equal to the archives' and architectures. A door that is off must have
// written nothing; a door that is on must have written its files whenever
// the release has a target its package manager installs.
func (c *checker) packageManagers(m *manifest.Manifest) {
	cfg := c.opts.Config
	if cfg == nil {
		return
	}
	archives := doors.FromManifest(m)
	serves := func(door string, key func(config.Target) (string, bool)) bool {
		ps, _, err := doors.Select(cfg, m.Version, archives, door, key)
		return err == nil && len(ps) > 0
	}
	read := func(name string) ([]byte, bool) {
		raw, err := os.ReadFile(filepath.Join(c.dir, name))
		if errors.Is(err, os.ErrNotExist) {
			return nil, false
		}
		if err != nil {
			c.fail(name, "%v", err)
			return nil, false
		}
		return raw, true
	}

	if name := brew.FileName(cfg); !cfg.Doors.HomebrewOn() {
		if _, ok := read(name); ok {
			c.doorOff(name, "doors.homebrew", "Homebrew cask")
		}
	} else if raw, ok := read(name); ok {
		if err := brew.Check(cfg, m.Version, raw, archives); err != nil {
			c.fail(name, "%v", err)
		}
	} else if serves("homebrew", brew.PlatformKey) {
		c.fail(name, "is missing: doors.homebrew is on and the release has targets Homebrew installs")
	}

	if name := scoop.FileName(cfg); !cfg.Doors.ScoopOn() {
		if _, ok := read(name); ok {
			c.doorOff(name, "doors.scoop", "Scoop manifest")
		}
	} else if raw, ok := read(name); ok {
		if err := scoop.Check(cfg, m.Version, raw, archives); err != nil {
			c.fail(name, "%v", err)
		}
	} else if serves("scoop", scoop.PlatformKey) {
		c.fail(name, "is missing: doors.scoop is on and the release has targets Scoop installs")
	}

	_, id, err := winget.Identity(cfg)
	if err != nil {
		if cfg.Doors.WingetOn() && serves("winget", winget.PlatformKey) {
			c.fail("winget", "%v", err)
		}
		return
	}
	names := winget.FileNames(id)
	var files [3][]byte
	present := 0
	for i, name := range names {
		if raw, ok := read(name); ok {
			files[i] = raw
			present++
			if !cfg.Doors.WingetOn() {
				c.doorOff(name, "doors.winget", "winget manifest")
			}
		}
	}
	switch {
	case !cfg.Doors.WingetOn():
	case present == len(names):
		if err := winget.Check(cfg, m.Version, winget.Manifests{Version: files[0], Installer: files[1], Locale: files[2]}, archives); err != nil {
			c.fail(names[1], "%v", err)
		}
	case present > 0 || serves("winget", winget.PlatformKey):
		for i, name := range names {
			if files[i] == nil {
				c.fail(name, "is missing: doors.winget is on and the release has targets winget installs")
			}
		}
	}
}

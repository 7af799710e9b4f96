package verify

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/tern-agent/tern/packager/internal/aptrepo"
	"github.com/tern-agent/tern/packager/internal/layout"

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

// linuxPackages checks that every linux target has its .deb, .rpm and .apk
// (where the format has its architecture), each holding that target's
// archive's binary and helpers byte for byte (linuxPackagePayload), and the
// apt repository indexes
// and signs the .debs: its signatures, indexes and every package's digest,
// against the keyring the release ships (which SHA256SUMS, signed, covers).
// A door that is off must have written nothing.
func (c *checker) linuxPackages(m *manifest.Manifest) {
	cfg := c.opts.Config
	if cfg == nil {
		return
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return // digests reports it
	}
	isPackage := func(name string) bool {
		return strings.HasSuffix(name, ".deb") || strings.HasSuffix(name, ".rpm") || strings.HasSuffix(name, ".apk")
	}
	if !cfg.Doors.LinuxPackagesOn() {
		for _, e := range entries {
			if isPackage(e.Name()) {
				c.doorOff(e.Name(), "doors.linux_packages", "Linux package")
			}
		}
	} else {
		v, err := layout.LinuxVersionFor(m.Version, m.Time)
		if err != nil {
			c.fail(layout.Manifest, "%v", err)
			return
		}
		want := map[string]bool{}
		var debs []string
		for _, t := range cfg.Targets {
			arch, ok := layout.LinuxArchFor(t)
			if !ok {
				continue
			}
			var tree *archiveTree // read once a package of t is there
			for _, f := range layout.LinuxFormats {
				if arch.For(f) == "" {
					continue
				}
				name := layout.LinuxPackageName(cfg, f, v, arch)
				want[name] = true
				if f == layout.Deb {
					debs = append(debs, filepath.Join(c.dir, name))
				}
				if _, err := os.Stat(filepath.Join(c.dir, name)); err != nil {
					c.fail(name, "is missing: %s's %s package (doors.linux_packages is on)", t.Name, f)
					continue
				}
				if tree == nil {
					at := c.archiveTreeOf(m, t)
					tree = &at
				}
				c.linuxPackagePayload(m, name, f, t, v, arch, *tree)
			}
		}
		for _, e := range entries {
			if isPackage(e.Name()) && !want[e.Name()] {
				c.fail(e.Name(), "is a Linux package no target of release.yaml makes")
			}
		}
		if cfg.Doors.AptOn() && len(debs) > 0 {
			c.aptRepository(debs)
			return
		}
	}
	for _, name := range aptrepo.FlatFiles(cfg.Product) {
		if _, err := os.Stat(filepath.Join(c.dir, name)); err != nil {
			continue
		}
		if cfg.Doors.AptOn() {
			c.fail(name, "is an apt repository file, but the release has no .deb for it to index")
		} else {
			c.doorOff(name, "doors.apt", "apt repository file")
		}
	}
}

func (c *checker) aptRepository(debs []string) {
	keyring := aptrepo.KeyringName(c.opts.Config.Product)
	pub, err := aptrepo.ReadKeyRingFile(filepath.Join(c.dir, keyring))
	if err != nil {
		c.fail(keyring, "%v", err)
		return
	}
	if err := aptrepo.VerifyFlat(c.dir, debs, pub); err != nil {
		var ve *aptrepo.VerifyError
		if errors.As(err, &ve) {
			for _, p := range ve.Problems {
				c.fail("apt repository", "%s", p)
			}
			return
		}
		c.fail("apt repository", "%v", err)
	}
}

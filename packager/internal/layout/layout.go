// Package layout is the one home of a release's names and paths: the files
// of the release directory, the archives' names, prefixes and formats, the
// tree every target ships, and where each step writes under dist/. The
// steps that make a release and the gate that checks it both read them
// here, so the gate never imports a producer to learn a name.
//
// It holds names only: it never reads, writes or checks a file, and it
// imports nothing of the packager but config.
package layout

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tern-agent/tern/packager/internal/config"
)

// Files of the release directory.
const (
	Sums        = "SHA256SUMS"             // sha256sum -c format, over every file but the bundle
	SumsBundle  = Sums + ".sigstore.json"  // the signature over Sums
	Manifest    = "manifest.json"          // what the release holds, with digests
	SBOMSuffix  = ".cdx.json"              // after an archive's name, less its format
	SnapshotKey = "snapshot-cosign.pub"    // in dist/, never in the release
	License     = "LICENSE"                // in every tree
	Notices     = "THIRD_PARTY_NOTICES.md" // in every tree
	NPMTemplate = "npm-template"           // the npm packages' templates, in the repository
	Installers  = "installers"             // the installers' sources, in the repository
)

// InstallerScripts are the installers published in the release.
var InstallerScripts = []string{"install.sh", "install.ps1"}

// Format is an archive format, and the archive name's extension.
type Format string

const (
	TarGz Format = "tar.gz"
	Zip   Format = "zip"
)

// FormatFor is the archive format of a target: zip where users have no tar.
func FormatFor(t config.Target) Format {
	if t.GOOS == "windows" {
		return Zip
	}
	return TarGz
}

// Prefix is the directory every archive entry sits under.
func Prefix(c *config.Config, version string, t config.Target) string {
	return fmt.Sprintf("%s-%s-%s", c.Product, version, t.Name)
}

// ArchiveName is the file name of a target's archive.
func ArchiveName(c *config.Config, version string, t config.Target) string {
	return fmt.Sprintf("%s.%s", Prefix(c, version, t), FormatFor(t))
}

// SBOMName is the SBOM's file name for an archive.
func SBOMName(archive string) string {
	return strings.TrimSuffix(strings.TrimSuffix(archive, "."+string(Zip)), "."+string(TarGz)) + SBOMSuffix
}

// DotSlashName is the DotSlash file's name in the release: the command it runs.
func DotSlashName(c *config.Config) string { return c.Binary }

// NPMTarball is the file npm pack would write for a package:
// @tern-agent/cli-linux-x64@1.2.3 → tern-agent-cli-linux-x64-1.2.3.tgz.
func NPMTarball(pkg, version string) string {
	return strings.ReplaceAll(strings.TrimPrefix(pkg, "@"), "/", "-") + "-" + version + ".tgz"
}

// BinaryPath is the binary's slash path in a target's tree.
func BinaryPath(c *config.Config, t config.Target) string { return path.Join("bin", c.BinaryName(t)) }

// HelperPath is a helper's slash path in a tree.
func HelperPath(c *config.Config, helper string) string { return path.Join(c.HelperDir(), helper) }

// Tree lists the files a target's tree must hold, as slash paths relative
// to the tree, sorted: stage writes it, verify checks archives against it.
func Tree(c *config.Config, t config.Target, helpers []string) []string {
	files := []string{License, Notices, BinaryPath(c, t)}
	for _, h := range helpers {
		files = append(files, HelperPath(c, h))
	}
	for _, f := range c.Files {
		files = append(files, f.Dst)
	}
	sort.Strings(files)
	return files
}

// Paths under the repository root.

// Dist is where every step writes.
func Dist(root string) string { return filepath.Join(root, "dist") }

// BuildDir is where GoReleaser writes: its --clean wipes only this.
func BuildDir(dist string) string { return filepath.Join(dist, "build") }

// StageDir holds one staged tree per target.
func StageDir(dist string) string { return filepath.Join(dist, "stage") }

// HelpersDir is where built helpers land, per target.
func HelpersDir(root string) string { return filepath.Join(Dist(root), "helpers") }

// ReleaseDir is where a finished release lands.
func ReleaseDir(root string) string { return filepath.Join(Dist(root), "release") }

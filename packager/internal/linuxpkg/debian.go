package linuxpkg

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goreleaser/nfpm/v2/files"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
)

// commonLicenses maps an SPDX identifier to its text in Debian's
// /usr/share/common-licenses, which a Debian copyright file must point at
// rather than copy (lintian: copyright-not-using-common-license-*,
// copyright-file-contains-full-*-license). BSD is left out: Debian's file
// is the Regents of the University of California's, not any project's.
var commonLicenses = map[string]string{
	"Apache-2.0": "Apache-2.0", "Artistic-1.0": "Artistic", "CC0-1.0": "CC0-1.0",
	"GFDL-1.2": "GFDL-1.2", "GFDL-1.3": "GFDL-1.3",
	"GPL-1.0": "GPL-1", "GPL-2.0": "GPL-2", "GPL-3.0": "GPL-3",
	"LGPL-2.0": "LGPL-2", "LGPL-2.1": "LGPL-2.1", "LGPL-3.0": "LGPL-3",
	"MPL-1.1": "MPL-1.1", "MPL-2.0": "MPL-2.0",
}

// copyrightLine is a licence file's copyright notice: "Copyright 2026 Acme".
var copyrightLine = regexp.MustCompile(`(?i)^\s*(copyright|\(c\)|©).*\b[0-9]{4}\b`)

var spdxID = regexp.MustCompile(`[A-Za-z0-9.+-]+`)

// CommonLicenses are the files of /usr/share/common-licenses that an SPDX
// expression names ("MIT OR Apache-2.0" → Apache-2.0), in its order.
func CommonLicenses(expr string) []string {
	var out []string
	for _, id := range spdxID.FindAllString(expr, -1) {
		id = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(id, "+"), "-only"), "-or-later")
		if f, ok := commonLicenses[id]; ok {
			out = append(out, f)
		}
	}
	return out
}

// DebianCopyright is /usr/share/doc/<product>/copyright, which Debian's
// policy (12.5) requires of every package: where the source is, the
// licence, and for a licence Debian ships, the pointer to its text there.
// The project's licence file itself is installed beside it, as LICENSE;
// for a licence Debian does not ship (MIT, a proprietary one), its text is
// copied in here too, as policy asks.
func DebianCopyright(c *config.Config, licenseText []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nSource: %s\nLicense: %s\n\n", c.Product, c.Repository, License(c, layout.Deb))
	// The licence file's own copyright lines, which lintian looks for.
	var notices []string
	for _, line := range strings.Split(string(licenseText), "\n") {
		if copyrightLine.MatchString(line) {
			notices = append(notices, strings.TrimSpace(line))
		}
	}
	if len(notices) > 0 {
		fmt.Fprintf(&b, "%s\n\n", strings.Join(notices, "\n"))
	}
	doc := path.Join("/usr/share/doc", c.Product)
	common := CommonLicenses(c.NPM.License)
	for _, f := range common {
		fmt.Fprintf(&b, "On Debian systems, the complete text of the %s license can be found\nin /usr/share/common-licenses/%s.\n\n", f, f)
	}
	fmt.Fprintf(&b, "The licence file %s ships is %s/%s, and the notices\nof the third-party code it includes are in %s/%s.\n",
		c.Product, doc, layout.License, doc, layout.Notices)
	if len(common) == 0 {
		fmt.Fprintf(&b, "\n%s", licenseText)
	}
	return b.String()
}

// DebianChangelog is /usr/share/doc/<product>/changelog.gz's text, which
// lintian requires of a package without a Debian revision (no-changelog):
// one entry, for this version, dated at the commit.
func (p Package) DebianChangelog() string {
	return fmt.Sprintf("%s (%s) stable; urgency=medium\n\n  * Built from %s\n    at commit %s.\n\n -- %s  %s\n",
		p.Config.Product, p.Version.Deb, p.Config.Repository, p.Commit,
		Maintainer(p.Config), p.Time.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
}

// LintianOverrides is /usr/share/lintian/overrides/<product>: the tags that
// do not apply, each for its file. Go links its binaries statically by
// design, and the helpers are built static (third_party/*/build.sh) so one
// build runs on every distribution.
func LintianOverrides(c *config.Config, t config.Target) string {
	var b strings.Builder
	b.WriteString("# Static by design: a Go binary, and helpers built -static to run on every distribution.\n")
	fmt.Fprintf(&b, "statically-linked-binary [%s]\n", strings.TrimPrefix(layout.LinuxInstallPath(c, layout.Deb, layout.BinaryPath(c, t)), "/"))
	for _, h := range t.Helpers {
		fmt.Fprintf(&b, "statically-linked-binary [%s]\n", strings.TrimPrefix(layout.LinuxInstallPath(c, layout.Deb, layout.HelperPath(c, h)), "/"))
	}
	return b.String()
}

// debianFiles writes the .deb's own files (copyright, changelog.gz, the
// lintian overrides) into scratch and returns them as contents.
func (p Package) debianFiles(scratch string) (files.Contents, error) {
	c := p.Config
	licenseText, err := os.ReadFile(filepath.Join(p.Tree, layout.License))
	if err != nil {
		return nil, fmt.Errorf("the staged tree %s has no %s: stage the target again (packager stage)", p.Tree, layout.License)
	}
	doc := path.Join("/usr/share/doc", c.Product)
	type generated struct {
		dst, body string
		gzip      bool
	}
	var out files.Contents
	for i, g := range []generated{
		{path.Join(doc, "copyright"), DebianCopyright(c, licenseText), false},
		{path.Join(doc, "changelog.gz"), p.DebianChangelog(), true},
		{path.Join("/usr/share/lintian/overrides", c.Product), LintianOverrides(c, p.Target), false},
	} {
		src := filepath.Join(scratch, fmt.Sprintf("debian-%d", i))
		if err := os.WriteFile(src, []byte(g.body), 0o644); err != nil {
			return nil, err
		}
		if g.gzip {
			if src, err = gzipInto(scratch, src); err != nil {
				return nil, err
			}
		}
		out = append(out, &files.Content{Source: src, Destination: g.dst, Type: files.TypeFile,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o644, MTime: p.Time}})
	}
	return out, nil
}

// Package templates owns the installers and npm packages' files a release
// publishes: install.sh, install.ps1, and the npm launcher, lib/*.js,
// README.md and package.json of the meta and platform packages are
// rendered from templates embedded in the packager, and take every fact
// (product, binary, download URL, environment prefix, npm names, targets,
// signing identity) from release.yaml. A project may replace a template with
// its own file (release.yaml's templates:), rendered with the same facts.
//
// It renders text only: it never writes the release, and never pins a key
// (the installers step does that after rendering) nor fills in a version or
// a platform (the npm step does).
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"text/template"
	"unicode"

	"github.com/tern-agent/tern/packager/internal/config"
)

//go:embed files/*.tmpl files/npm
var files embed.FS

// The delimiters are ones neither sh, PowerShell nor JavaScript writes, so a
// template reads as the script it makes.
const leftDelim, rightDelim = "<%", "%>"

// Facts are what a template may name. Each comes from release.yaml.
type Facts struct {
	Product            string // archives' and data directory's name: tern
	Binary             string // the command: tern
	Title              string // the product for PowerShell function names: Tern
	EnvPrefix          string // of every setting's environment variable: TERN_
	Repository         string
	DownloadURL        string // the releases root: <repository>/releases
	UnixTargets        string // install.sh's supported targets, space-separated
	WindowsTargets     string // install.ps1's
	CertIdentityRegexp string
	CertOIDCIssuer     string
	NPMPackage         string // the npm meta package: @tern-agent/cli
	NPMDescription     string
	NPMLicense         string
	// Targets are every target of the release, space-separated: the
	// archives the npm launcher names for a machine npm has no package for.
	Targets string
	// InstallersOn: the release publishes install.sh and install.ps1, so
	// the npm launcher may offer them as the way in npm lacks.
	InstallersOn bool
	// NPMInstallSHPlatforms are the platforms install.sh serves, for the
	// npm launcher: their GOOS, space-separated, which is Node's
	// process.platform for each (linux darwin); "" without installers.
	// NPMInstallPS1 says install.ps1 serves Windows.
	NPMInstallSHPlatforms string
	NPMInstallPS1         bool

	// UnixTargetTable and WindowsTargetTable map Go's platform, as
	// GoReleaser names it (linux_amd64, linux_arm_7), to the target built
	// for it, space-separated: linux_amd64=linux-x64. An installer looks up
	// the machine it detects here, so target names are the project's own.
	UnixTargetTable    string
	WindowsTargetTable string
	// The version check the installers run (release.yaml's version_check, or
	// `<binary> --version`): its arguments single-quoted for sh ('--version')
	// and for a PowerShell array ('--version', 'x'), and the text the output
	// must hold, {{.Version}} standing for the version.
	VersionArgsSh   string
	VersionArgsPS1  string
	VersionContains string
}

// FactsOf derives the facts from a config. Values are written inside quotes
// of sh and PowerShell, so one that could end the quote is refused.
func FactsOf(c *config.Config) (Facts, error) {
	unix, windows := c.InstallerTargets()
	rule := c.VersionRule()
	f := Facts{
		Product:            c.Product,
		Binary:             c.Binary,
		Title:              title(c.Product),
		EnvPrefix:          c.EnvPrefix,
		Repository:         c.Repository,
		DownloadURL:        c.DownloadURL(),
		UnixTargets:        strings.Join(unix, " "),
		WindowsTargets:     strings.Join(windows, " "),
		UnixTargetTable:    targetTable(c, unix),
		WindowsTargetTable: targetTable(c, windows),
		VersionArgsSh:      quoteEach(rule.Args, " "),
		VersionArgsPS1:     quoteEach(rule.Args, ", "),
		VersionContains:    rule.Contains,
		CertIdentityRegexp: c.Signing.CertificateIdentityRegexp,
		CertOIDCIssuer:     c.Signing.CertificateOIDCIssuer,
		NPMPackage:         c.NPMMetaPackage(),
		NPMDescription:     c.NPM.Description,
		NPMLicense:         c.NPM.License,
		Targets:            strings.Join(targetNames(c), " "),
		InstallersOn:       c.Doors.InstallersOn(),
	}
	if c.Doors.InstallersOn() {
		f.NPMInstallSHPlatforms = strings.Join(goosOf(c, unix), " ")
		f.NPMInstallPS1 = len(windows) > 0
	}
	// Load refuses these already; a config made another way is checked
	// here, before any is written inside a quote.
	for _, q := range c.QuotedFacts() {
		if r, bad := config.Unquotable(q.Value, q.Regexp); bad {
			return Facts{}, fmt.Errorf("release.yaml's %s %q holds %q, which would end a quote in the installers or the npm launcher: remove it", q.Key, q.Value, r)
		}
	}
	return f, nil
}

// targetTable is the installers' platform table for the named targets, in
// release.yaml's order: the first target of a platform is the one installed.
func targetTable(c *config.Config, names []string) string {
	var entries []string
	for _, name := range names {
		if t, ok := c.Target(name); ok {
			entries = append(entries, t.GoReleaserTarget()+"="+name)
		}
	}
	return strings.Join(entries, " ")
}

// quoteEach single-quotes each word, joined by sep. FactsOf has refused any
// word holding a quote.
func quoteEach(words []string, sep string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	return strings.Join(quoted, sep)
}

// goosOf is the targets' GOOS, each once, in release.yaml's order.
func goosOf(c *config.Config, names []string) []string {
	var oses []string
	seen := map[string]bool{}
	for _, name := range names {
		if t, ok := c.Target(name); ok && !seen[t.GOOS] {
			seen[t.GOOS] = true
			oses = append(oses, t.GOOS)
		}
	}
	return oses
}

func targetNames(c *config.Config) []string {
	names := make([]string, 0, len(c.Targets))
	for _, t := range c.Targets {
		names = append(names, t.Name)
	}
	return names
}

func title(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
		}
		up = false
		b.WriteRune(r)
	}
	return b.String()
}

// Names are the installers' templates, by the file each renders.
var Names = []string{"install.sh", "install.ps1"}

// NPMNames are the npm packages' templates, by the path each renders below
// npm-template/ (NPMPath). The platform package's files keep the
// placeholders PLATFORM, {{package}}, {{target}} and {{meta}}, which the npm
// step fills in for each target; the meta package.json's "files" lists what
// the meta package ships.
var NPMNames = []string{
	"npm/meta/package.json", "npm/meta/README.md", "npm/meta/bin/launcher.js",
	"npm/meta/lib/platform.js", "npm/meta/lib/firstrun.js", "npm/meta/lib/tarball.js",
	"npm/platform/package.json", "npm/platform/README.md",
}

// NPMPath is where the npm template name renders, below npm-template/: the
// launcher is bin/<binary>.js.
func NPMPath(c *config.Config, name string) string {
	if name == "npm/meta/bin/launcher.js" {
		return "meta/bin/" + c.Binary + ".js"
	}
	return strings.TrimPrefix(name, "npm/")
}

// NPMMetaTemplate is the template of the meta package's file at path (a
// name from its package.json's "files").
func NPMMetaTemplate(c *config.Config, path string) string {
	if path == "bin/"+c.Binary+".js" {
		return "npm/meta/bin/launcher.js"
	}
	return "npm/meta/" + path
}

// Render renders the named file for the release c describes. Its second
// argument, the repository root, is not used: an override path in
// release.yaml is read inside release.yaml's directory (Config.ReadSource),
// where Load checked it.
func Render(c *config.Config, _, name string) ([]byte, error) {
	src, from, err := source(c, name)
	if err != nil {
		return nil, err
	}
	facts, err := FactsOf(c)
	if err != nil {
		return nil, err
	}
	t, err := template.New(name).Delims(leftDelim, rightDelim).Option("missingkey=error").Funcs(funcs).Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, facts); err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	return out.Bytes(), nil
}

var funcs = template.FuncMap{
	// json quotes a string for package.json, as npm writes it (no HTML escaping).
	"json": func(s string) (string, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		err := enc.Encode(s)
		return strings.TrimSuffix(b.String(), "\n"), err
	},
}

// Origin says where the template for name comes from, for a message about
// its rendering: the project's override file, or the packager's template.
// Its second argument, the repository root, is not used, as Render's.
func Origin(c *config.Config, _, name string) string {
	if p := c.Templates.Path(name); p != "" {
		return filepath.Join(c.Dir(), filepath.FromSlash(p))
	}
	return "the packager's template " + name
}

// source is the template for name: the project's override, read inside
// release.yaml's directory, or the embedded one.
func source(c *config.Config, name string) ([]byte, string, error) {
	if p := c.Templates.Path(name); p != "" {
		raw, err := c.ReadSource(p)
		if err != nil {
			return nil, "", fmt.Errorf("release.yaml's templates (%s): %w", name, err)
		}
		return raw, filepath.Join(c.Dir(), filepath.FromSlash(p)), nil
	}
	raw, err := files.ReadFile("files/" + name + ".tmpl")
	if err != nil && name == "npm/meta/install.js" {
		return nil, "", errors.New("the packager has no npm postinstall (install.js): its launcher does that work on its first run, since pnpm, Yarn, bun and deno skip install scripts; set templates.npm_postinstall in release.yaml to ship your own, or drop install.js from package.json's \"files\"")
	}
	if err != nil {
		return nil, "", fmt.Errorf("the packager has no template for %s", name)
	}
	return raw, "the packager's template " + name, nil
}

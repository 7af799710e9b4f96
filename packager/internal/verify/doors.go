package verify

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/layout"
)

// A door's fact: the line a script must hold, exactly, for this release.
type fact struct {
	what string // the fact it states, for the reader of a refusal
	key  string // the line's start, which the value follows
	want string // the whole line
}

// installerFacts are the lines each installer must hold, from release.yaml:
// what it installs, from where, for which targets and platforms, how it
// asks the binary its version, signed by whom. A script rendered for
// another product (a template copied with its facts) names another
// product, URL or identity on one of these lines, and is refused.
func installerFacts(cfg *config.Config) map[string][]fact {
	unix, windows := cfg.InstallerTargets()
	rule := cfg.VersionRule()
	sh := func(what, key, value string) fact { return fact{what, key, key + value} }
	return map[string][]fact{
		"install.sh": {
			sh("product", "PRODUCT=", cfg.Product),
			sh("binary", "BINARY=", cfg.Binary),
			sh("download URL", "DEFAULT_DOWNLOAD_URL=", cfg.DownloadURL()),
			sh("targets", "SUPPORTED_TARGETS=", `"`+strings.Join(unix, " ")+`"`),
			sh("target table", "TARGET_TABLE=", `"`+targetTable(cfg, unix)+`"`),
			sh("signing identity", "CERT_IDENTITY_REGEXP=", "'"+cfg.Signing.CertificateIdentityRegexp+"'"),
			sh("OIDC issuer", "CERT_OIDC_ISSUER=", cfg.Signing.CertificateOIDCIssuer),
			sh("env prefix", "\tinstall_dir=${", cfg.EnvPrefix+"INSTALL_DIR:-$HOME/.local/bin}"),
			sh("version check output", "VERSION_CONTAINS=", "'"+rule.Contains+"'"),
			sh("version check arguments", `run_version_check() { "$1" `, quoted(rule.Args, " ")+" </dev/null 2>&1; }"),
		},
		"install.ps1": {
			sh("product", "$Product = ", "'"+cfg.Product+"'"),
			sh("binary", "$Binary = ", "'"+cfg.Binary+"'"),
			sh("download URL", "$DefaultDownloadUrl = ", "'"+cfg.DownloadURL()+"'"),
			sh("targets", "$SupportedTargets = ", "'"+strings.Join(windows, " ")+"'"),
			sh("target table", "$TargetTable = ", "'"+targetTable(cfg, windows)+"'"),
			sh("signing identity", "$CertIdentityRegexp = ", "'"+cfg.Signing.CertificateIdentityRegexp+"'"),
			sh("OIDC issuer", "$CertOidcIssuer = ", "'"+cfg.Signing.CertificateOIDCIssuer+"'"),
			sh("env prefix", "    [string]$Version = $(if ($env:", cfg.EnvPrefix+"VERSION) { $env:"+cfg.EnvPrefix+"VERSION } else { 'latest' }),"),
			sh("version check output", "$VersionContains = ", "'"+rule.Contains+"'"),
			sh("version check arguments", "$VersionArgs = ", "@("+quoted(rule.Args, ", ")+")"),
		},
	}
}

// targetTable is the platform table an installer looks its machine up in:
// each target's Go platform as GoReleaser names it (linux_arm_7), = the
// target, in release.yaml's order.
func targetTable(cfg *config.Config, names []string) string {
	var entries []string
	for _, name := range names {
		t, _ := cfg.Target(name)
		entries = append(entries, t.GoReleaserTarget()+"="+name)
	}
	return strings.Join(entries, " ")
}

// quoted is each word in single quotes, joined by sep.
func quoted(words []string, sep string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = "'" + w + "'"
	}
	return strings.Join(out, sep)
}

// installerFactsCheck refuses an installer that does not state this
// release's facts, naming the file and the fact; and, with
// doors.installers false, any installer at all.
func (c *checker) installerFactsCheck() {
	cfg := c.opts.Config
	if cfg == nil {
		return
	}
	if !cfg.Doors.InstallersOn() {
		for _, name := range layout.InstallerScripts {
			if _, err := os.Lstat(filepath.Join(c.dir, name)); err == nil {
				c.fail(name, "doors.installers is false, but the release holds %s: verify with the release.yaml the release was made with, or cut the release again", name)
			}
		}
		return
	}
	all := installerFacts(cfg)
	for _, name := range layout.InstallerScripts {
		facts := all[name]
		raw, err := os.ReadFile(filepath.Join(c.dir, name))
		if err != nil {
			continue // installerKeys reports a missing script
		}
		lines := bytes.Split(raw, []byte("\n"))
		for _, f := range facts {
			var found []string
			for _, l := range lines {
				if bytes.HasPrefix(l, []byte(f.key)) {
					found = append(found, string(l))
				}
			}
			switch {
			case len(found) == 1 && found[0] == f.want:
			case len(found) == 0:
				c.fail(name, "states no %s (no line %s…), want %s: render it from the packager's template", f.what, strings.TrimSpace(f.key), strings.TrimSpace(f.want))
			default:
				c.fail(name, "names another %s: %s, want %s (a template of another product?)", f.what, strings.TrimSpace(found[0]), strings.TrimSpace(f.want))
			}
		}
	}
}

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
// what it installs, from where, for which targets, signed by whom. A script
// rendered for another product (a template copied with its facts) names
// another product, URL or identity on one of these lines, and is refused.
func installerFacts(cfg *config.Config) map[string][]fact {
	unix, windows := cfg.InstallerTargets()
	sh := func(what, key, value string) fact { return fact{what, key, key + value} }
	return map[string][]fact{
		"install.sh": {
			sh("product", "PRODUCT=", cfg.Product),
			sh("download URL", "DEFAULT_DOWNLOAD_URL=", cfg.DownloadURL()),
			sh("targets", "SUPPORTED_TARGETS=", `"`+strings.Join(unix, " ")+`"`),
			sh("signing identity", "CERT_IDENTITY_REGEXP=", "'"+cfg.Signing.CertificateIdentityRegexp+"'"),
			sh("OIDC issuer", "CERT_OIDC_ISSUER=", cfg.Signing.CertificateOIDCIssuer),
			sh("env prefix", "\tinstall_dir=${", cfg.EnvPrefix+"INSTALL_DIR:-$HOME/.local/bin}"),
		},
		"install.ps1": {
			sh("product", "$Product = ", "'"+cfg.Product+"'"),
			sh("download URL", "$DefaultDownloadUrl = ", "'"+cfg.DownloadURL()+"'"),
			sh("targets", "$SupportedTargets = ", "'"+strings.Join(windows, " ")+"'"),
			sh("signing identity", "$CertIdentityRegexp = ", "'"+cfg.Signing.CertificateIdentityRegexp+"'"),
			sh("OIDC issuer", "$CertOidcIssuer = ", "'"+cfg.Signing.CertificateOIDCIssuer+"'"),
			sh("env prefix", "    [string]$Version = $(if ($env:", cfg.EnvPrefix+"VERSION) { $env:"+cfg.EnvPrefix+"VERSION } else { 'latest' }),"),
		},
	}
}

// installerFactsCheck refuses an installer that does not state this
// release's facts, naming the file and the fact.
func (c *checker) installerFactsCheck() {
	cfg := c.opts.Config
	if cfg == nil {
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

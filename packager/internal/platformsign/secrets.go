package platformsign

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
)

// The environment variables the signing secrets come from. The release
// workflow passes them to the one step that signs.
const (
	EnvMacP12         = "MACOS_SIGN_P12" // a path, or the PKCS#12 in base64
	EnvMacPassword    = "MACOS_SIGN_PASSWORD"
	EnvMacTSA         = "MACOS_SIGN_TSA_URL" // default: Apple's timestamp server
	EnvNotaryKey      = "MACOS_NOTARY_KEY"   // a path, or the .p8 itself (PEM or base64)
	EnvNotaryKeyID    = "MACOS_NOTARY_KEY_ID"
	EnvNotaryIssuerID = "MACOS_NOTARY_ISSUER_ID"
	EnvNotaryURL      = "MACOS_NOTARY_URL"    // default: Apple's; a stand-in in tests
	EnvNotaryS3URL    = "MACOS_NOTARY_S3_URL" // default: Apple's S3; a stand-in or mirror, the bucket as first path segment
	EnvWinP12         = "WINDOWS_SIGN_P12"    // a path, or the PKCS#12 in base64
	EnvWinPassword    = "WINDOWS_SIGN_PASSWORD"
	EnvWinTSA         = "WINDOWS_SIGN_TSA_URL" // optional: an RFC 3161 timestamp
)

// AppleTSA is Apple's timestamp server, which Gatekeeper expects a
// Developer ID signature's secure timestamp to come from.
const AppleTSA = "http://timestamp.apple.com/ts01"

// Secrets are the signing material a run was given.
type Secrets struct {
	MacP12                      []byte
	MacPassword, MacTSA         string
	NotaryKey                   []byte
	NotaryKeyID, NotaryIssuerID string
	NotaryURL, NotaryS3URL      string
	WinP12                      []byte
	WinPassword, WinTSA         string
}

// SecretsFromEnv reads the signing variables. A P12 or key variable holds a
// path to a file or the file's contents (base64 for PKCS#12, PEM or base64
// for the .p8); an unreadable one is an error naming it.
func SecretsFromEnv(getenv func(string) string) (Secrets, error) {
	s := Secrets{
		MacPassword: getenv(EnvMacPassword), MacTSA: getenv(EnvMacTSA),
		NotaryKeyID: getenv(EnvNotaryKeyID), NotaryIssuerID: getenv(EnvNotaryIssuerID),
		NotaryURL: getenv(EnvNotaryURL), NotaryS3URL: getenv(EnvNotaryS3URL),
		WinPassword: getenv(EnvWinPassword), WinTSA: getenv(EnvWinTSA),
	}
	if s.MacTSA == "" {
		s.MacTSA = AppleTSA
	}
	var errs []error
	for _, v := range []struct {
		name string
		dst  *[]byte
	}{{EnvMacP12, &s.MacP12}, {EnvNotaryKey, &s.NotaryKey}, {EnvWinP12, &s.WinP12}} {
		raw := getenv(v.name)
		if raw == "" {
			continue
		}
		b, err := fileutil.SecretValue(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.name, err))
		}
		*v.dst = b
	}
	return s, errors.Join(errs...)
}

// Missing names the variables a release (not a snapshot) of cfg needs and
// s lacks: the release fails before building, not after minutes of it.
//
// Only the operating systems among cfg.Targets count: a split build of the
// linux targets needs no darwin or windows secret, and the release
// workflow gives each build job its own group's secrets alone.
func (s Secrets) Missing(cfg *config.Config) []string {
	var missing []string
	need := func(name string, have bool) {
		if !have {
			missing = append(missing, name)
		}
	}
	if d := cfg.PlatformSigning.Darwin; d != nil && builds(cfg, "darwin") {
		need(EnvMacP12, len(s.MacP12) > 0)
		need(EnvMacPassword, s.MacPassword != "")
		if d.NotarizeOn() {
			need(EnvNotaryKey, len(s.NotaryKey) > 0)
			need(EnvNotaryKeyID, s.NotaryKeyID != "")
			need(EnvNotaryIssuerID, s.NotaryIssuerID != "")
		}
	}
	if cfg.PlatformSigning.Windows != nil && builds(cfg, "windows") {
		need(EnvWinP12, len(s.WinP12) > 0)
		need(EnvWinPassword, s.WinPassword != "")
	}
	return missing
}

// CheckBeforeBuild refuses a release whose config asks for platform
// signatures when the secrets are missing, naming each variable.
//
// It also refuses the reverse: a release given a signing identity that
// release.yaml does not declare, which verify would refuse only after the
// whole build ("signed by an identity release.yaml does not name").
func CheckBeforeBuild(cfg *config.Config, snapshot bool, s Secrets) error {
	if snapshot {
		return nil // a snapshot signs with what it is given, ad hoc otherwise
	}
	var errs []error
	if m := s.Missing(cfg); len(m) > 0 {
		errs = append(errs, fmt.Errorf("release.yaml's platform_signing asks for signed binaries, but %s %s not set: set them (the release workflow passes them to its signing step), or cut a snapshot",
			strings.Join(m, ", "), map[bool]string{true: "is", false: "are"}[len(m) == 1]))
	}
	if len(s.MacP12) > 0 && cfg.PlatformSigning.Darwin == nil && builds(cfg, "darwin") {
		errs = append(errs, fmt.Errorf("%s is set, but release.yaml has no platform_signing.darwin naming the identity, team and roots verify checks it against: declare them, or unset %s", EnvMacP12, EnvMacP12))
	}
	if len(s.WinP12) > 0 && cfg.PlatformSigning.Windows == nil && builds(cfg, "windows") {
		errs = append(errs, fmt.Errorf("%s is set, but release.yaml has no platform_signing.windows naming the identity and roots verify checks it against: declare them, or unset %s", EnvWinP12, EnvWinP12))
	}
	return errors.Join(errs...)
}

// builds reports whether cfg has a target for goos.
func builds(cfg *config.Config, goos string) bool {
	for _, t := range cfg.Targets {
		if t.GOOS == goos {
			return true
		}
	}
	return false
}

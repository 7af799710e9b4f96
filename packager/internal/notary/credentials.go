package notary

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// The environment that carries an App Store Connect API key in CI.
const (
	EnvKey      = "MACOS_NOTARY_KEY"       // the .p8 file: a path, its PEM, or its PEM in base64
	EnvKeyID    = "MACOS_NOTARY_KEY_ID"    // the key's id, e.g. 2X9R4HXF34
	EnvIssuerID = "MACOS_NOTARY_ISSUER_ID" // the team's issuer id, a UUID
)

// Credentials are an App Store Connect API key: what signs the JWT that
// every call to the Notary API carries.
type Credentials struct {
	KeyID    string
	IssuerID string
	Key      *ecdsa.PrivateKey
}

// ParseKey reads an App Store Connect API private key: the contents of the
// AuthKey_<id>.p8 file Apple lets you download once, a PKCS#8 P-256 key in
// PEM. The PEM in base64 (how CI secrets often hold it) and bare DER are
// accepted too.
func ParseKey(p8 []byte) (*ecdsa.PrivateKey, error) {
	der, err := keyDER(p8)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("the App Store Connect key is not a PKCS#8 private key (%v): use the AuthKey_<id>.p8 file as downloaded from App Store Connect", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("the App Store Connect key is a %T, not an ECDSA P-256 key: use the AuthKey_<id>.p8 file from App Store Connect (Users and Access → Integrations)", k)
	}
	return ec, nil
}

func keyDER(p8 []byte) ([]byte, error) {
	text := strings.TrimSpace(string(p8))
	if text == "" {
		return nil, errors.New("the App Store Connect key is empty")
	}
	if block, _ := pem.Decode([]byte(text)); block != nil {
		if block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("the App Store Connect key is a PEM %q block, want \"PRIVATE KEY\" (the .p8 file as downloaded)", block.Type)
		}
		return block.Bytes, nil
	}
	// A CI secret may hold the .p8 in base64, line-wrapped or not.
	compact := strings.Join(strings.Fields(text), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		decoded, err := enc.DecodeString(compact)
		if err != nil {
			continue
		}
		if block, _ := pem.Decode(decoded); block != nil {
			return keyDER(decoded)
		}
		return decoded, nil // DER, checked by the caller's parse
	}
	return nil, errors.New("the App Store Connect key is neither PEM (-----BEGIN PRIVATE KEY-----) nor base64: use the AuthKey_<id>.p8 file as downloaded")
}

// CredentialsFromEnv reads MACOS_NOTARY_KEY, MACOS_NOTARY_KEY_ID and
// MACOS_NOTARY_ISSUER_ID through getenv (os.Getenv in a release).
// MACOS_NOTARY_KEY is the .p8's PEM, its base64, or a path to the file.
// Every missing variable is named in one error.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	var missing []string
	get := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	key, keyID, issuer := get(EnvKey), get(EnvKeyID), get(EnvIssuerID)
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("notarizing needs an App Store Connect API key, but %s %s unset: create a key in App Store Connect (Users and Access → Integrations → App Store Connect API), then set %s to the .p8 file (path, PEM or base64), %s to its key id and %s to the issuer id shown above the key list",
			strings.Join(missing, ", "), plural(len(missing), "is", "are"), EnvKey, EnvKeyID, EnvIssuerID)
	}
	raw, where := []byte(key), EnvKey
	if !strings.Contains(key, "-----BEGIN") {
		if b, err := os.ReadFile(key); err == nil {
			raw, where = b, key
		} else if !looksBase64(key) {
			return Credentials{}, fmt.Errorf("%s: reading the key file: %w (set %s to the .p8 file's path, its PEM, or its base64)", EnvKey, err, EnvKey)
		}
	}
	k, err := ParseKey(raw)
	if err != nil {
		return Credentials{}, fmt.Errorf("%s (%s): %w", EnvKey, where, err)
	}
	return Credentials{KeyID: keyID, IssuerID: issuer, Key: k}, nil
}

func looksBase64(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9',
			r == '+', r == '/', r == '=', r == '\n', r == '\r', r == ' ':
		default:
			return false
		}
	}
	return true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

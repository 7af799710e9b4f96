package linuxpkg

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/tern-agent/tern/packager/internal/fileutil"
)

// The environment variables the Linux packages' signing keys come from,
// named as the platform signing's (MACOS_SIGN_P12, WINDOWS_SIGN_P12). A key
// variable holds a path, the key itself (armored OpenPGP, PEM), or the key
// in base64.
const (
	EnvRPMKey      = "RPM_SIGN_KEY"      // an OpenPGP secret key: gpg --export-secret-keys --armor <id>
	EnvRPMPassword = "RPM_SIGN_PASSWORD" // its passphrase, if it has one
	EnvAPKKey      = "APK_SIGN_KEY"      // an RSA private key in PEM: abuild-keygen's, or openssl genrsa's
	EnvAPKPassword = "APK_SIGN_PASSWORD" // its passphrase, for a legacy encrypted PEM
	// EnvAPKKeyName is the public key's file name in /etc/apk/keys, which
	// apk looks the signature's key up by. Default: <product>.rsa.pub.
	EnvAPKKeyName = "APK_SIGN_KEY_NAME"
)

// Keys sign the rpm and the apk. A nil key leaves that format unsigned.
type Keys struct {
	RPM     *openpgp.Entity
	APK     *rsa.PrivateKey
	APKName string // the public key's name in /etc/apk/keys: acme.rsa.pub
}

// KeysFromEnv reads the signing keys; a variable that is set but holds no
// usable key is an error naming it and what to give.
func KeysFromEnv(getenv func(string) string, product string) (Keys, error) {
	var k Keys
	var errs []error
	if raw := getenv(EnvRPMKey); raw != "" {
		b, err := fileutil.SecretValue(raw)
		if err == nil {
			k.RPM, err = ParseRPMKey(b, getenv(EnvRPMPassword))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvRPMKey, err))
		}
	}
	if raw := getenv(EnvAPKKey); raw != "" {
		b, err := fileutil.SecretValue(raw)
		if err == nil {
			k.APK, err = ParseAPKKey(b, getenv(EnvAPKPassword))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvAPKKey, err))
		}
		k.APKName = getenv(EnvAPKKeyName)
		if k.APKName == "" {
			k.APKName = product + ".rsa.pub"
		}
	}
	return k, errors.Join(errs...)
}

// ParseRPMKey reads one OpenPGP secret key that can sign, armored or not,
// and decrypts it with passphrase when it is encrypted.
func ParseRPMKey(raw []byte, passphrase string) (*openpgp.Entity, error) {
	var list openpgp.EntityList
	var err error
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("-----BEGIN PGP")) {
		list, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(raw))
	} else {
		list, err = openpgp.ReadKeyRing(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, fmt.Errorf("not an OpenPGP key (%v): give gpg --export-secret-keys --armor <key id>", err)
	}
	var signers []*openpgp.Entity
	for _, e := range list {
		if e.PrivateKey != nil && e.PrivateKey.CanSign() {
			signers = append(signers, e)
		}
	}
	if len(signers) != 1 {
		return nil, fmt.Errorf("holds %d secret keys that can sign, want one: export only the release key (gpg --export-secret-keys --armor <key id>)", len(signers))
	}
	e := signers[0]
	if e.PrivateKey.Encrypted {
		if passphrase == "" {
			return nil, fmt.Errorf("the key is encrypted: set %s to its passphrase", EnvRPMPassword)
		}
		if err := e.DecryptPrivateKeys([]byte(passphrase)); err != nil {
			return nil, fmt.Errorf("decrypting the key with %s: %w", EnvRPMPassword, err)
		}
	}
	return e, nil
}

// ParseAPKKey reads an RSA private key in PEM (PKCS#1, as abuild-keygen
// writes, or PKCS#8), decrypting a legacy encrypted PEM with passphrase.
func ParseAPKKey(raw []byte, passphrase string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, errors.New("no PEM block: give the private key abuild-keygen or openssl genrsa wrote")
	}
	der := block.Bytes
	//nolint:staticcheck // legacy encrypted PEM is what openssl genrsa -aes256 writes
	if x509.IsEncryptedPEMBlock(block) {
		if passphrase == "" {
			return nil, fmt.Errorf("the key is encrypted: set %s to its passphrase", EnvAPKPassword)
		}
		var err error
		//nolint:staticcheck // as above
		if der, err = x509.DecryptPEMBlock(block, []byte(passphrase)); err != nil {
			return nil, fmt.Errorf("decrypting the key with %s: %w", EnvAPKPassword, err)
		}
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(der)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, err
		}
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, fmt.Errorf("a %T: apk verifies RSA signatures only (openssl genrsa -out key.pem 4096)", k)
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("an encrypted PKCS#8 key, which Go cannot read: decrypt it (openssl pkey -in key.pem -out plain.pem) and keep it in a secret")
	}
	return nil, fmt.Errorf("a PEM %q, not an RSA private key", block.Type)
}

// rpmSigner signs as rpm wants (a binary detached OpenPGP signature, over
// the header and over header and payload), dated at the commit, or when
// the key is younger at its newest self-signature (ValidFrom): rpm refuses
// a signature older than its key, and go-crypto a key not yet valid. RSA and EdDSA signatures of the same bytes at the same
// time are the same bytes, so a signed rpm is reproducible too, once
// go-crypto's random salt notation is off: it guards against fault
// attacks on a signer that signs attacker-chosen data, and we sign only
// our own package.
func (k Keys) rpmSigner(commit time.Time) func(io.Reader) ([]byte, error) {
	when := commit
	if from := ValidFrom(k.RPM); from.After(when) {
		when = from
	}
	return func(data io.Reader) ([]byte, error) {
		var sig bytes.Buffer
		salted := false
		cfg := &packet.Config{DefaultHash: crypto.SHA256, Time: func() time.Time { return when },
			NonDeterministicSignaturesViaNotation: &salted}
		if err := openpgp.DetachSign(&sig, k.RPM, data, cfg); err != nil {
			return nil, fmt.Errorf("signing the rpm: %w", err)
		}
		return sig.Bytes(), nil
	}
}

// ValidFrom is the earliest time e can sign at: its creation, or its
// newest self-signature (a user ID's, a subkey's binding), which a renewed
// expiry moves forward. It depends on the key alone, so a signature dated
// there is as reproducible as one dated at the commit.
func ValidFrom(e *openpgp.Entity) time.Time {
	from := e.PrimaryKey.CreationTime
	later := func(sig *packet.Signature) {
		if sig != nil && sig.CreationTime.After(from) {
			from = sig.CreationTime
		}
	}
	later(e.SelfSignature)
	for _, id := range e.Identities {
		later(id.SelfSignature)
	}
	for _, sub := range e.Subkeys {
		later(sub.Sig)
	}
	return from
}

// apkSigner signs the SHA-1 digest of the apk's control stream with
// RSA PKCS#1 v1.5, as apk-tools verifies a .SIGN.RSA.<name> entry.
func (k Keys) apkSigner() func(io.Reader) ([]byte, error) {
	return func(digest io.Reader) ([]byte, error) {
		d, err := io.ReadAll(digest)
		if err != nil {
			return nil, err
		}
		return rsa.SignPKCS1v15(nil, k.APK, crypto.SHA1, d)
	}
}

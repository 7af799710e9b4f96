package sign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
)

// PEM block types of a cosign private key; cosign has written both.
var cosignKeyTypes = []string{"ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"}

// LoadCosignKey reads a cosign-format private key: scrypt and secretbox
// around a PKCS#8 ECDSA P-256 key, in PEM. key is a file path or the PEM
// itself, as in the COSIGN_KEY of a CI secret.
func LoadCosignKey(key string, password []byte) (*ecdsa.PrivateKey, error) {
	raw := []byte(key)
	where := "COSIGN_KEY"
	if !isPEM(key) {
		b, err := os.ReadFile(key)
		if err != nil {
			return nil, fmt.Errorf("reading the signing key: %w", err)
		}
		raw, where = b, key
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block: expected a key made by `cosign generate-key-pair`", where)
	}
	known := false
	for _, t := range cosignKeyTypes {
		known = known || block.Type == t
	}
	if !known {
		return nil, fmt.Errorf("%s holds a %q, not a cosign private key (made by `cosign generate-key-pair`)", where, block.Type)
	}
	der, err := encrypted.Decrypt(block.Bytes, password)
	if err != nil {
		return nil, fmt.Errorf("decrypting %s: %w (is COSIGN_PASSWORD right?)", where, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s is a %T; the release is signed with ECDSA P-256 keys", where, parsed)
	}
	return priv, nil
}

// isPEM says whether COSIGN_KEY holds the key itself rather than its path.
func isPEM(key string) bool { return strings.HasPrefix(strings.TrimSpace(key), "-----BEGIN") }

// GenerateCosignKey makes a key pair in cosign's formats: the encrypted
// private key and the PEM public key.
func GenerateCosignKey(password []byte) (privPEM, pubPEM []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	enc, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, nil, err
	}
	pub, err := PublicKeyPEM(&priv.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: cosignKeyTypes[0], Bytes: enc}), pub, nil
}

// PublicKeyPEM is a public key as cosign writes cosign.pub.
func PublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// keypair is a sigstore-go Keypair over an ECDSA P-256 key we hold.
type keypair struct {
	priv *ecdsa.PrivateKey
}

func (k keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (k keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

// GetHint is the key's fingerprint, as sigstore-go's own key pairs give it.
func (k keypair) GetHint() []byte {
	der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(der)
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func (k keypair) GetKeyAlgorithm() string        { return "ECDSA" }
func (k keypair) GetPublicKey() crypto.PublicKey { return &k.priv.PublicKey }
func (k keypair) GetPublicKeyPem() (string, error) {
	b, err := PublicKeyPEM(&k.priv.PublicKey)
	return string(b), err
}

// SignData signs the SHA-256 digest of data and returns signature and digest.
func (k keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	digest := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		return nil, nil, errors.New("signing: " + err.Error())
	}
	return sig, digest[:], nil
}

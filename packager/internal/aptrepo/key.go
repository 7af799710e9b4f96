package aptrepo

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// The signing environment, read once by KeyFromEnv.
const (
	EnvKey        = "APT_SIGNING_KEY"        // an armored OpenPGP private key, or its path
	EnvPassphrase = "APT_SIGNING_PASSPHRASE" // the key's passphrase, when it has one
)

// Key is an OpenPGP private key that signs the repository's Release.
type Key struct {
	entity *openpgp.Entity
	// Ephemeral marks a throw-away key made by GenerateKey for a snapshot.
	Ephemeral bool
}

// KeyFromEnv reads APT_SIGNING_KEY (an armored private key, or a path to
// one, armored or binary) and APT_SIGNING_PASSPHRASE through getenv. It
// returns nil and no error when APT_SIGNING_KEY is unset: a snapshot then
// signs with GenerateKey's throw-away key, and a release must refuse.
func KeyFromEnv(getenv func(string) string) (*Key, error) {
	k := getenv(EnvKey)
	if strings.TrimSpace(k) == "" {
		return nil, nil
	}
	return LoadKey(k, []byte(getenv(EnvPassphrase)))
}

// ErrNoKey says that a release has no key to sign its apt repository with.
var ErrNoKey = errors.New("nothing to sign the apt repository with: set " + EnvKey +
	" to an armored OpenPGP private key or its path (`gpg --armor --export-secret-keys FINGERPRINT`), and " +
	EnvPassphrase + " if it has a passphrase")

// LoadKey reads one OpenPGP private key: key is the armored key itself or a
// path to a file holding it, armored or binary.
func LoadKey(key string, passphrase []byte) (*Key, error) {
	raw, where := []byte(key), EnvKey
	if !strings.Contains(key, "-----BEGIN PGP") {
		// Name the path only when it looks like one: a mangled key must
		// not be printed in a CI log.
		if strings.ContainsAny(key, "\n\r") || len(key) > 4096 {
			return nil, fmt.Errorf("%s is neither an armored key (-----BEGIN PGP PRIVATE KEY BLOCK-----) nor a path to one", EnvKey)
		}
		b, err := os.ReadFile(key)
		if err != nil {
			return nil, fmt.Errorf("reading the apt signing key (%s names a path, or holds the armored key itself): %w", EnvKey, err)
		}
		raw, where = b, key
	}
	list, err := readKeyRing(raw)
	if err != nil {
		return nil, fmt.Errorf("%s holds no OpenPGP key (export one with `gpg --armor --export-secret-keys FINGERPRINT`): %w", where, err)
	}
	if len(list) != 1 {
		return nil, fmt.Errorf("%s holds %d keys; export the one that signs the repository: `gpg --armor --export-secret-keys FINGERPRINT`", where, len(list))
	}
	e := list[0]
	if e.PrivateKey == nil {
		return nil, fmt.Errorf("%s holds a public key only; export the private key: `gpg --armor --export-secret-keys %X`", where, e.PrimaryKey.Fingerprint)
	}
	if err := decrypt(e, passphrase); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if _, ok := e.SigningKey(time.Now()); !ok {
		return nil, fmt.Errorf("%s (%X) has no valid signing key: it, or its signing subkey, is expired, revoked or without the sign flag", where, e.PrimaryKey.Fingerprint)
	}
	return &Key{entity: e}, nil
}

// decrypt unlocks the primary key and every subkey that is locked.
func decrypt(e *openpgp.Entity, passphrase []byte) error {
	locked := e.PrivateKey.Encrypted
	for _, s := range e.Subkeys {
		locked = locked || (s.PrivateKey != nil && s.PrivateKey.Encrypted)
	}
	if !locked {
		return nil
	}
	if len(passphrase) == 0 {
		return fmt.Errorf("the key is locked with a passphrase: set %s", EnvPassphrase)
	}
	if err := e.DecryptPrivateKeys(passphrase); err != nil {
		return fmt.Errorf("unlocking the key: %w (is %s right?)", err, EnvPassphrase)
	}
	return nil
}

// GenerateKey makes a throw-away Ed25519 key for one snapshot, named for
// product and created at t (the commit time), so that its self-signatures
// are not newer than the signatures it makes.
func GenerateKey(product string, t time.Time) (*Key, error) {
	return generateKey(product, t, nil)
}

// DeriveSnapshotKey derives a snapshot's throw-away key from its commit, so that
// two builds of one commit sign the repository alike and the snapshot stays
// reproducible. Anyone can derive it: it proves nothing, which is what a
// snapshot's key is (the cosign snapshot key is as untrusted).
func DeriveSnapshotKey(product, commit string, t time.Time) (*Key, error) {
	return generateKey(product, t, &seededReader{seed: sha256.Sum256([]byte("packager snapshot apt key\x00" + product + "\x00" + commit))})
}

// seededReader is a deterministic byte stream: SHA-256 of a seed and a
// counter, block after block.
type seededReader struct {
	seed [32]byte
	n    uint64
	buf  []byte
}

func (r *seededReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) {
		var block [40]byte
		copy(block[:], r.seed[:])
		binary.BigEndian.PutUint64(block[32:], r.n)
		r.n++
		sum := sha256.Sum256(block[:])
		r.buf = append(r.buf, sum[:]...)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func generateKey(product string, t time.Time, rand io.Reader) (*Key, error) {
	cfg := &packet.Config{
		Algorithm:   packet.PubKeyAlgoEdDSA,
		Curve:       packet.Curve25519,
		DefaultHash: crypto.SHA512,
		Time:        func() time.Time { return t },
		Rand:        rand,
	}
	e, err := openpgp.NewEntity(product+" snapshot apt repository", "untrusted, throw-away", "", cfg)
	if err != nil {
		return nil, fmt.Errorf("generating the snapshot's apt signing key: %w", err)
	}
	return &Key{entity: e, Ephemeral: true}, nil
}

// Fingerprint is the primary key's fingerprint in upper-case hex, as gpg
// and apt print it.
func (k *Key) Fingerprint() string { return fmt.Sprintf("%X", k.entity.PrimaryKey.Fingerprint) }

// Public is the key's public half, as a KeyRing to verify with.
func (k *Key) Public() KeyRing { return KeyRing{list: openpgp.EntityList{k.entity}} }

// PublicBinary is the public key as a binary keyring, what apt's signed-by
// reads from a file ending in .gpg.
func (k *Key) PublicBinary() ([]byte, error) {
	var b bytes.Buffer
	if err := k.entity.Serialize(&b); err != nil {
		return nil, fmt.Errorf("writing the public key %s: %w", k.Fingerprint(), err)
	}
	return b.Bytes(), nil
}

// PublicArmored is the public key, ASCII-armored: what apt's signed-by
// reads from a file ending in .asc.
func (k *Key) PublicArmored() ([]byte, error) {
	bin, err := k.PublicBinary()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(bin); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// signTime is when the signatures say they were made: the commit time, so
// that the same commit signs to the same bytes, unless the key is younger
// than the commit; gpgv refuses a signature older than its key, so then the
// key's newest self-signature's time.
func (k *Key) signTime(commit time.Time) time.Time {
	t := commit.UTC().Truncate(time.Second)
	later := func(u time.Time) {
		if u.After(t) {
			t = u.UTC()
		}
	}
	later(k.entity.PrimaryKey.CreationTime)
	for _, id := range k.entity.Identities {
		if id.SelfSignature != nil {
			later(id.SelfSignature.CreationTime)
		}
	}
	if sk, ok := k.entity.SigningKey(time.Now()); ok {
		later(sk.PublicKey.CreationTime)
		if sk.SelfSignature != nil {
			later(sk.SelfSignature.CreationTime)
		}
	}
	return t
}

// config makes signatures at t with SHA-512 and no random salt notation:
// Ed25519 and RSA PKCS#1 v1.5 signatures are then the same bytes for the
// same input, time and key.
func (k *Key) config(t time.Time) *packet.Config {
	deterministic := false
	return &packet.Config{
		DefaultHash:                           crypto.SHA512,
		Time:                                  func() time.Time { return t },
		NonDeterministicSignaturesViaNotation: &deterministic,
	}
}

// sign writes Release.gpg (an armored detached signature) and InRelease
// (Release clearsigned) for release.
func (k *Key) sign(release []byte, t time.Time) (detached, inline []byte, err error) {
	cfg := k.config(t)
	var d bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&d, k.entity, bytes.NewReader(release), cfg); err != nil {
		return nil, nil, fmt.Errorf("signing Release with %s: %w", k.Fingerprint(), err)
	}
	d.WriteByte('\n')
	sk, ok := k.entity.SigningKey(t)
	if !ok {
		return nil, nil, fmt.Errorf("signing InRelease: %s has no signing key valid at %s", k.Fingerprint(), t.Format(time.RFC3339))
	}
	var c bytes.Buffer
	w, err := clearsign.Encode(&c, sk.PrivateKey, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("signing InRelease with %s: %w", k.Fingerprint(), err)
	}
	// The line break before the signature's armor ends the text, as in
	// Debian's InRelease: Release's own last one would sign a blank line.
	if _, err := w.Write(bytes.TrimSuffix(release, []byte("\n"))); err != nil {
		return nil, nil, err
	}
	if err := w.Close(); err != nil {
		return nil, nil, fmt.Errorf("signing InRelease with %s: %w", k.Fingerprint(), err)
	}
	inline, err = withArmorChecksum(c.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("signing InRelease with %s: %w", k.Fingerprint(), err)
	}
	return d.Bytes(), inline, nil
}

// withArmorChecksum re-armors a clearsigned message's signature with the
// CRC-24 line that go-crypto leaves out: gpgv 2.2 (Debian 12's, which apt
// runs) reads on past an armor without it into the END line, and fails
// ("invalid packet") whenever the base64's length leaves it a partial group.
func withArmorChecksum(clearsigned []byte) ([]byte, error) {
	i := bytes.Index(clearsigned, []byte("\n-----BEGIN PGP SIGNATURE-----"))
	if i < 0 {
		return nil, errors.New("the clearsigned text has no signature block")
	}
	block, err := armor.Decode(bytes.NewReader(clearsigned[i+1:]))
	if err != nil {
		return nil, err
	}
	sig, err := io.ReadAll(block.Body)
	if err != nil {
		return nil, err
	}
	out := bytes.NewBuffer(append([]byte(nil), clearsigned[:i+1]...))
	w, err := armor.Encode(out, block.Type, nil)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(sig); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// KeyRing holds the public keys a repository is verified against.
type KeyRing struct{ list openpgp.EntityList }

// ReadKeyRing reads public keys, armored or binary: the keyring a release
// publishes, or a snapshot's snapshot-apt.asc.
func ReadKeyRing(r io.Reader) (KeyRing, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return KeyRing{}, err
	}
	list, err := readKeyRing(b)
	if err != nil {
		return KeyRing{}, err
	}
	return KeyRing{list: list}, nil
}

// ReadKeyRingFile is ReadKeyRing of a file.
func ReadKeyRingFile(path string) (KeyRing, error) {
	f, err := os.Open(path)
	if err != nil {
		return KeyRing{}, err
	}
	defer f.Close()
	kr, err := ReadKeyRing(f)
	if err != nil {
		return KeyRing{}, fmt.Errorf("%s holds no OpenPGP public key: %w", path, err)
	}
	return kr, nil
}

// Fingerprints lists the keyring's primary keys' fingerprints.
func (kr KeyRing) Fingerprints() []string {
	var out []string
	for _, e := range kr.list {
		out = append(out, fmt.Sprintf("%X", e.PrimaryKey.Fingerprint))
	}
	return out
}

func readKeyRing(b []byte) (openpgp.EntityList, error) {
	if i := bytes.Index(b, []byte("-----BEGIN PGP")); i >= 0 {
		return openpgp.ReadArmoredKeyRing(bytes.NewReader(b[i:]))
	}
	return openpgp.ReadKeyRing(bytes.NewReader(b))
}

// Package testpki makes throw-away certificate authorities and code-signing
// identities for tests across the packager: Windows Authenticode, macOS
// codesign and anything else that needs "a certificate a real tool accepts".
//
// Everything is generated in memory by the test that needs it, so no key or
// certificate is ever committed. It must never be imported by non-test code:
// its keys are weak by design (fast to make, never protected) and every
// failure calls t.Fatal.
//
// Typical use:
//
//	ca := testpki.NewCA(t, "tern test root")
//	id := ca.Issue(t, testpki.Leaf{CN: "Developer ID Application: Acme (ABCDE12345)", OU: "ABCDE12345"})
//	p12 := id.P12("secret")           // for osslsigncode -pkcs12, WINDOWS_SIGN_P12
//	files := id.Write(t, t.TempDir(), "secret") // ca.pem, cert.pem, key.pem, identity.p12
//	tsaURL := ca.StartTSA(t)          // an RFC 3161 timestamp authority on 127.0.0.1
package testpki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// keyBits is 2048 rather than larger: the keys live for one test, and
// osslsigncode, OpenSSL 3 and Apple's tools all accept 2048-bit RSA.
const keyBits = 2048

// CA is a certificate authority that exists only for one test.
type CA struct {
	Name string
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
	// PEM is Cert in PEM form: what `osslsigncode verify -CAfile` reads.
	PEM []byte
	// parent is the issuing CA of an intermediate, nil for a root.
	parent *CA
}

// NewCA makes a self-signed root CA named name (its CN and O), valid from
// thirty days ago for ten years: long enough before now that an expired
// leaf (Leaf.Expired) was once valid under it, as a timestamp test needs.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := caTemplate(t, name)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testpki: self-signing root CA %q: %v", name, err)
	}
	return newCA(t, name, der, key, nil)
}

// Intermediate makes a CA named name issued by ca, for chains deeper than
// root → leaf.
func (ca *CA) Intermediate(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	der, err := x509.CreateCertificate(rand.Reader, caTemplate(t, name), ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatalf("testpki: issuing intermediate CA %q from %q: %v", name, ca.Name, err)
	}
	return newCA(t, name, der, key, ca)
}

func caTemplate(t testing.TB, name string) *x509.Certificate {
	now := time.Now()
	return &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name, Organization: []string{name}},
		NotBefore:             now.AddDate(0, 0, -30),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
}

func newCA(t testing.TB, name string, der []byte, key *rsa.PrivateKey, parent *CA) *CA {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testpki: parsing the CA certificate just made for %q: %v", name, err)
	}
	return &CA{Name: name, Cert: cert, Key: key, PEM: certPEM(cert), parent: parent}
}

// Pool is a pool holding only the root of this CA's chain: what a verifier
// is given as its trust anchors.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.root().Cert)
	return pool
}

func (ca *CA) root() *CA {
	for ca.parent != nil {
		ca = ca.parent
	}
	return ca
}

// Leaf describes the end-entity certificate Issue makes. The zero value is a
// valid code-signing certificate named "tern test signer".
type Leaf struct {
	// CN is the subject common name, e.g. "Developer ID Application: Acme (ABCDE12345)".
	CN string
	// OU is the subject organizational unit. Apple reads it as the
	// TeamIdentifier, e.g. "ABCDE12345".
	OU string
	// O is the subject organization.
	O string
	// NotBefore and NotAfter default to an hour ago and a day from now.
	NotBefore, NotAfter time.Time
	// Expired makes the certificate valid from 48 to 24 hours ago,
	// overriding NotBefore and NotAfter.
	Expired bool
	// ExtKeyUsage defaults to code signing. Use
	// x509.ExtKeyUsageTimeStamping for a stand-in timestamp authority.
	ExtKeyUsage []x509.ExtKeyUsage
}

// Identity is a certificate with its private key and the chain above it.
type Identity struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
	// CertPEM and KeyPEM (PKCS#8) are Cert and Key in PEM form.
	CertPEM, KeyPEM []byte
	// Chain is the issuing CAs' certificates, nearest first, root last.
	Chain []*x509.Certificate
	// CA is the authority that issued Cert.
	CA *CA
	t  testing.TB
}

// Issue makes a certificate and key described by l, signed by ca.
func (ca *CA) Issue(t testing.TB, l Leaf) *Identity {
	t.Helper()
	now := time.Now()
	if l.CN == "" {
		l.CN = "tern test signer"
	}
	if l.NotBefore.IsZero() {
		l.NotBefore = now.Add(-time.Hour)
	}
	if l.NotAfter.IsZero() {
		l.NotAfter = now.Add(24 * time.Hour)
	}
	if l.Expired {
		l.NotBefore, l.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	}
	eku := l.ExtKeyUsage
	if len(eku) == 0 {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	}
	subject := pkix.Name{CommonName: l.CN}
	if l.OU != "" {
		subject.OrganizationalUnit = []string{l.OU}
	}
	if l.O != "" {
		subject.Organization = []string{l.O}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               subject,
		NotBefore:             l.NotBefore,
		NotAfter:              l.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
	}
	if len(eku) == 1 && eku[0] == x509.ExtKeyUsageTimeStamping {
		// RFC 3161 §2.3: a TSA's certificate carries only this usage, critical.
		// Go marks it critical by itself only when asked through ExtraExtensions.
		tmpl.ExtKeyUsage = nil
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: timeStampingEKU}}
	}
	key := newKey(t)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatalf("testpki: issuing %q from CA %q: %v", l.CN, ca.Name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testpki: parsing the certificate just issued for %q: %v", l.CN, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testpki: encoding the key of %q: %v", l.CN, err)
	}
	var chain []*x509.Certificate
	for c := ca; c != nil; c = c.parent {
		chain = append(chain, c.Cert)
	}
	return &Identity{
		Cert:    cert,
		Key:     key,
		CertPEM: certPEM(cert),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		Chain:   chain,
		CA:      ca,
		t:       t,
	}
}

var (
	oidExtKeyUsage = []int{2, 5, 29, 37}
	// DER of SEQUENCE { id-kp-timeStamping }.
	timeStampingEKU = []byte{0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08}
)

// P12 is the identity as a PKCS#12 file protected by password, holding the
// key, the certificate and the chain (without the root, as CAs ship them).
// It uses go-pkcs12's Modern encoder (AES-256-CBC, PBKDF2-SHA-256), which
// OpenSSL 3 and so osslsigncode read without the legacy provider.
func (id *Identity) P12(password string) []byte {
	return id.p12(pkcs12.Modern, password)
}

// P12Legacy is P12 with the LegacyDES encoder (3DES, SHA-1 MAC), for tools
// that predate AES in PKCS#12 such as the `security import` of older macOS.
func (id *Identity) P12Legacy(password string) []byte {
	return id.p12(pkcs12.LegacyDES, password)
}

func (id *Identity) p12(enc *pkcs12.Encoder, password string) []byte {
	id.t.Helper()
	var intermediates []*x509.Certificate
	if len(id.Chain) > 1 {
		intermediates = id.Chain[:len(id.Chain)-1]
	}
	data, err := enc.Encode(id.Key, id.Cert, intermediates, password)
	if err != nil {
		id.t.Fatalf("testpki: encoding PKCS#12 for %q: %v", id.Cert.Subject.CommonName, err)
	}
	return data
}

// Fingerprint is the SHA-256 of the certificate's DER, lower-case hex: the
// form a configuration names a required signer by.
func (id *Identity) Fingerprint() string {
	sum := sha256.Sum256(id.Cert.Raw)
	return hex.EncodeToString(sum[:])
}

// ChainPEM is the certificate followed by its issuing CAs, root excluded.
func (id *Identity) ChainPEM() []byte {
	out := append([]byte(nil), id.CertPEM...)
	for _, c := range id.Chain[:len(id.Chain)-1] {
		out = append(out, certPEM(c)...)
	}
	return out
}

// Files are the paths Write made.
type Files struct {
	CA    string // the root CA certificate, PEM
	Cert  string // the leaf certificate followed by any intermediates, PEM
	Key   string // the private key, PKCS#8 PEM, unencrypted
	P12   string // the PKCS#12 made by P12
	Chain string // leaf, intermediates and root, PEM
}

// Write writes the identity into dir as ca.pem, cert.pem, key.pem,
// chain.pem and identity.p12 (protected by password).
func (id *Identity) Write(t testing.TB, dir, password string) Files {
	t.Helper()
	root := id.Chain[len(id.Chain)-1]
	f := Files{
		CA:    filepath.Join(dir, "ca.pem"),
		Cert:  filepath.Join(dir, "cert.pem"),
		Key:   filepath.Join(dir, "key.pem"),
		P12:   filepath.Join(dir, "identity.p12"),
		Chain: filepath.Join(dir, "chain.pem"),
	}
	for path, data := range map[string][]byte{
		f.CA:    certPEM(root),
		f.Cert:  id.ChainPEM(),
		f.Key:   id.KeyPEM,
		f.P12:   id.P12(password),
		f.Chain: append(id.ChainPEM(), certPEM(root)...),
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatalf("testpki: writing %s: %v", path, err)
		}
	}
	return f
}

func newKey(t testing.TB) *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		t.Fatalf("testpki: generating an RSA key: %v", err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("testpki: drawing a serial number: %v", err)
	}
	return n.Add(n, big.NewInt(1)) // never zero: RFC 5280 wants a positive serial
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

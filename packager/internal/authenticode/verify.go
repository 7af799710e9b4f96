package authenticode

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/tern-agent/tern/packager/internal/cms"
)

// VerifyOptions says what a signature must prove.
type VerifyOptions struct {
	// Roots are the trust anchors the signer's chain must end at: the
	// configured root, or a test root. Required: Verify never falls back to
	// the system roots, because a release is signed by one known CA.
	Roots *x509.CertPool
	// TSARoots anchor the timestamp authority's chain; nil means Roots.
	TSARoots *x509.CertPool
	// SignerFingerprint, when set, is the SHA-256 of the signer
	// certificate's DER in hex (colons and case ignored).
	SignerFingerprint string
	// SignerSubject, when set, must equal the signer certificate's subject
	// common name or its whole subject as x509 prints it ("CN=…,O=…").
	SignerSubject string
	// At is when the certificates must be valid when the signature carries
	// no timestamp; zero means now. A valid RFC 3161 timestamp replaces it
	// with the time the authority vouches for.
	At time.Time
}

// Signature is what Verify proved about a signed PE.
type Signature struct {
	// Signer is the certificate whose key signed, Chain the verified chain
	// from it to one of the Roots.
	Signer *x509.Certificate
	Chain  []*x509.Certificate
	// Digest is the Authenticode digest of the file (SHA-256 unless the
	// signature used a larger SHA-2), which the signature vouches for.
	Digest []byte
	Hash   crypto.Hash
	// Timestamped reports an RFC 3161 countersignature; TimestampTime is
	// the time it vouches for and TSA the authority's certificate.
	Timestamped   bool
	TimestampTime time.Time
	TSA           *x509.Certificate
	// SigningTime is the signer's own claim (the signingTime attribute),
	// zero if absent. Nothing checks it: only a timestamp proves a time.
	SigningTime time.Time
}

// Verify checks the Authenticode signature of the PE in data: the digest it
// signs equals the file's, the signer's key signed it, the signer's chain
// ends at o.Roots and allows code signing, the signer is the one o names,
// and the certificates were valid when it signed (a timestamp's time if it
// has one, else o.At). The error wraps one of the Err values below and
// names the check that failed.
func Verify(data []byte, o VerifyOptions) (*Signature, error) {
	if o.Roots == nil {
		return nil, fmt.Errorf("authenticode: no trust roots given: pass the configured root CA")
	}
	f, err := parsePE(data)
	if err != nil {
		return nil, err
	}
	if !f.signed() {
		return nil, fmt.Errorf("%w: the certificate table directory entry is empty", ErrUnsigned)
	}
	der, err := pkcs7FromCertTable(data, f)
	if err != nil {
		return nil, err
	}
	s, err := parseSigned(der, "Authenticode signature")
	if err != nil {
		return nil, err
	}
	if !s.ContentType.Equal(oidSpcIndirectDataContent) {
		return nil, fmt.Errorf("%w: signed content is %v, not SpcIndirectDataContent", ErrMalformed, s.ContentType)
	}
	if s.Content == nil {
		return nil, fmt.Errorf("%w: Authenticode signature is detached: it carries no SpcIndirectDataContent", ErrMalformed)
	}
	var idc spcIndirectDataContent
	if _, err := asn1.Unmarshal(append([]byte{0x30}, asn1Length(s.Content)...), &idc); err != nil {
		return nil, fmt.Errorf("%w: SpcIndirectDataContent: %v", ErrMalformed, err)
	}
	var dataType asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(idc.Data.Bytes, &dataType); err != nil || !dataType.Equal(oidSpcPEImageData) {
		return nil, fmt.Errorf("%w: the signature is for a %v object, not a PE image", ErrMalformed, dataType)
	}
	h, err := cms.HashFor(idc.MessageDigest.Algorithm.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("file digest: %w", fromCMS(err))
	}
	sig := &Signature{Hash: h, Digest: authenticodeDigest(data, f, h)}
	if !bytes.Equal(sig.Digest, idc.MessageDigest.Digest) {
		return nil, fmt.Errorf("%w: the file's %v Authenticode digest is %x, the signature vouches for %x: the file changed after signing",
			ErrDigestMismatch, h, sig.Digest, idc.MessageDigest.Digest)
	}
	if sig.Signer, err = s.VerifySigner("Authenticode signature"); err != nil {
		return nil, fromCMS(err)
	}
	var st time.Time
	if _, err := asn1.Unmarshal(s.Attr(cms.OIDAttrSigningTime), &st); err == nil {
		sig.SigningTime = st
	}

	at := o.At
	if at.IsZero() {
		at = time.Now()
	}
	if err := verifyTimestamp(s, sig, o); err != nil {
		return nil, err
	}
	if sig.Timestamped {
		at = sig.TimestampTime
	}
	chains, err := sig.Signer.Verify(x509.VerifyOptions{
		Roots:         o.Roots,
		Intermediates: pool(s.Certs),
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	if err != nil {
		when := "now"
		if sig.Timestamped {
			when = "at its timestamp " + at.UTC().Format(time.RFC3339)
		} else if !o.At.IsZero() {
			when = "at " + at.UTC().Format(time.RFC3339)
		}
		return nil, fmt.Errorf("%w: signer %q (issued by %q) does not chain to a configured root for code signing %s: %v",
			ErrUntrusted, sig.Signer.Subject.CommonName, sig.Signer.Issuer.CommonName, when, err)
	}
	sig.Chain = chains[0]
	if err := checkSigner(sig.Signer, o); err != nil {
		return nil, err
	}
	return sig, nil
}

// verifyTimestamp checks an RFC 3161 countersignature if there is one: the
// token's own signature, that it stamps this signature's bytes, and the
// authority's chain at the stamped time. An old-style (PKCS#9)
// countersignature is refused rather than ignored, so that a signature
// never passes for lack of the code that would have checked it.
func verifyTimestamp(s *cms.Signed, sig *Signature, o VerifyOptions) error {
	var token []byte
	for _, a := range s.UnsignedAttrs {
		switch {
		case a.Type.Equal(oidAttrRFC3161Timestamp):
			token = a.Values.Bytes
		case a.Type.Equal(oidAttrCounterSignature):
			return fmt.Errorf("%w: the timestamp is an old Authenticode (PKCS#9) countersignature; sign with an RFC 3161 TSA (osslsigncode -ts)", ErrBadTimestamp)
		}
	}
	if token == nil {
		return nil
	}
	ts, err := parseSigned(token, "RFC 3161 timestamp")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadTimestamp, err)
	}
	if !ts.ContentType.Equal(oidTSTInfo) {
		return fmt.Errorf("%w: token content is %v, not TSTInfo", ErrBadTimestamp, ts.ContentType)
	}
	tsa, err := ts.VerifySigner("RFC 3161 timestamp")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadTimestamp, fromCMS(err))
	}
	var info tstInfo
	if _, err := asn1.Unmarshal(ts.Content, &info); err != nil {
		return fmt.Errorf("%w: TSTInfo: %v", ErrBadTimestamp, err)
	}
	h, err := cms.HashFor(info.MessageImprint.Algorithm.Algorithm)
	if err != nil {
		return fmt.Errorf("%w: message imprint: %w", ErrBadTimestamp, fromCMS(err))
	}
	d := h.New()
	d.Write(s.Signer.Signature)
	if !bytes.Equal(d.Sum(nil), info.MessageImprint.HashedMessage) {
		return fmt.Errorf("%w: the token stamps another signature (message imprint differs)", ErrBadTimestamp)
	}
	roots := o.TSARoots
	if roots == nil {
		roots = o.Roots
	}
	if _, err := tsa.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: pool(ts.Certs),
		CurrentTime:   info.GenTime,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	}); err != nil {
		return fmt.Errorf("%w: authority %q is not trusted for timestamping at %s: %v", ErrBadTimestamp, tsa.Subject.CommonName, info.GenTime.UTC().Format(time.RFC3339), err)
	}
	sig.Timestamped, sig.TimestampTime, sig.TSA = true, info.GenTime, tsa
	return nil
}

func checkSigner(c *x509.Certificate, o VerifyOptions) error {
	if want := normalizeFingerprint(o.SignerFingerprint); want != "" {
		sum := sha256.Sum256(c.Raw)
		if got := hex.EncodeToString(sum[:]); got != want {
			return fmt.Errorf("%w: signer %q has SHA-256 fingerprint %s, the configured signer is %s", ErrWrongSigner, c.Subject.CommonName, got, want)
		}
	}
	if want := o.SignerSubject; want != "" && want != c.Subject.CommonName && want != c.Subject.String() {
		return fmt.Errorf("%w: signer is %q, the configured signer is %q", ErrWrongSigner, c.Subject.String(), want)
	}
	return nil
}

func normalizeFingerprint(s string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(s))
}

func pool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// asn1Length re-wraps content (a SEQUENCE's value) with its DER length, so
// that it can be unmarshalled again: cms.Parse keeps only the value
// because that is what the messageDigest covers.
func asn1Length(content []byte) []byte {
	n := len(content)
	var l []byte
	switch {
	case n < 0x80:
		l = []byte{byte(n)}
	default:
		var b []byte
		for x := n; x > 0; x >>= 8 {
			b = append([]byte{byte(x)}, b...)
		}
		l = append([]byte{0x80 | byte(len(b))}, b...)
	}
	return append(l, content...)
}

package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
)

// VerifySigner checks what the signer signed: the contentType attribute
// names the encapsulated content's type, the messageDigest attribute is the
// content's digest, and the signer certificate's key signed the signed
// attributes. It returns the signer's certificate; whether to trust it is
// the caller's question. A detached signature has no content to check
// here: its format's package checks the messageDigest against what it
// signs, then calls CheckSignature.
func (s *Signed) VerifySigner(what string) (*x509.Certificate, error) {
	cert, err := s.SignerCert(what)
	if err != nil {
		return nil, err
	}
	h, err := HashFor(s.Signer.DigestAlgorithm.Algorithm)
	if err != nil {
		return nil, signerErr(what, err)
	}
	if len(s.Signer.SignedAttrs.FullBytes) == 0 {
		return nil, fail(ErrMalformed, "%s signer has no signed attributes", what)
	}
	if s.Content == nil {
		return nil, fail(ErrMalformed, "%s is detached: it has no content to check the messageDigest against", what)
	}
	var ct asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(s.Attr(OIDAttrContentType), &ct); err != nil || !ct.Equal(s.ContentType) {
		return nil, fail(ErrBadSignature, "%s contentType attribute is %v, the content is %v", what, ct, s.ContentType)
	}
	var md []byte
	if _, err := asn1.Unmarshal(s.Attr(OIDAttrMessageDigest), &md); err != nil {
		return nil, fail(ErrMalformed, "%s has no messageDigest attribute", what)
	}
	d := h.New()
	d.Write(s.Content)
	if !bytes.Equal(d.Sum(nil), md) {
		return nil, fail(ErrBadSignature, "%s messageDigest attribute does not match its signed content", what)
	}
	if err := s.CheckSignature(cert, h); err != nil {
		if _, ok := err.(*Error); ok {
			return nil, signerErr(what, err)
		}
		return nil, fail(ErrBadSignature, "%s signature by %q over its signed attributes: %v", what, cert.Subject.CommonName, err)
	}
	return cert, nil
}

// signerErr says which signer an *Error from this package is about.
func signerErr(what string, err error) error {
	e := err.(*Error)
	return fail(e.Kind, "%s signer: %s", what, e.Detail)
}

// CheckSignature checks that cert's key made the signer's signature over
// the signed attributes, with digest h. A signature that does not verify is
// the error x509 gives, unwrapped, for the caller to name the signer in;
// an algorithm that is not RSA or ECDSA with h is an *Error.
func (s *Signed) CheckSignature(cert *x509.Certificate, h crypto.Hash) error {
	if len(s.Signer.SignedAttrs.FullBytes) == 0 {
		return fail(ErrMalformed, "the signer has no signed attributes")
	}
	// The signature covers the attributes DER-encoded as a SET, not with the
	// [0] IMPLICIT tag they carry inside SignerInfo (RFC 5652 §5.4).
	attrs := bytes.Clone(s.Signer.SignedAttrs.FullBytes)
	attrs[0] = 0x31
	return CheckSignature(cert, h, s.Signer.SignatureAlgorithm.Algorithm, attrs, s.Signer.Signature)
}

// CheckSignature checks that cert's key made sig over signed with digest h
// and the CMS signature algorithm alg. The signer also calls it, to refuse
// a key that does not belong to its certificate before shipping the
// signature.
func CheckSignature(cert *x509.Certificate, h crypto.Hash, alg asn1.ObjectIdentifier, signed, sig []byte) error {
	a, err := SignatureAlgorithm(h, alg)
	if err != nil {
		return err
	}
	return cert.CheckSignature(a, signed, sig)
}

// HashFor is the digest a CMS digest algorithm names, refusing SHA-1 and
// anything unknown.
func HashFor(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch {
	case oid.Equal(OIDSHA256):
		return crypto.SHA256, nil
	case oid.Equal(OIDSHA384):
		return crypto.SHA384, nil
	case oid.Equal(OIDSHA512):
		return crypto.SHA512, nil
	case oid.Equal(OIDSHA1):
		return 0, fail(ErrWeakDigest, "SHA-1; sign again with SHA-256")
	}
	return 0, fail(ErrWeakDigest, "digest algorithm %v", oid)
}

// SignatureAlgorithm is the x509 algorithm for a signer's signature
// algorithm with digest h. CMS allows the bare key algorithm
// (rsaEncryption, id-ecPublicKey) or one that names the digest too; a
// named digest that is not h is refused rather than ignored.
func SignatureAlgorithm(h crypto.Hash, oid asn1.ObjectIdentifier) (x509.SignatureAlgorithm, error) {
	type pair struct {
		rsa, ecdsa              x509.SignatureAlgorithm
		rsaWithHash, ecWithHash asn1.ObjectIdentifier
	}
	byHash := map[crypto.Hash]pair{
		crypto.SHA256: {x509.SHA256WithRSA, x509.ECDSAWithSHA256, OIDSHA256WithRSA, OIDECDSAWithSHA256},
		crypto.SHA384: {x509.SHA384WithRSA, x509.ECDSAWithSHA384, OIDSHA384WithRSA, OIDECDSAWithSHA384},
		crypto.SHA512: {x509.SHA512WithRSA, x509.ECDSAWithSHA512, OIDSHA512WithRSA, OIDECDSAWithSHA512},
	}
	p, ok := byHash[h]
	switch {
	case !ok:
		return 0, fail(ErrWeakDigest, "digest %v", h)
	case oid.Equal(OIDRSAEncryption), oid.Equal(p.rsaWithHash):
		return p.rsa, nil
	case oid.Equal(OIDECPublicKey), oid.Equal(p.ecWithHash):
		return p.ecdsa, nil
	}
	return 0, fail(ErrBadSignature, "signature algorithm %v is not RSA or ECDSA with %v", oid, h)
}

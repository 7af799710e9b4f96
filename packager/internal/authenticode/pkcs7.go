package authenticode

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

// The small part of CMS (RFC 5652) that Authenticode and RFC 3161 tokens
// use, parsed with encoding/asn1 so that verifying needs no tool and no
// dependency beyond the standard library.

var (
	oidSignedData             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidSpcIndirectDataContent = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}
	oidSpcPEImageData         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 15}
	oidTSTInfo                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidAttrContentType        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidAttrCounterSignature   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}
	oidAttrRFC3161Timestamp   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 3, 3, 1}

	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA2 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3} // .2 .3 .4: SHA-256, -384, -512
)

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContent     contentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue // IssuerAndSerialNumber, or [0] SubjectKeyIdentifier
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

// spcIndirectDataContent is what an Authenticode signature signs: a claim
// about the file's digest.
type spcIndirectDataContent struct {
	Data          asn1.RawValue // SpcAttributeTypeAndOptionalValue: the PE image data, unchecked
	MessageDigest struct {
		Algorithm pkix.AlgorithmIdentifier
		Digest    []byte
	}
}

type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		Algorithm     pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	Serial  *big.Int
	GenTime time.Time `asn1:"generalized"`
}

// signed is a parsed SignedData with exactly one signer, as Authenticode
// signatures and RFC 3161 tokens have.
type signed struct {
	contentType asn1.ObjectIdentifier
	content     []byte // the encapsulated content's value, without its tag and length
	certs       []*x509.Certificate
	signer      signerInfo
	attrs       []attribute
}

func parseSigned(der []byte, what string) (*signed, error) {
	var ci contentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil {
		return nil, fmt.Errorf("%w: %s is not a PKCS#7 ContentInfo: %v", ErrMalformed, what, err)
	} else if len(bytes.TrimRight(rest, "\x00")) != 0 {
		return nil, fmt.Errorf("%w: %d bytes follow the %s", ErrMalformed, len(rest), what)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: %s has content type %v, want SignedData", ErrMalformed, what, ci.ContentType)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("%w: %s SignedData: %v", ErrMalformed, what, err)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("%w: %s has %d signers, want 1", ErrMalformed, what, len(sd.SignerInfos))
	}
	var inner asn1.RawValue
	if _, err := asn1.Unmarshal(sd.EncapContent.Content.Bytes, &inner); err != nil {
		return nil, fmt.Errorf("%w: %s encapsulated content: %v", ErrMalformed, what, err)
	}
	certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s certificates: %v", ErrMalformed, what, err)
	}
	s := &signed{contentType: sd.EncapContent.ContentType, content: inner.Bytes, certs: certs, signer: sd.SignerInfos[0]}
	for rest := s.signer.SignedAttrs.Bytes; len(rest) > 0; {
		var a attribute
		if rest, err = asn1.Unmarshal(rest, &a); err != nil {
			return nil, fmt.Errorf("%w: %s signed attributes: %v", ErrMalformed, what, err)
		}
		s.attrs = append(s.attrs, a)
	}
	return s, nil
}

// attr returns the single value of the signed attribute typ, nil if absent.
func (s *signed) attr(typ asn1.ObjectIdentifier) []byte {
	for _, a := range s.attrs {
		if a.Type.Equal(typ) {
			return a.Values.Bytes
		}
	}
	return nil
}

// signerCert finds the signer's certificate among those the SignedData
// carries.
func (s *signed) signerCert(what string) (*x509.Certificate, error) {
	sid := s.signer.SID
	for _, c := range s.certs {
		switch {
		case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
			var ias issuerAndSerial
			if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil {
				return nil, fmt.Errorf("%w: %s signer identifier: %v", ErrMalformed, what, err)
			}
			if bytes.Equal(ias.Issuer.FullBytes, c.RawIssuer) && ias.Serial.Cmp(c.SerialNumber) == 0 {
				return c, nil
			}
		case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0:
			if bytes.Equal(sid.Bytes, c.SubjectKeyId) {
				return c, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s: the signer's certificate is not among the %d it carries", ErrMalformed, what, len(s.certs))
}

// verifySigner checks what a CMS signer signed: the content's digest in
// the messageDigest attribute, the contentType attribute, and the signature
// over the signed attributes by the signer certificate's key. It returns
// the signer's certificate; whether to trust it is the caller's question.
func (s *signed) verifySigner(what string) (*x509.Certificate, error) {
	cert, err := s.signerCert(what)
	if err != nil {
		return nil, err
	}
	h, err := hashFor(s.signer.DigestAlgorithm.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("%s signer: %w", what, err)
	}
	if len(s.signer.SignedAttrs.FullBytes) == 0 {
		return nil, fmt.Errorf("%w: %s signer has no signed attributes", ErrMalformed, what)
	}
	var ct asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(s.attr(oidAttrContentType), &ct); err != nil || !ct.Equal(s.contentType) {
		return nil, fmt.Errorf("%w: %s contentType attribute is %v, the content is %v", ErrBadSignature, what, ct, s.contentType)
	}
	var md []byte
	if _, err := asn1.Unmarshal(s.attr(oidAttrMessageDigest), &md); err != nil {
		return nil, fmt.Errorf("%w: %s has no messageDigest attribute", ErrMalformed, what)
	}
	d := h.New()
	d.Write(s.content)
	if !bytes.Equal(d.Sum(nil), md) {
		return nil, fmt.Errorf("%w: %s messageDigest attribute does not match its signed content", ErrBadSignature, what)
	}
	alg, err := signatureAlgorithm(h, s.signer.SignatureAlgorithm.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("%s signer: %w", what, err)
	}
	// The signature covers the attributes DER-encoded as a SET, not with the
	// [0] IMPLICIT tag they carry inside SignerInfo (RFC 5652 §5.4).
	attrs := bytes.Clone(s.signer.SignedAttrs.FullBytes)
	attrs[0] = 0x31
	if err := cert.CheckSignature(alg, attrs, s.signer.Signature); err != nil {
		return nil, fmt.Errorf("%w: %s signature by %q over its signed attributes: %v", ErrBadSignature, what, cert.Subject.CommonName, err)
	}
	return cert, nil
}

func hashFor(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch {
	case oid.Equal(oidSHA256):
		return crypto.SHA256, nil
	case oid.Equal(oidSHA384):
		return crypto.SHA384, nil
	case oid.Equal(oidSHA512):
		return crypto.SHA512, nil
	case oid.Equal(oidSHA1):
		return 0, fmt.Errorf("%w: SHA-1; sign again with SHA-256", ErrWeakDigest)
	}
	return 0, fmt.Errorf("%w: digest algorithm %v", ErrWeakDigest, oid)
}

func signatureAlgorithm(h crypto.Hash, oid asn1.ObjectIdentifier) (x509.SignatureAlgorithm, error) {
	rsa := map[crypto.Hash]x509.SignatureAlgorithm{crypto.SHA256: x509.SHA256WithRSA, crypto.SHA384: x509.SHA384WithRSA, crypto.SHA512: x509.SHA512WithRSA}
	ec := map[crypto.Hash]x509.SignatureAlgorithm{crypto.SHA256: x509.ECDSAWithSHA256, crypto.SHA384: x509.ECDSAWithSHA384, crypto.SHA512: x509.ECDSAWithSHA512}
	switch {
	case oid.Equal(oidRSA), oid.Equal(oidSHA256WithRSA), oid.Equal(oidSHA384WithRSA), oid.Equal(oidSHA512WithRSA):
		return rsa[h], nil
	case oid.Equal(oidECPublicKey), len(oid) == 7 && oid[:6].Equal(oidECDSAWithSHA2):
		return ec[h], nil
	}
	return 0, fmt.Errorf("%w: signature algorithm %v is not RSA or ECDSA", ErrBadSignature, oid)
}

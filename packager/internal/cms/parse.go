package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
)

// Signed is a parsed SignedData with exactly one signer, as Authenticode
// signatures, Apple code signatures and RFC 3161 tokens have.
type Signed struct {
	ContentType asn1.ObjectIdentifier // of the encapsulated content
	// Content is the encapsulated content's value, without its tag and
	// length, because that is what the messageDigest attribute covers. It
	// is nil when the signature is detached.
	Content       []byte
	Certs         []*x509.Certificate
	Signer        SignerInfo
	SignedAttrs   []Attribute
	UnsignedAttrs []Attribute
}

// Parse reads der, which must be exactly one DER ContentInfo holding
// SignedData: padding after it is the container's business, so the caller
// cuts it first. what names the signature in errors ("Authenticode
// signature").
func Parse(der []byte, what string) (*Signed, error) {
	var ci ContentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil {
		return nil, fail(ErrMalformed, "%s is not a PKCS#7 ContentInfo: %v", what, err)
	} else if len(rest) != 0 {
		return nil, fail(ErrMalformed, "%d bytes follow the %s", len(rest), what)
	}
	if !ci.ContentType.Equal(OIDSignedData) {
		return nil, fail(ErrMalformed, "%s has content type %v, want SignedData", what, ci.ContentType)
	}
	var sd SignedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fail(ErrMalformed, "%s SignedData: %v", what, err)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fail(ErrMalformed, "%s has %d signers, want 1", what, len(sd.SignerInfos))
	}
	s := &Signed{ContentType: sd.EncapContent.ContentType, Signer: sd.SignerInfos[0]}
	if len(sd.EncapContent.Content.FullBytes) != 0 {
		var inner asn1.RawValue
		if _, err := asn1.Unmarshal(sd.EncapContent.Content.Bytes, &inner); err != nil {
			return nil, fail(ErrMalformed, "%s encapsulated content: %v", what, err)
		}
		s.Content = inner.Bytes
		if s.Content == nil {
			s.Content = []byte{} // present but empty is not detached
		}
	}
	var err error
	if s.Certs, err = x509.ParseCertificates(sd.Certificates.Bytes); err != nil {
		return nil, fail(ErrMalformed, "%s certificates: %v", what, err)
	}
	if s.SignedAttrs, err = parseAttributes(s.Signer.SignedAttrs.Bytes); err != nil {
		return nil, fail(ErrMalformed, "%s signed attributes: %v", what, err)
	}
	if s.UnsignedAttrs, err = parseAttributes(s.Signer.UnsignedAttrs.Bytes); err != nil {
		return nil, fail(ErrMalformed, "%s unsigned attributes: %v", what, err)
	}
	return s, nil
}

func parseAttributes(b []byte) ([]Attribute, error) {
	var out []Attribute
	for len(b) > 0 {
		var a Attribute
		var err error
		if b, err = asn1.Unmarshal(b, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Attr returns the values (the SET's contents) of the first signed
// attribute of type typ, nil if there is none.
func (s *Signed) Attr(typ asn1.ObjectIdentifier) []byte {
	for _, a := range s.SignedAttrs {
		if a.Type.Equal(typ) {
			return a.Values.Bytes
		}
	}
	return nil
}

// SignerCert finds the signer's certificate among those the SignedData
// carries, by issuer and serial or by subject key identifier.
func (s *Signed) SignerCert(what string) (*x509.Certificate, error) {
	sid := s.Signer.SID
	for _, c := range s.Certs {
		switch {
		case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
			var ias IssuerAndSerial
			if _, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil {
				return nil, fail(ErrMalformed, "%s signer identifier: %v", what, err)
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
	return nil, fail(ErrMalformed, "%s: the signer's certificate is not among the %d it carries", what, len(s.Certs))
}

package codesign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tern-agent/tern/packager/internal/cms"
)

// What Apple adds to the CMS (RFC 5652) of a code signature, which package
// cms parses: SignedData with no content (detached: the content is the
// CodeDirectory blob), one signer named by issuer and serial, the
// certificate chain, the CodeDirectory hashes as signed attributes, and an
// RFC 3161 token as an unsigned attribute.
var (
	oidTimeStamp = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	// oidCDHashes carries a plist of the (20-byte truncated) CodeDirectory
	// hashes; oidCDHashes2 the full hashes with their algorithms.
	oidCDHashes  = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 1}
	oidCDHashes2 = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 2}
)

// hashAgility is one value of the CDHashes2 attribute.
type hashAgility struct {
	Algorithm asn1.ObjectIdentifier
	Digest    []byte
}

var sha256Alg = pkix.AlgorithmIdentifier{Algorithm: cms.OIDSHA256, Parameters: asn1.NullRawValue}

// tlv encodes one DER element with a one-byte tag.
func tlv(tag byte, content []byte) []byte {
	rv, _ := asn1.Marshal(asn1.RawValue{Class: int(tag >> 6), Tag: int(tag & 0x1f), IsCompound: tag&0x20 != 0, Bytes: content})
	return rv
}

func marshalAttr(oid asn1.ObjectIdentifier, values ...[]byte) ([]byte, error) {
	return asn1.Marshal(cms.Attribute{Type: oid, Values: asn1.RawValue{FullBytes: tlv(0x31, bytes.Join(values, nil))}})
}

// derSet joins encoded elements as a DER SET OF, which must be sorted.
func derSet(tag byte, elems [][]byte) []byte {
	elems = slices.Clone(elems)
	slices.SortFunc(elems, bytes.Compare)
	return tlv(tag, bytes.Join(elems, nil))
}

// cdHashesPlist is the property list Apple puts in the CDHashes attribute.
func cdHashesPlist(cdhash []byte) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>cdhashes</key>
	<array>
		<data>
		` + base64.StdEncoding.EncodeToString(cdhash) + `
		</data>
	</array>
</dict>
</plist>
`)
}

// signCMS makes the detached CMS signature over a CodeDirectory blob.
// timestamp, when not nil, is asked for an RFC 3161 token over the
// signature value, which goes into the unsigned attributes.
func signCMS(cd []byte, o *Options, now time.Time, timestamp func(sig []byte) ([]byte, error)) ([]byte, error) {
	digest := sha256.Sum256(cd)
	var attrs [][]byte
	add := func(oid asn1.ObjectIdentifier, v any) error {
		der, err := asn1.Marshal(v)
		if err != nil {
			return err
		}
		a, err := marshalAttr(oid, der)
		attrs = append(attrs, a)
		return err
	}
	for _, err := range []error{
		add(cms.OIDAttrContentType, cms.OIDData),
		add(cms.OIDAttrSigningTime, now.UTC()),
		add(cms.OIDAttrMessageDigest, digest[:]),
		add(oidCDHashes, cdHashesPlist(digest[:20])),
		add(oidCDHashes2, hashAgility{cms.OIDSHA256, digest[:]}),
	} {
		if err != nil {
			return nil, fmt.Errorf("encoding CMS signed attributes: %w", err)
		}
	}
	signedAttrs := derSet(0x31, attrs)

	var sigAlg pkix.AlgorithmIdentifier
	switch o.Key.Public().(type) {
	case *rsa.PublicKey:
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: cms.OIDRSAEncryption, Parameters: asn1.NullRawValue}
	case *ecdsa.PublicKey:
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: cms.OIDECDSAWithSHA256}
	default:
		return nil, fmt.Errorf("signing key is a %T: Apple code signatures need an RSA or ECDSA key", o.Key.Public())
	}
	h := sha256.Sum256(signedAttrs)
	sig, err := o.Key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing the CodeDirectory with the key for %s: %w", o.Cert.Subject, err)
	}
	// A key that does not belong to the certificate signs happily; catch it
	// here rather than ship a signature macOS rejects.
	if err := cms.CheckSignature(o.Cert, crypto.SHA256, sigAlg.Algorithm, signedAttrs, sig); err != nil {
		return nil, fmt.Errorf("the signing key does not match the certificate %s (%v): export the certificate and its own private key together in the PKCS#12", o.Cert.Subject, err)
	}

	sid, err := asn1.Marshal(cms.IssuerAndSerial{Issuer: asn1.RawValue{FullBytes: o.Cert.RawIssuer}, Serial: o.Cert.SerialNumber})
	if err != nil {
		return nil, fmt.Errorf("encoding the CMS signer identifier: %w", err)
	}
	si := cms.SignerInfo{
		Version:            1,
		SID:                asn1.RawValue{FullBytes: sid},
		DigestAlgorithm:    sha256Alg,
		SignedAttrs:        asn1.RawValue{FullBytes: append([]byte{0xa0}, signedAttrs[1:]...)},
		SignatureAlgorithm: sigAlg,
		Signature:          sig,
	}
	if timestamp != nil {
		token, err := timestamp(sig)
		if err != nil {
			return nil, err
		}
		a, err := marshalAttr(oidTimeStamp, token)
		if err != nil {
			return nil, fmt.Errorf("encoding the timestamp attribute: %w", err)
		}
		si.UnsignedAttrs = asn1.RawValue{FullBytes: tlv(0xa1, a)}
	}
	var certs []byte
	for _, c := range append([]*x509.Certificate{o.Cert}, o.Chain...) {
		certs = append(certs, c.Raw...)
	}
	sd := cms.SignedData{
		Version:          1,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{sha256Alg},
		EncapContent:     cms.ContentInfo{ContentType: cms.OIDData},
		Certificates:     asn1.RawValue{FullBytes: tlv(0xa0, certs)},
		SignerInfos:      []cms.SignerInfo{si},
	}
	sdDER, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("encoding CMS SignedData: %w", err)
	}
	return asn1.Marshal(cms.ContentInfo{ContentType: cms.OIDSignedData, Content: asn1.RawValue{FullBytes: tlv(0xa0, sdDER)}})
}

// cmsResult is what a verified CMS signature says.
type cmsResult struct {
	signer    *x509.Certificate
	chain     []*x509.Certificate
	signature []byte
	timestamp []byte // RFC 3161 token, nil when absent
}

// verifyCMS checks a detached CMS signature over the CodeDirectory blob cd:
// the signature by the signer certificate over the signed attributes, the
// messageDigest, and the CDHashes attributes. It does not decide whether the
// signer is trusted: that is the caller's policy.
func verifyCMS(der, cd []byte) (*cmsResult, error) {
	s, err := cms.Parse(der, "CMS signature")
	if err != nil {
		return nil, err
	}
	if sid := s.Signer.SID; sid.Class != asn1.ClassUniversal || sid.Tag != asn1.TagSequence {
		return nil, fmt.Errorf("CMS signer is not named by issuer and serial number, as Apple's signatures name it")
	}
	signer, err := s.SignerCert("CMS signature")
	if err != nil {
		return nil, err
	}
	res := &cmsResult{signer: signer, signature: s.Signer.Signature}
	for _, c := range s.Certs {
		if c != signer {
			res.chain = append(res.chain, c)
		}
	}
	if !s.Signer.DigestAlgorithm.Algorithm.Equal(cms.OIDSHA256) {
		return nil, fmt.Errorf("CMS digest algorithm %v is not SHA-256", s.Signer.DigestAlgorithm.Algorithm)
	}
	if len(s.Signer.SignedAttrs.FullBytes) == 0 {
		return nil, fmt.Errorf("CMS signature has no signed attributes, so it does not bind the CodeDirectory")
	}
	if err := s.CheckSignature(signer, crypto.SHA256); err != nil {
		return nil, fmt.Errorf("CMS signature does not verify with the signer certificate %s: %w", signer.Subject, err)
	}

	digest := sha256.Sum256(cd)
	var sawDigest, sawCDHashes bool
	for _, a := range s.SignedAttrs {
		v := a.Values.Bytes
		switch {
		case a.Type.Equal(cms.OIDAttrMessageDigest):
			var md []byte
			if _, err := asn1.Unmarshal(v, &md); err != nil || !bytes.Equal(md, digest[:]) {
				return nil, fmt.Errorf("CMS messageDigest %x is not the SHA-256 of the CodeDirectory (%x): the signature is for other code", md, digest)
			}
			sawDigest = true
		case a.Type.Equal(oidCDHashes):
			var plist []byte
			if _, err := asn1.Unmarshal(v, &plist); err != nil {
				return nil, fmt.Errorf("CMS CDHashes attribute is not an OCTET STRING: %w", err)
			}
			hashes, err := parseCDHashesPlist(plist)
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(hashes, func(h []byte) bool { return bytes.Equal(h, digest[:20]) }) {
				return nil, fmt.Errorf("CMS CDHashes attribute lists %x, not the CodeDirectory's cdhash %x", hashes, digest[:20])
			}
			sawCDHashes = true
		case a.Type.Equal(oidCDHashes2):
			for rest := v; len(rest) > 0; {
				var h hashAgility
				var err error
				if rest, err = asn1.Unmarshal(rest, &h); err != nil {
					return nil, fmt.Errorf("CMS CDHashes2 attribute does not parse: %w", err)
				}
				if h.Algorithm.Equal(cms.OIDSHA256) && !bytes.Equal(h.Digest, digest[:]) {
					return nil, fmt.Errorf("CMS CDHashes2 attribute has SHA-256 %x, not the CodeDirectory's %x", h.Digest, digest)
				}
			}
		}
	}
	if !sawDigest {
		return nil, fmt.Errorf("CMS signature has no messageDigest attribute")
	}
	if !sawCDHashes {
		return nil, fmt.Errorf("CMS signature has no CDHashes attribute (1.2.840.113635.100.9.1), which macOS requires")
	}

	for _, a := range s.UnsignedAttrs {
		if a.Type.Equal(oidTimeStamp) {
			var tok asn1.RawValue
			if _, err := asn1.Unmarshal(a.Values.Bytes, &tok); err != nil {
				return nil, fmt.Errorf("CMS timestamp attribute does not parse: %w", err)
			}
			res.timestamp = tok.FullBytes
		}
	}
	return res, nil
}

func parseCDHashesPlist(b []byte) ([][]byte, error) {
	var doc struct {
		Dict struct {
			Keys  []string `xml:"key"`
			Array []struct {
				Data []string `xml:"data"`
			} `xml:"array"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("CMS CDHashes attribute is not a property list: %w", err)
	}
	if len(doc.Dict.Keys) != 1 || doc.Dict.Keys[0] != "cdhashes" || len(doc.Dict.Array) != 1 {
		return nil, fmt.Errorf("CMS CDHashes property list is not a dict with one cdhashes array")
	}
	var out [][]byte
	for _, d := range doc.Dict.Array[0].Data {
		h, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(d), ""))
		if err != nil {
			return nil, fmt.Errorf("CMS CDHashes entry is not base64: %w", err)
		}
		out = append(out, h)
	}
	return out, nil
}

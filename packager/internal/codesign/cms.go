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
	"math/big"
	"slices"
	"strings"
	"time"
)

// The CMS (RFC 5652) Apple's code signatures use: SignedData with no
// content (detached: the content is the CodeDirectory blob), one signer,
// the certificate chain, and these attributes.
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidTimeStamp     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	// oidCDHashes carries a plist of the (20-byte truncated) CodeDirectory
	// hashes; oidCDHashes2 the full hashes with their algorithms.
	oidCDHashes  = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 1}
	oidCDHashes2 = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 2}

	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
)

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type signerInfo struct {
	Version            int
	SID                issuerAndSerial
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

// hashAgility is one value of the CDHashes2 attribute.
type hashAgility struct {
	Algorithm asn1.ObjectIdentifier
	Digest    []byte
}

var sha256Alg = pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}

// tlv encodes one DER element with a one-byte tag.
func tlv(tag byte, content []byte) []byte {
	rv, _ := asn1.Marshal(asn1.RawValue{Class: int(tag >> 6), Tag: int(tag & 0x1f), IsCompound: tag&0x20 != 0, Bytes: content})
	return rv
}

func marshalAttr(oid asn1.ObjectIdentifier, values ...[]byte) ([]byte, error) {
	return asn1.Marshal(attribute{Type: oid, Values: asn1.RawValue{FullBytes: tlv(0x31, bytes.Join(values, nil))}})
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
		add(oidContentType, oidData),
		add(oidSigningTime, now.UTC()),
		add(oidMessageDigest, digest[:]),
		add(oidCDHashes, cdHashesPlist(digest[:20])),
		add(oidCDHashes2, hashAgility{oidSHA256, digest[:]}),
	} {
		if err != nil {
			return nil, fmt.Errorf("encoding CMS signed attributes: %w", err)
		}
	}
	signedAttrs := derSet(0x31, attrs)

	var sigAlg pkix.AlgorithmIdentifier
	switch o.Key.Public().(type) {
	case *rsa.PublicKey:
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue}
	case *ecdsa.PublicKey:
		sigAlg = pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}
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
	if err := checkSignature(o.Cert, sigAlg.Algorithm, signedAttrs, sig); err != nil {
		return nil, fmt.Errorf("the signing key does not match the certificate %s (%v): export the certificate and its own private key together in the PKCS#12", o.Cert.Subject, err)
	}

	si := signerInfo{
		Version:            1,
		SID:                issuerAndSerial{Issuer: asn1.RawValue{FullBytes: o.Cert.RawIssuer}, Serial: o.Cert.SerialNumber},
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
	sd := signedData{
		Version:          1,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{sha256Alg},
		EncapContentInfo: encapContentInfo{EContentType: oidData},
		Certificates:     asn1.RawValue{FullBytes: tlv(0xa0, certs)},
		SignerInfos:      []signerInfo{si},
	}
	sdDER, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("encoding CMS SignedData: %w", err)
	}
	return asn1.Marshal(contentInfo{ContentType: oidSignedData, Content: asn1.RawValue{FullBytes: tlv(0xa0, sdDER)}})
}

func checkSignature(c *x509.Certificate, alg asn1.ObjectIdentifier, signed, sig []byte) error {
	switch {
	case alg.Equal(oidRSAEncryption), alg.Equal(oidSHA256WithRSA):
		return c.CheckSignature(x509.SHA256WithRSA, signed, sig)
	case alg.Equal(oidECDSAWithSHA256), alg.Equal(oidECPublicKey):
		return c.CheckSignature(x509.ECDSAWithSHA256, signed, sig)
	}
	return fmt.Errorf("unsupported CMS signature algorithm %v", alg)
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
	var ci contentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 || !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("CMS signature is not a DER ContentInfo holding SignedData (%v)", err)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("CMS SignedData does not parse: %w", err)
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("CMS signature has %d signers, want 1", len(sd.SignerInfos))
	}
	certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CMS certificates do not parse: %w", err)
	}
	si := sd.SignerInfos[0]
	res := &cmsResult{signature: si.Signature}
	for _, c := range certs {
		if res.signer == nil && bytes.Equal(c.RawIssuer, si.SID.Issuer.FullBytes) && c.SerialNumber.Cmp(si.SID.Serial) == 0 {
			res.signer = c
		} else {
			res.chain = append(res.chain, c)
		}
	}
	if res.signer == nil {
		return nil, fmt.Errorf("CMS signature names signer serial %s but carries no such certificate", si.SID.Serial)
	}
	if !si.DigestAlgorithm.Algorithm.Equal(oidSHA256) {
		return nil, fmt.Errorf("CMS digest algorithm %v is not SHA-256", si.DigestAlgorithm.Algorithm)
	}
	if len(si.SignedAttrs.FullBytes) == 0 {
		return nil, fmt.Errorf("CMS signature has no signed attributes, so it does not bind the CodeDirectory")
	}
	signed := append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	if err := checkSignature(res.signer, si.SignatureAlgorithm.Algorithm, signed, si.Signature); err != nil {
		return nil, fmt.Errorf("CMS signature does not verify with the signer certificate %s: %w", res.signer.Subject, err)
	}

	var attrs []attribute
	if _, err := asn1.UnmarshalWithParams(signed, &attrs, "set"); err != nil {
		return nil, fmt.Errorf("CMS signed attributes do not parse: %w", err)
	}
	digest := sha256.Sum256(cd)
	var sawDigest, sawCDHashes bool
	for _, a := range attrs {
		v := a.Values.Bytes
		switch {
		case a.Type.Equal(oidMessageDigest):
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
				if h.Algorithm.Equal(oidSHA256) && !bytes.Equal(h.Digest, digest[:]) {
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

	if len(si.UnsignedAttrs.Bytes) > 0 {
		var un []attribute
		if _, err := asn1.UnmarshalWithParams(append([]byte{0x31}, si.UnsignedAttrs.FullBytes[1:]...), &un, "set"); err != nil {
			return nil, fmt.Errorf("CMS unsigned attributes do not parse: %w", err)
		}
		for _, a := range un {
			if a.Type.Equal(oidTimeStamp) {
				var tok asn1.RawValue
				if _, err := asn1.Unmarshal(a.Values.Bytes, &tok); err != nil {
					return nil, fmt.Errorf("CMS timestamp attribute does not parse: %w", err)
				}
				res.timestamp = tok.FullBytes
			}
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

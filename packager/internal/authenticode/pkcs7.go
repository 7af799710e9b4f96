package authenticode

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/tern-agent/tern/packager/internal/cms"
)

// What Authenticode adds to CMS (RFC 5652), which package cms parses: the
// content it signs, and the RFC 3161 countersignature in its unsigned
// attributes.

var (
	oidSpcIndirectDataContent = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}
	oidSpcPEImageData         = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 15}
	oidTSTInfo                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidAttrCounterSignature   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}
	oidAttrRFC3161Timestamp   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 3, 3, 1}
)

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

// parseSigned parses a SignedData that may be followed by zero padding, as
// the certificate table pads its entries to 8 bytes (and some signers pad
// the timestamp token too), and states failures in this package's kinds.
func parseSigned(der []byte, what string) (*cms.Signed, error) {
	var one asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &one); err != nil {
		return nil, fmt.Errorf("%w: %s is not a PKCS#7 ContentInfo: %v", ErrMalformed, what, err)
	} else if len(bytes.TrimRight(rest, "\x00")) != 0 {
		return nil, fmt.Errorf("%w: %d bytes follow the %s", ErrMalformed, len(rest), what)
	}
	s, err := cms.Parse(one.FullBytes, what)
	return s, fromCMS(err)
}

// fromCMS restates a failure from package cms under the kind of this
// package that callers of Verify test for, keeping what it says.
func fromCMS(err error) error {
	var e *cms.Error
	if !errors.As(err, &e) {
		return err
	}
	kind := ErrMalformed
	switch e.Kind {
	case cms.ErrBadSignature:
		kind = ErrBadSignature
	case cms.ErrWeakDigest:
		kind = ErrWeakDigest
	}
	return fmt.Errorf("%w: %s", kind, e.Detail)
}

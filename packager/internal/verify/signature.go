package verify

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// verifyBundle checks the bundle at path over data, against a public key or
// against a certificate identity anchored in a trusted root.
func verifyBundle(path string, data []byte, o Options) error {
	b, err := bundle.LoadJSONFromPath(path)
	if err != nil {
		return err
	}
	if o.PublicKey == nil && b.GetVerificationMaterial().GetPublicKey() != nil {
		// Checked before any trusted root is fetched: no root can help.
		return errKeySigned
	}
	artifact := sgverify.WithArtifact(bytes.NewReader(data))
	switch {
	case o.PublicKey != nil:
		v, err := signature.LoadVerifier(o.PublicKey, crypto.SHA256)
		if err != nil {
			return err
		}
		trusted := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(v, noTime, noTime), nil
		})
		verifier, err := sgverify.NewVerifier(trusted, sgverify.WithNoObserverTimestamps())
		if err != nil {
			return err
		}
		_, err = verifier.Verify(b, sgverify.NewPolicy(artifact, sgverify.WithKey()))
		return err
	case o.CertificateIdentityRegexp != "":
		var trusted root.TrustedMaterial
		if o.TrustedRootPath != "" {
			trusted, err = root.NewTrustedRootFromPath(o.TrustedRootPath)
		} else {
			trusted, err = root.FetchTrustedRoot()
		}
		if err != nil {
			return fmt.Errorf("loading the trusted root: %w", err)
		}
		verifier, err := sgverify.NewVerifier(trusted,
			sgverify.WithSignedCertificateTimestamps(1),
			sgverify.WithTransparencyLog(1),
			sgverify.WithObserverTimestamps(1))
		if err != nil {
			return err
		}
		id, err := sgverify.NewShortCertificateIdentity(o.CertificateOIDCIssuer, "", "", o.CertificateIdentityRegexp)
		if err != nil {
			return err
		}
		_, err = verifier.Verify(b, sgverify.NewPolicy(artifact, sgverify.WithCertificateIdentity(id)))
		return err
	default:
		return errors.New("nothing to verify against: give a public key (--key) or an identity (--certificate-identity-regexp)")
	}
}

// errKeySigned says that a bundle signed with a key, which carries no
// certificate, was to be checked against an identity.
var errKeySigned = errors.New("signed with a key, not keyless")

// noTime leaves a trusted key valid at any time: a release key has no
// validity period of its own.
var noTime time.Time

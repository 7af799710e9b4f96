package codesign

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
)

// Requirement language opcodes and match operators, from Apple's
// Security framework (requirement.h). Only those the designated
// requirement below uses.
const (
	opIdent              = 2
	opAnchorHash         = 4
	opAnd                = 6
	opCertGeneric        = 14
	opCertField          = 11
	opAppleGenericAnchor = 15

	matchExists = 0
	matchEqual  = 1

	requirementExprForm   = 1
	requirementDesignated = 3
)

var (
	// oidDeveloperIDCA marks Apple's Developer ID intermediate CA;
	// oidDeveloperIDApplication an Application leaf issued under it.
	oidDeveloperIDCA          = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 6}
	oidDeveloperIDApplication = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 13}
)

// emptyRequirements is an empty requirements set: what `codesign -s -`
// writes for ad-hoc signatures, which have no certificate to require.
func emptyRequirements() []byte {
	b := make([]byte, 12)
	be.PutUint32(b, magicRequirements)
	be.PutUint32(b[4:], 12)
	return b
}

// designatedRequirements is the requirements set with one designated
// requirement, the rule macOS uses to decide that a later build is "the
// same program" (keychain access, TCC grants survive updates).
//
// For a Developer ID Application certificate it is the one codesign writes:
//
//	identifier "ID" and anchor apple generic and
//	certificate 1[field.1.2.840.113635.100.6.2.6] exists and
//	certificate leaf[field.1.2.840.113635.100.6.1.13] exists and
//	certificate leaf[subject.OU] = "TEAM"
//
// For any other certificate (a test CA, an in-house CA) "anchor apple
// generic" could never hold, so it pins the leaf instead, as codesign does:
//
//	identifier "ID" and certificate leaf = H"sha1 of the leaf"
func designatedRequirements(identifier, teamID string, leaf *x509.Certificate) []byte {
	var e reqWriter
	if hasExtension(leaf, oidDeveloperIDApplication) {
		e.u32(opAnd, opAnd, opAnd, opAnd)
		e.u32(opIdent)
		e.data([]byte(identifier))
		e.u32(opAppleGenericAnchor)
		e.u32(opCertGeneric, 1)
		e.data(oidContent(oidDeveloperIDCA))
		e.u32(matchExists)
		e.u32(opCertGeneric, 0)
		e.data(oidContent(oidDeveloperIDApplication))
		e.u32(matchExists)
		e.u32(opCertField, 0)
		e.data([]byte("subject.OU"))
		e.u32(matchEqual)
		e.data([]byte(teamID))
	} else {
		h := sha1.Sum(leaf.Raw)
		e.u32(opAnd, opIdent)
		e.data([]byte(identifier))
		e.u32(opAnchorHash, 0)
		e.data(h[:])
	}
	var req reqWriter
	req.u32(magicRequirement, uint32(12+e.Len()), requirementExprForm)
	req.Write(e.Bytes())

	var set reqWriter
	set.u32(magicRequirements, uint32(20+req.Len()), 1, requirementDesignated, 20)
	set.Write(req.Bytes())
	return set.Bytes()
}

type reqWriter struct{ bytes.Buffer }

func (w *reqWriter) u32(vs ...uint32) {
	for _, v := range vs {
		w.Write(be.AppendUint32(nil, v))
	}
}

// data writes a length-prefixed byte string padded to 4 bytes.
func (w *reqWriter) data(b []byte) {
	w.u32(uint32(len(b)))
	w.Write(b)
	w.Write(make([]byte, (4-len(b)%4)%4))
}

// oidContent is an OID's DER contents without tag and length, the form
// certificate-field requirements compare.
func oidContent(oid asn1.ObjectIdentifier) []byte {
	der, _ := asn1.Marshal(oid)
	return der[2:]
}

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, ext := range c.Extensions {
		if ext.Id.Equal(oid) {
			return true
		}
	}
	return false
}

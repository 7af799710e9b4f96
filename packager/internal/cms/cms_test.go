package cms_test

import (
	"bytes"
	"context"
	"crypto"
	"debug/macho"
	"debug/pe"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/authenticode"
	"github.com/tern-agent/tern/packager/internal/cms"
	"github.com/tern-agent/tern/packager/internal/codesign"
	"github.com/tern-agent/tern/packager/internal/testbin"
	"github.com/tern-agent/tern/packager/internal/testpki"
)

var (
	oidTSTInfo                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidSpcIndirectDataContent = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 1, 4}
	oidAppleTimeStamp         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
)

// appleSignature signs a darwin binary the way a release does (Developer ID,
// timestamped by a test TSA) and returns the CMS from its code signature,
// the signer and the TSA, found with debug/macho rather than codesign's own
// parser.
func appleSignature(t testing.TB) (der []byte, id *testpki.Identity, tsa *testpki.TSA) {
	t.Helper()
	root := testpki.NewCA(t, "tern test root")
	id = root.Intermediate(t, "tern test Developer ID CA").Issue(t, testpki.Leaf{
		CN: "Developer ID Application: Acme (ABCDE12345)", OU: "ABCDE12345",
	})
	tsa = testpki.NewCA(t, "tern test TSA root").NewTSA(t, testpki.TSAOptions{})
	signed, err := codesign.Sign(testbin.Hello(t, "darwin", "arm64", "-s -w -buildid="),
		codesign.Options{Identifier: "hello", Cert: id.Cert, Chain: id.Chain, Key: id.Key, Hardened: true, TSAURL: tsa.URL})
	if err != nil {
		t.Fatal(err)
	}
	mf, err := macho.NewFile(bytes.NewReader(signed))
	if err != nil {
		t.Fatal(err)
	}
	var sig []byte
	for _, l := range mf.Loads {
		if raw := l.Raw(); mf.ByteOrder.Uint32(raw) == 0x1d { // LC_CODE_SIGNATURE
			off, size := mf.ByteOrder.Uint32(raw[8:]), mf.ByteOrder.Uint32(raw[12:])
			sig = signed[off : off+size]
		}
	}
	// A SuperBlob (big-endian): magic, length, count, then (slot, offset)
	// pairs. The CMS is the blob wrapper in slot 0x10000.
	be := binary.BigEndian
	for i := uint32(0); sig != nil && i < be.Uint32(sig[8:]); i++ {
		slot, off := be.Uint32(sig[12+8*i:]), be.Uint32(sig[16+8*i:])
		if slot == 0x10000 {
			return sig[off+8 : off+be.Uint32(sig[off+4:])], id, tsa
		}
	}
	t.Fatal("the signed binary has no CMS blob")
	return nil, nil, nil
}

// timestampToken is the RFC 3161 token in an Apple signature's unsigned
// attributes: a SignedData with encapsulated content (TSTInfo), where the
// Apple signature itself is detached.
func timestampToken(t testing.TB, s *cms.Signed) []byte {
	t.Helper()
	for _, a := range s.UnsignedAttrs {
		if a.Type.Equal(oidAppleTimeStamp) {
			var tok asn1.RawValue
			if _, err := asn1.Unmarshal(a.Values.Bytes, &tok); err != nil {
				t.Fatal(err)
			}
			return tok.FullBytes
		}
	}
	t.Fatal("no timestamp attribute")
	return nil
}

func TestParseAppleSignature(t *testing.T) {
	der, id, tsa := appleSignature(t)
	s, err := cms.Parse(der, "CMS signature")
	if err != nil {
		t.Fatal(err)
	}
	if !s.ContentType.Equal(cms.OIDData) || s.Content != nil {
		t.Errorf("content %v %x, want detached id-data", s.ContentType, s.Content)
	}
	if len(s.Certs) != 1+len(id.Chain) {
		t.Errorf("%d certificates, want the signer and its %d-certificate chain", len(s.Certs), len(id.Chain))
	}
	signer, err := s.SignerCert("CMS signature")
	if err != nil || !signer.Equal(id.Cert) {
		t.Fatalf("SignerCert = %v, %v; want %s", signer, err, id.Cert.Subject)
	}
	if err := s.CheckSignature(signer, crypto.SHA256); err != nil {
		t.Errorf("CheckSignature: %v", err)
	}
	if s.Attr(cms.OIDAttrMessageDigest) == nil || s.Attr(cms.OIDAttrSigningTime) == nil {
		t.Errorf("signed attributes %v lack messageDigest or signingTime", s.SignedAttrs)
	}
	if _, err := s.VerifySigner("CMS signature"); !errors.Is(err, cms.ErrMalformed) || !strings.Contains(err.Error(), "detached") {
		t.Errorf("VerifySigner of a detached signature = %v, want ErrMalformed saying it is detached", err)
	}

	tok, err := cms.Parse(timestampToken(t, s), "RFC 3161 timestamp")
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ContentType.Equal(oidTSTInfo) || len(tok.Content) == 0 {
		t.Fatalf("token content %v (%d bytes), want TSTInfo", tok.ContentType, len(tok.Content))
	}
	cert, err := tok.VerifySigner("RFC 3161 timestamp")
	if err != nil || !cert.Equal(tsa.Identity.Cert) {
		t.Fatalf("token VerifySigner = %v, %v; want the TSA's certificate", cert, err)
	}
}

func TestParseAuthenticodeSignature(t *testing.T) {
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		t.Skip("osslsigncode not installed")
	}
	id := testpki.NewCA(t, "tern test root").Issue(t, testpki.Leaf{CN: "Acme Release Signing"})
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.exe"), filepath.Join(dir, "out.exe")
	if err := os.WriteFile(in, testbin.Hello(t, "windows", "amd64", "-s -w"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := authenticode.Sign(context.Background(), in, out, authenticode.Options{P12: id.P12("pw"), Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	signed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := pe.NewFile(bytes.NewReader(signed))
	if err != nil {
		t.Fatal(err)
	}
	dd := pf.OptionalHeader.(*pe.OptionalHeader64).DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_SECURITY]
	// WIN_CERTIFICATE: an 8-byte header, then the PKCS#7, then zero padding
	// that is the certificate table's, not CMS's, to cut.
	var one asn1.RawValue
	if _, err := asn1.Unmarshal(signed[dd.VirtualAddress+8:dd.VirtualAddress+dd.Size], &one); err != nil {
		t.Fatal(err)
	}
	s, err := cms.Parse(one.FullBytes, "Authenticode signature")
	if err != nil {
		t.Fatal(err)
	}
	if !s.ContentType.Equal(oidSpcIndirectDataContent) {
		t.Errorf("content type %v, want SpcIndirectDataContent", s.ContentType)
	}
	cert, err := s.VerifySigner("Authenticode signature")
	if err != nil || !cert.Equal(id.Cert) {
		t.Fatalf("VerifySigner = %v, %v; want %s", cert, err, id.Cert.Subject)
	}
}

// reencode rebuilds der after edit changes its SignedData.
func reencode(t *testing.T, der []byte, edit func(*cms.SignedData)) []byte {
	t.Helper()
	var ci cms.ContentInfo
	var sd cms.SignedData
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	edit(&sd)
	sdDER, err := asn1.Marshal(sd)
	if err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(cms.ContentInfo{ContentType: ci.ContentType,
		Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sdDER}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// flip returns der with the last byte of part (found in der) changed.
func flip(t *testing.T, der, part []byte) []byte {
	t.Helper()
	i := bytes.Index(der, part)
	if i < 0 || len(part) == 0 {
		t.Fatal("part not found")
	}
	out := bytes.Clone(der)
	out[i+len(part)-1] ^= 0x01
	return out
}

// TestHostileInput feeds Parse and VerifySigner broken variants of a real
// timestamp token (a SignedData with content, so every check applies):
// each must be refused with the kind and words a user reads, never panic.
func TestHostileInput(t *testing.T) {
	apple, _, _ := appleSignature(t)
	s, err := cms.Parse(apple, "CMS signature")
	if err != nil {
		t.Fatal(err)
	}
	token := timestampToken(t, s)
	tok, err := cms.Parse(token, "token")
	if err != nil {
		t.Fatal(err)
	}
	tstOID, _ := asn1.Marshal(oidTSTInfo)
	wrongOuter, _ := asn1.Marshal(cms.ContentInfo{ContentType: cms.OIDData,
		Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: []byte{0x04, 0x00}}})

	cases := []struct {
		name     string
		der      []byte
		parseErr bool // refused by Parse; else by VerifySigner
		kind     error
		want     string
	}{
		{"trailing byte", append(bytes.Clone(token), 0), true, cms.ErrMalformed, "1 bytes follow the token"},
		{"outer content type is not SignedData", wrongOuter, true, cms.ErrMalformed, "want SignedData"},
		{"two signers", reencode(t, token, func(sd *cms.SignedData) { sd.SignerInfos = append(sd.SignerInfos, sd.SignerInfos[0]) }),
			true, cms.ErrMalformed, "has 2 signers, want 1"},
		{"certificate bytes that do not parse", reencode(t, token, func(sd *cms.SignedData) {
			sd.Certificates = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: []byte{0x30, 0x03, 1, 2, 3}}
		}), true, cms.ErrMalformed, "token certificates"},
		{"content changed", flip(t, token, tok.Content), false, cms.ErrBadSignature, "messageDigest attribute does not match its signed content"},
		{"content type is not what the signer signed", flip(t, token, tstOID), false, cms.ErrBadSignature, "contentType attribute is"},
		{"signature changed", flip(t, token, tok.Signer.Signature), false, cms.ErrBadSignature, "over its signed attributes"},
		{"signer's certificate left out", reencode(t, token, func(sd *cms.SignedData) { sd.Certificates = asn1.RawValue{} }),
			false, cms.ErrMalformed, "the signer's certificate is not among the 0 it carries"},
		{"SHA-1 signer", reencode(t, token, func(sd *cms.SignedData) {
			sd.SignerInfos[0].DigestAlgorithm.Algorithm = cms.OIDSHA1
		}), false, cms.ErrWeakDigest, "SHA-1; sign again with SHA-256"},
		{"signature algorithm names another digest", reencode(t, token, func(sd *cms.SignedData) {
			sd.SignerInfos[0].SignatureAlgorithm.Algorithm = cms.OIDSHA512WithRSA
		}), false, cms.ErrBadSignature, "is not RSA or ECDSA with SHA-256"},
		{"no signed attributes", reencode(t, token, func(sd *cms.SignedData) { sd.SignerInfos[0].SignedAttrs = asn1.RawValue{} }),
			false, cms.ErrMalformed, "signer has no signed attributes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := cms.Parse(tc.der, "token")
			if err == nil && !tc.parseErr {
				_, err = s.VerifySigner("token")
			} else if (err == nil) == tc.parseErr {
				t.Fatalf("Parse = %v, want refusal by Parse: %v", err, tc.parseErr)
			}
			var e *cms.Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &e) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant a *cms.Error of kind %v containing %q", err, tc.kind, tc.want)
			}
		})
	}

	for _, der := range [][]byte{apple, token} {
		for n := range len(der) {
			if _, err := cms.Parse(der[:n], "cut"); !errors.Is(err, cms.ErrMalformed) {
				t.Fatalf("Parse of the first %d of %d bytes = %v, want ErrMalformed", n, len(der), err)
			}
		}
	}
}

// FuzzParse checks that nothing a hostile file holds makes the parser or
// the checks after it panic: the release gate reads files it did not make.
func FuzzParse(f *testing.F) {
	apple, _, _ := appleSignature(f)
	f.Add(apple)
	if s, err := cms.Parse(apple, "seed"); err == nil {
		for _, a := range s.UnsignedAttrs {
			var tok asn1.RawValue
			if _, err := asn1.Unmarshal(a.Values.Bytes, &tok); err == nil {
				f.Add(tok.FullBytes)
			}
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		s, err := cms.Parse(der, "fuzz")
		if err != nil {
			return
		}
		if cert, err := s.SignerCert("fuzz"); err == nil {
			s.CheckSignature(cert, crypto.SHA256)
		}
		if _, err := s.VerifySigner("fuzz"); err == nil && s.Content == nil {
			t.Fatal("VerifySigner accepted a detached signature it had no content for")
		}
	})
}

package codesign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/macho"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomacho "github.com/blacktop/go-macho"

	"github.com/tern-agent/tern/packager/internal/cms"
	"github.com/tern-agent/tern/packager/internal/testbin"
	"github.com/tern-agent/tern/packager/internal/testpki"
)

// arches are the darwin targets tern ships. Go's linker ad-hoc signs arm64
// and leaves amd64 unsigned, so between them they cover "replace a
// signature" and "add the load command".
var arches = []string{"amd64", "arm64"}

// darwinBinary is a tiny Go program built for darwin/arch the way tern's
// releases are built.
func darwinBinary(t testing.TB, arch string) []byte {
	t.Helper()
	return testbin.Hello(t, "darwin", arch, "-s -w -buildid=")
}

// checkIndependently re-checks a signed binary with parsers that share no
// code with this package: debug/macho finds the signature, go-macho parses
// the CodeDirectory, and the page hashes are recomputed here.
func checkIndependently(t *testing.T, signed []byte, wantID string) *gomacho.File {
	t.Helper()
	mf, err := macho.NewFile(bytes.NewReader(signed))
	if err != nil {
		t.Fatalf("debug/macho cannot read the signed binary: %v", err)
	}
	var dataoff, datasize uint32
	for _, l := range mf.Loads {
		raw := l.Raw()
		if mf.ByteOrder.Uint32(raw) == lcCodeSignature {
			dataoff, datasize = mf.ByteOrder.Uint32(raw[8:]), mf.ByteOrder.Uint32(raw[12:])
		}
	}
	if dataoff == 0 || int(dataoff+datasize) != len(signed) || dataoff%16 != 0 {
		t.Fatalf("LC_CODE_SIGNATURE %#x+%#x in a %#x-byte file: want a 16-aligned signature ending the file", dataoff, datasize, len(signed))
	}
	le := mf.Segment("__LINKEDIT")
	if le.Offset+le.Filesz != uint64(len(signed)) || le.Memsz < le.Filesz {
		t.Fatalf("__LINKEDIT %#x+%#x (vm %#x) does not end the %#x-byte file", le.Offset, le.Filesz, le.Memsz, len(signed))
	}

	gf, err := gomacho.NewFile(bytes.NewReader(signed))
	if err != nil {
		t.Fatalf("go-macho cannot read the signed binary: %v", err)
	}
	cs := gf.CodeSignature()
	if cs == nil || len(cs.CodeDirectories) != 1 {
		t.Fatalf("go-macho finds no single CodeDirectory: %+v", cs)
	}
	cd := cs.CodeDirectories[0]
	if cd.ID != wantID {
		t.Errorf("go-macho reads identifier %q, want %q", cd.ID, wantID)
	}
	if cd.Header.CodeLimit != dataoff || cd.Header.PageSize != 12 {
		t.Errorf("codeLimit %#x pageSize 2^%d, want %#x and 2^12", cd.Header.CodeLimit, cd.Header.PageSize, dataoff)
	}
	text := mf.Segment("__TEXT")
	if cd.Header.ExecSegBase != text.Offset || cd.Header.ExecSegLimit != text.Filesz || cd.Header.ExecSegFlags != 1 {
		t.Errorf("exec segment %#x+%#x flags %#x, want __TEXT %#x+%#x and main binary", cd.Header.ExecSegBase, cd.Header.ExecSegLimit, cd.Header.ExecSegFlags, text.Offset, text.Filesz)
	}
	if want := int(dataoff+4095) / 4096; len(cd.CodeSlots) != want {
		t.Fatalf("go-macho reads %d page hashes, want %d", len(cd.CodeSlots), want)
	}
	for i, s := range cd.CodeSlots {
		h := sha256.Sum256(signed[i*4096 : min((i+1)*4096, int(dataoff))])
		if !bytes.Equal(s.Hash, h[:]) {
			t.Fatalf("page %d hash %x, recomputed %x", i, s.Hash, h)
		}
	}
	return gf
}

func TestSignAdHoc(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			orig := darwinBinary(t, arch)
			a, err := SignAdHoc(orig, "hello")
			if err != nil {
				t.Fatal(err)
			}
			b, err := SignAdHoc(bytes.Clone(orig), "hello")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatal("two ad-hoc signatures of one binary differ: snapshots would not reproduce")
			}
			again, err := SignAdHoc(a, "hello")
			if err != nil || !bytes.Equal(again, a) {
				t.Fatalf("re-signing a signed binary changed it (err %v)", err)
			}

			info, err := Verify(a)
			if err != nil {
				t.Fatal(err)
			}
			if !info.AdHoc || info.Identifier != "hello" || info.Flags != FlagAdHoc || info.Signer != nil || info.TeamID != "" || len(info.CDHash) != 20 {
				t.Errorf("Verify = %+v, want ad-hoc hello with flags %#x", info, FlagAdHoc)
			}
			gf := checkIndependently(t, a, "hello")
			cs := gf.CodeSignature()
			if cs.CodeDirectories[0].Header.Flags != FlagAdHoc {
				t.Errorf("go-macho reads flags %#x", cs.CodeDirectories[0].Header.Flags)
			}

			stripped, err := Strip(a)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Strip(orig)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stripped, want) {
				t.Fatal("Strip(SignAdHoc(x)) != Strip(x)")
			}
			if arch == "amd64" && !bytes.Equal(stripped, orig) {
				t.Fatal("Strip(SignAdHoc(x)) != x for the linker's unsigned amd64 output")
			}
			if _, err := Verify(stripped); err == nil || !strings.Contains(err.Error(), "not signed") {
				t.Fatalf("Verify(stripped) = %v, want 'not signed'", err)
			}
			if mf, err := macho.NewFile(bytes.NewReader(stripped)); err != nil {
				t.Fatalf("the stripped binary no longer parses: %v", err)
			} else if mf.Segment("__LINKEDIT").Filesz+mf.Segment("__LINKEDIT").Offset != uint64(len(stripped)) {
				t.Fatal("the stripped binary's __LINKEDIT does not end the file")
			}
		})
	}
}

// Go's linker signs darwin/arm64 itself: Verify must accept a signature it
// did not write, which checks Verify against another signer.
func TestVerifyLinkerSignature(t *testing.T) {
	info, err := Verify(darwinBinary(t, "arm64"))
	if err != nil {
		t.Fatal(err)
	}
	if !info.AdHoc || info.Flags != FlagAdHoc|FlagLinkerSigned || info.Identifier != "a.out" {
		t.Fatalf("Verify(linker output) = %+v, want ad-hoc linker-signed a.out", info)
	}
}

func TestVerifyRefusesTampering(t *testing.T) {
	orig := darwinBinary(t, "amd64")
	signed, err := SignAdHoc(orig, "hello")
	if err != nil {
		t.Fatal(err)
	}
	page := 5
	flipped := bytes.Clone(signed)
	flipped[page*4096+100] ^= 1
	_, err = Verify(flipped)
	want := fmt.Sprintf("1 of %d pages do not match their CodeDirectory hash: page 5 (bytes 0x5000-0x5fff)", (len(orig)+4095)/4096)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Verify(flipped byte) = %v, want %q", err, want)
	}

	// A byte of the requirements blob: its special slot must catch it.
	f, _ := parseMachO(signed)
	reqs := bytes.Clone(signed)
	i := bytes.Index(reqs[f.dataoff:], emptyRequirements())
	reqs[int(f.dataoff)+i+11] = 1
	if _, err := Verify(reqs); err == nil || !strings.Contains(err.Error(), "special slot 2 (requirements)") {
		t.Fatalf("Verify(changed requirements) = %v, want special slot 2", err)
	}

	appended := append(bytes.Clone(signed), 0)
	if _, err := Verify(appended); err == nil || !strings.Contains(err.Error(), "1 bytes follow the code signature") {
		t.Fatalf("Verify(appended byte) = %v", err)
	}
}

func TestSignRefusesNoRoom(t *testing.T) {
	orig := bytes.Clone(darwinBinary(t, "amd64"))
	end := headerSize64 + int(le.Uint32(orig[20:]))
	orig[end+3] = 0xff
	if _, err := SignAdHoc(orig, "hello"); err == nil || !strings.Contains(err.Error(), "no room for LC_CODE_SIGNATURE") {
		t.Fatalf("SignAdHoc(no padding after load commands) = %v", err)
	}
	if _, err := SignAdHoc([]byte("#!/bin/sh\necho this is a shell script, not a binary\n"), "x"); err == nil || !strings.Contains(err.Error(), "not a 64-bit Mach-O") {
		t.Fatalf("SignAdHoc(script) = %v", err)
	}
}

// devID is a Developer ID-like identity from a throw-away CA, with the team
// id in the subject OU as Apple issues it.
func devID(t *testing.T) *testpki.Identity {
	root := testpki.NewCA(t, "tern test root")
	return root.Intermediate(t, "tern test Developer ID CA").Issue(t, testpki.Leaf{
		CN: "Developer ID Application: Acme (ABCDE12345)", OU: "ABCDE12345",
	})
}

// stubTSA is testpki's RFC 3161 time-stamp authority on 127.0.0.1, under
// a root of its own, vouching for one instant to the second.
func stubTSA(t testing.TB) (url string, at time.Time) {
	url, at, _ = stubTSAWithRoot(t)
	return url, at
}

func stubTSAWithRoot(t testing.TB) (url string, at time.Time, root *testpki.CA) {
	root = testpki.NewCA(t, "tern test TSA root")
	at = time.Now().UTC().Truncate(time.Second)
	tsa := root.NewTSA(t, testpki.TSAOptions{Now: func() time.Time { return at }})
	return tsa.URL, at, root
}

func TestSignWithCertificate(t *testing.T) {
	id := devID(t)
	tsaURL, at := stubTSA(t)
	o, err := LoadP12(id.P12("secret"), "secret")
	if err != nil {
		t.Fatal(err)
	}
	if !o.Cert.Equal(id.Cert) || len(o.Chain) != 1 {
		t.Fatalf("LoadP12 gave %s with %d chain certificates, want %s with its intermediate", o.Cert.Subject, len(o.Chain), id.Cert.Subject)
	}
	if _, err := LoadP12(id.P12("secret"), "wrong"); err == nil || !strings.Contains(err.Error(), "check the password") {
		t.Fatalf("LoadP12(wrong password) = %v", err)
	}
	o.Identifier, o.Hardened, o.TSAURL = "hello", true, tsaURL

	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			orig := darwinBinary(t, arch)
			signed, err := Sign(orig, o)
			if err != nil {
				t.Fatal(err)
			}
			info, err := Verify(signed)
			if err != nil {
				t.Fatal(err)
			}
			if info.AdHoc || info.Identifier != "hello" || info.TeamID != "ABCDE12345" || info.Flags != FlagRuntime {
				t.Errorf("Verify = %+v, want hello, team ABCDE12345, hardened runtime only", info)
			}
			if info.Signer == nil || !info.Signer.Equal(id.Cert) || len(info.Chain) != 1 || !info.Chain[0].Equal(id.Chain[0]) {
				t.Errorf("Verify's signer %v and chain %d certificates, want the leaf and its intermediate", info.Signer, len(info.Chain))
			}
			if info.Timestamp == nil || !info.Timestamp.Equal(at) {
				t.Errorf("Verify's timestamp = %v, want %v", info.Timestamp, at)
			}
			gf := checkIndependently(t, signed, "hello")
			cs := gf.CodeSignature()
			cd := cs.CodeDirectories[0]
			if cd.TeamID != "ABCDE12345" || cd.Header.Version != 0x20500 || cd.Header.Flags != FlagRuntime {
				t.Errorf("go-macho reads team %q version %#x flags %#x, want ABCDE12345, 0x20500, runtime", cd.TeamID, cd.Header.Version, cd.Header.Flags)
			}
			// The hardened runtime records the SDK from LC_BUILD_VERSION.
			if f, _ := parseMachO(orig); f.sdk == 0 || uint32(cd.Header.Runtime) != f.sdk {
				t.Errorf("runtime version %#x, want the SDK %#x", cd.Header.Runtime, f.sdk)
			}
			// go-macho prints the pinned hash as raw bytes rather than H"hex".
			pin := sha1.Sum(id.Cert.Raw)
			if len(cs.Requirements) != 1 || cs.Requirements[0].Detail != `identifier "hello" and certificate leaf = `+string(pin[:]) {
				t.Errorf("go-macho reads requirements %+v, want the designated requirement pinning the leaf", cs.Requirements)
			}
			if len(cs.CMSSignature) == 0 {
				t.Error("go-macho finds no CMS signature")
			}

			stripped, _ := Strip(signed)
			want, _ := Strip(orig)
			if !bytes.Equal(stripped, want) {
				t.Fatal("Strip(Sign(x)) != Strip(x)")
			}
		})
	}
}

// The Developer ID designated requirement, checked by go-macho's decompiler.
func TestDesignatedRequirementDeveloperID(t *testing.T) {
	leaf := &x509.Certificate{Extensions: []pkix.Extension{{Id: oidDeveloperIDApplication}}}
	raw := designatedRequirements("hello", "ABCDE12345", leaf)
	signed, err := sign(darwinBinary(t, "amd64"), "hello", "ABCDE12345", 0, raw, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	gf, err := gomacho.NewFile(bytes.NewReader(signed))
	if err != nil {
		t.Fatal(err)
	}
	got := gf.CodeSignature().Requirements
	want := `identifier "hello" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = "ABCDE12345"`
	if len(got) != 1 || strings.Join(strings.Fields(got[0].Detail), " ") != want {
		t.Fatalf("designated requirement decompiles to\n%+v\nwant\n%s", got, want)
	}
}

// replaceCMS rewrites the CMS of a signed binary in place, keeping its
// CodeDirectory and requirements, as an attacker (or a buggy signer) could.
func replaceCMS(t *testing.T, signed []byte, edit func(cms []byte) []byte) []byte {
	t.Helper()
	f, err := parseMachO(signed)
	if err != nil {
		t.Fatal(err)
	}
	sig := signed[f.dataoff : f.dataoff+f.datasize]
	blobs, err := parseSuperBlob(sig)
	if err != nil {
		t.Fatal(err)
	}
	sb := superBlob([]blob{
		{slotCodeDirectory, blobs[slotCodeDirectory]},
		{slotRequirements, blobs[slotRequirements]},
		{slotCMS, wrapCMS(edit(blobs[slotCMS][8:]))},
	})
	if len(sb) > len(sig) {
		t.Fatalf("edited signature is %d bytes, %d reserved", len(sb), len(sig))
	}
	out := bytes.Clone(signed)
	clear(out[f.dataoff:])
	copy(out[f.dataoff:], sb)
	return out
}

// resign re-signs a CMS's signed attributes with key after edit changes them.
func resign(t *testing.T, der []byte, key crypto.Signer, edit func([]cms.Attribute)) []byte {
	t.Helper()
	var ci cms.ContentInfo
	var sd cms.SignedData
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	si := &sd.SignerInfos[0]
	var attrs []cms.Attribute
	if _, err := asn1.UnmarshalWithParams(append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...), &attrs, "set"); err != nil {
		t.Fatal(err)
	}
	edit(attrs)
	var enc [][]byte
	for _, a := range attrs {
		b, err := asn1.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		enc = append(enc, b)
	}
	set := derSet(0x31, enc)
	h := sha256.Sum256(set)
	sig, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	si.SignedAttrs = asn1.RawValue{FullBytes: append([]byte{0xa0}, set[1:]...)}
	si.Signature = sig
	si.UnsignedAttrs = asn1.RawValue{} // the timestamp covered the old signature
	sdDER, err := asn1.Marshal(sd)
	if err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(cms.ContentInfo{ContentType: cms.OIDSignedData, Content: asn1.RawValue{FullBytes: tlv(0xa0, sdDER)}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyRefusesBadCMS(t *testing.T) {
	id := devID(t)
	other := id.CA.Issue(t, testpki.Leaf{CN: "someone else", OU: "ZZZZZ99999"})
	tsaURL, _ := stubTSA(t)
	o := Options{Identifier: "hello", Cert: id.Cert, Chain: id.Chain, Key: id.Key, Hardened: true, TSAURL: tsaURL}
	signed, err := Sign(darwinBinary(t, "arm64"), o)
	if err != nil {
		t.Fatal(err)
	}
	otherCD := sha256.Sum256([]byte("another CodeDirectory"))
	plistOther, _ := asn1.Marshal(cdHashesPlist(otherCD[:20]))
	agilityOther, _ := asn1.Marshal(hashAgility{cms.OIDSHA256, otherCD[:]})
	setValue := func(oid asn1.ObjectIdentifier, der []byte) func([]cms.Attribute) {
		return func(attrs []cms.Attribute) {
			for i := range attrs {
				if attrs[i].Type.Equal(oid) {
					attrs[i].Values = asn1.RawValue{FullBytes: tlv(0x31, der)}
				}
			}
		}
	}
	otherTSA, _ := stubTSA(t)
	stolenToken, err := requestTimestamp(nil, otherTSA, []byte("some other signature"))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		edit func(cms []byte) []byte
		want string
	}{
		{"untouched re-encoding", func(c []byte) []byte { return resign(t, c, id.Key, func([]cms.Attribute) {}) }, ""},
		{"key not matching the certificate", func(c []byte) []byte { return resign(t, c, other.Key, func([]cms.Attribute) {}) },
			"CMS signature does not verify with the signer certificate CN=Developer ID Application: Acme (ABCDE12345),OU=ABCDE12345: crypto/rsa: verification error"},
		{"CDHashes for another CodeDirectory", func(c []byte) []byte { return resign(t, c, id.Key, setValue(oidCDHashes, plistOther)) },
			"CMS CDHashes attribute lists [" + fmt.Sprintf("%x", otherCD[:20]) + "], not the CodeDirectory's cdhash"},
		{"CDHashes2 for another CodeDirectory", func(c []byte) []byte { return resign(t, c, id.Key, setValue(oidCDHashes2, agilityOther)) },
			"CMS CDHashes2 attribute has SHA-256 " + fmt.Sprintf("%x", otherCD)},
		{"messageDigest of another CodeDirectory", func(c []byte) []byte {
			md, _ := asn1.Marshal(otherCD[:])
			return resign(t, c, id.Key, setValue(cms.OIDAttrMessageDigest, md))
		}, "CMS messageDigest " + fmt.Sprintf("%x", otherCD) + " is not the SHA-256 of the CodeDirectory"},
		{"no CDHashes", func(c []byte) []byte {
			return resign(t, c, id.Key, func(a []cms.Attribute) {
				for i := range a {
					if a[i].Type.Equal(oidCDHashes) {
						a[i].Type = asn1.ObjectIdentifier{1, 2, 3}
					}
				}
			})
		}, "CMS signature has no CDHashes attribute"},
		{"timestamp of another signature", func(c []byte) []byte {
			var ci cms.ContentInfo
			var sd cms.SignedData
			asn1.Unmarshal(c, &ci)
			asn1.Unmarshal(ci.Content.Bytes, &sd)
			a, _ := marshalAttr(oidTimeStamp, stolenToken)
			sd.SignerInfos[0].UnsignedAttrs = asn1.RawValue{FullBytes: tlv(0xa1, a)}
			sdDER, _ := asn1.Marshal(sd)
			out, _ := asn1.Marshal(cms.ContentInfo{ContentType: cms.OIDSignedData, Content: asn1.RawValue{FullBytes: tlv(0xa0, sdDER)}})
			return out
		}, "timestamp token stamps"},
		{"no CMS at all", func([]byte) []byte { return nil }, "the CodeDirectory is not ad-hoc but there is no CMS signature over it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(replaceCMS(t, signed, tc.edit))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Verify = %v, want success", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Verify = %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	id := devID(t)
	other := id.CA.Issue(t, testpki.Leaf{CN: "someone else"})
	noOU := id.CA.Issue(t, testpki.Leaf{CN: "no team"})
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "TSA overloaded", http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	bin := darwinBinary(t, "amd64")
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"key of another certificate", Options{Identifier: "hello", Cert: id.Cert, Key: other.Key},
			"the signing key does not match the certificate CN=Developer ID Application: Acme (ABCDE12345),OU=ABCDE12345"},
		{"no team", Options{Identifier: "hello", Cert: noOU.Cert, Key: noOU.Key},
			"certificate CN=no team has no subject OU to take the team identifier from: set the TeamID"},
		{"no identifier", Options{Cert: id.Cert, Key: id.Key}, "signing needs an identifier"},
		{"team not the certificate's", Options{Identifier: "hello", Cert: id.Cert, Key: id.Key, TeamID: "OTHER00001"},
			`team identifier "OTHER00001" differs from the certificate's team (subject OU) "ABCDE12345"`},
		{"NUL in identifier", Options{Identifier: "he\x00llo", Cert: id.Cert, Key: id.Key}, "contains a NUL byte"},
		{"no key", Options{Identifier: "hello", Cert: id.Cert}, "signing needs a certificate and its private key"},
		{"TSA down", Options{Identifier: "hello", Cert: id.Cert, Key: id.Key, TSAURL: failing.URL},
			"time-stamp authority " + failing.URL + " answered HTTP 503: TSA overloaded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Sign(bin, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Sign = %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
	// An explicit TeamID overrides the certificate.
	signed, err := Sign(bin, Options{Identifier: "hello", Cert: noOU.Cert, Key: noOU.Key, TeamID: "TEAM000001"})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := Verify(signed); err != nil || info.TeamID != "TEAM000001" || info.Flags != 0 || info.Timestamp != nil {
		t.Fatalf("Verify = %+v, %v; want team TEAM000001, no flags, no timestamp", info, err)
	}
}

// benchBinary is the hello binary, or the file named by
// CODESIGN_BENCH_BINARY to time a real release binary.
func benchBinary(b *testing.B) []byte {
	if p := os.Getenv("CODESIGN_BENCH_BINARY"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	return darwinBinary(b, "arm64")
}

func BenchmarkSignAdHoc(b *testing.B) {
	bin := benchBinary(b)
	b.SetBytes(int64(len(bin)))
	for b.Loop() {
		if _, err := SignAdHoc(bin, "hello"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignCertificate(b *testing.B) {
	bin := benchBinary(b)
	id := testpki.NewCA(b, "root").Issue(b, testpki.Leaf{OU: "ABCDE12345"})
	o := Options{Identifier: "hello", Cert: id.Cert, Chain: id.Chain, Key: id.Key, Hardened: true}
	b.SetBytes(int64(len(bin)))
	for b.Loop() {
		if _, err := Sign(bin, o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	bin := benchBinary(b)
	id := testpki.NewCA(b, "root").Issue(b, testpki.Leaf{OU: "ABCDE12345"})
	signed, err := Sign(bin, Options{Identifier: "hello", Cert: id.Cert, Chain: id.Chain, Key: id.Key, Hardened: true})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(bin)))
	for b.Loop() {
		if _, err := Verify(signed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignCertificateTimestamp(b *testing.B) {
	bin := benchBinary(b)
	id := testpki.NewCA(b, "root").Issue(b, testpki.Leaf{OU: "ABCDE12345"})
	url, _ := stubTSA(b)
	o := Options{Identifier: "hello", Cert: id.Cert, Chain: id.Chain, Key: id.Key, Hardened: true, TSAURL: url}
	b.SetBytes(int64(len(bin)))
	for b.Loop() {
		if _, err := Sign(bin, o); err != nil {
			b.Fatal(err)
		}
	}
}

// Go's linker writes the same CodeDirectory format for darwin/arm64: with
// its flags, identifier and no special slots, ours must be byte-identical
// to the linker's, signature and all.
func TestCodeDirectoryMatchesGoLinker(t *testing.T) {
	orig := darwinBinary(t, "arm64")
	f, err := parseMachO(orig)
	if err != nil {
		t.Fatal(err)
	}
	cd := codeDirectory{
		version: cdVersionExecSeg, flags: FlagAdHoc | FlagLinkerSigned, identifier: "a.out",
		codeLimit: f.dataoff, execBase: f.text.fileoff, execLimit: f.text.filesize, execFlags: execSegMainBinary,
	}
	sb := superBlob([]blob{{slotCodeDirectory, cd.marshal(orig)}})
	linker := orig[f.dataoff:]
	if !bytes.Equal(sb, linker[:len(sb)]) || len(bytes.Trim(linker[len(sb):], "\x00")) != 0 {
		t.Fatalf("our encoding of the linker's signature differs from the linker's:\nours   %x\nlinker %x", sb[:128], linker[:128])
	}
}

func TestSignECDSA(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ecdsa signer", OrganizationalUnit: []string{"ECDSA00001"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	signed, err := Sign(darwinBinary(t, "amd64"), Options{Identifier: "hello", Cert: cert, Key: key, Hardened: true})
	if err != nil {
		t.Fatal(err)
	}
	info, err := Verify(signed)
	if err != nil || info.TeamID != "ECDSA00001" || !info.Signer.Equal(cert) {
		t.Fatalf("Verify = %+v, %v", info, err)
	}
}

// tinyMachO is the smallest file this package signs: a header, __TEXT with
// one section, and __LINKEDIT. It keeps fuzzing fast.
func tinyMachO() []byte {
	b := make([]byte, 0x240)
	le.PutUint32(b[0:], magic64)
	le.PutUint32(b[4:], 0x01000007) // x86_64
	le.PutUint32(b[8:], 3)
	le.PutUint32(b[12:], mhExecute)
	le.PutUint32(b[16:], 2)
	le.PutUint32(b[20:], 152+72)
	seg := func(off int, name string, size uint32, fileoff, filesize uint64, nsects uint32) {
		le.PutUint32(b[off:], lcSegment64)
		le.PutUint32(b[off+4:], size)
		copy(b[off+8:], name)
		le.PutUint64(b[off+32:], filesize)
		le.PutUint64(b[off+40:], fileoff)
		le.PutUint64(b[off+48:], filesize)
		le.PutUint32(b[off+64:], nsects)
	}
	seg(32, "__TEXT", 152, 0, 0x210, 1)
	copy(b[32+72:], "__text")
	copy(b[32+72+16:], "__TEXT")
	le.PutUint64(b[32+72+40:], 0x10)  // size
	le.PutUint32(b[32+72+48:], 0x200) // offset
	seg(32+152, "__LINKEDIT", 72, 0x210, 0x30, 0)
	copy(b[0x200:], "\xc3 pretend code")
	return b
}

// Verify and Strip read files from outside; no input may crash them.
func FuzzVerify(f *testing.F) {
	tiny := tinyMachO()
	f.Add(tiny)
	if adhoc, err := SignAdHoc(tiny, "hello"); err == nil {
		f.Add(adhoc)
	} else {
		f.Fatal(err)
	}
	id := testpki.NewCA(f, "root").Issue(f, testpki.Leaf{OU: "ABCDE12345"})
	if signed, err := Sign(tiny, Options{Identifier: "hello", Cert: id.Cert, Key: id.Key, Hardened: true}); err == nil {
		f.Add(signed)
	} else {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Verify(data)
		if s, err := Strip(data); err == nil {
			Strip(s)
			SignAdHoc(s, "x")
		}
	})
}

func TestTinyMachO(t *testing.T) {
	tiny := tinyMachO()
	signed, err := SignAdHoc(tiny, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(signed); err != nil {
		t.Fatal(err)
	}
	if s, _ := Strip(signed); !bytes.Equal(s, tiny) {
		t.Fatal("Strip(SignAdHoc(tiny)) != tiny")
	}
	checkIndependently(t, signed, "hello")
}

// The CMS's size is only known after hashing the header that records it:
// when it outgrows the room reserved, signing lays out and signs again.
func TestSignGrowsReserve(t *testing.T) {
	calls := 0
	cms := func(size int) func([]byte) ([]byte, error) {
		return func([]byte) ([]byte, error) { calls++; return bytes.Repeat([]byte{1}, size), nil }
	}
	out, err := sign(tinyMachO(), "hello", "TEAM", 0, emptyRequirements(), cms(3000), 100)
	if err != nil || calls != 2 {
		t.Fatalf("sign = %v after %d CMS calls, want success after 2", err, calls)
	}
	if s, _ := Strip(out); !bytes.Equal(s, tinyMachO()) {
		t.Fatal("Strip after a second layout != the input")
	}
	grow := 0
	growing := func([]byte) ([]byte, error) { grow += 4000; return make([]byte, grow), nil }
	if _, err := sign(tinyMachO(), "hello", "TEAM", 0, emptyRequirements(), growing, 100); err == nil || !strings.Contains(err.Error(), "does not fit the") {
		t.Fatalf("sign(ever-growing CMS) = %v", err)
	}
}

// OpenSSL, a CMS and RFC 3161 implementation that shares nothing with this
// package, must accept the signature over the CodeDirectory, its chain to
// the test root, and the timestamp over the signature.
func TestOpenSSLAcceptsCMSAndTimestamp(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	id := devID(t)
	tsaURL, _, tsaRoot := stubTSAWithRoot(t)
	signed, err := Sign(darwinBinary(t, "arm64"), Options{Identifier: "hello", Cert: id.Cert, Chain: id.Chain[:1], Key: id.Key, Hardened: true, TSAURL: tsaURL})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := parseMachO(signed)
	blobs, err := parseSuperBlob(signed[f.dataoff:])
	if err != nil {
		t.Fatal(err)
	}
	res, err := verifyCMS(blobs[slotCMS][8:], blobs[slotCodeDirectory])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	root := id.Chain[len(id.Chain)-1]
	run("cms", "-verify", "-binary", "-inform", "DER", "-in", write("cms.der", blobs[slotCMS][8:]),
		"-content", write("cd.bin", blobs[slotCodeDirectory]), "-CAfile", write("root.pem", pemCert(root)),
		"-purpose", "any", "-out", os.DevNull)
	otherCD := bytes.Clone(blobs[slotCodeDirectory])
	otherCD[len(otherCD)-1] ^= 1
	if out, err := exec.Command(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", filepath.Join(dir, "cms.der"),
		"-content", write("other.bin", otherCD), "-CAfile", filepath.Join(dir, "root.pem"), "-purpose", "any", "-out", os.DevNull).CombinedOutput(); err == nil {
		t.Fatalf("openssl accepted the CMS over a different CodeDirectory:\n%s", out)
	}
	run("ts", "-verify", "-token_in", "-in", write("token.der", res.timestamp), "-data", write("sig.bin", res.signature),
		"-CAfile", write("tsa.pem", pemCert(tsaRoot.Cert)))
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func TestVerifyRefusesTeamNotTheSigners(t *testing.T) {
	id := devID(t)
	o := Options{Identifier: "hello", Cert: id.Cert, Key: id.Key}
	cms := func(cd []byte) ([]byte, error) { return signCMS(cd, &o, time.Now(), nil) }
	signed, err := sign(tinyMachO(), "hello", "OTHER00001", 0, emptyRequirements(), cms, 8<<10)
	if err != nil {
		t.Fatal(err)
	}
	want := `the CodeDirectory's team identifier "OTHER00001" is not the signing certificate's team (subject OU) "ABCDE12345"`
	if _, err := Verify(signed); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Verify = %v, want %q", err, want)
	}
}

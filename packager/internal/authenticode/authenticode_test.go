package authenticode_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/authenticode"
	"github.com/tern-agent/tern/packager/internal/testbin"
	"github.com/tern-agent/tern/packager/internal/testpki"
)

const password = "correct horse"

// requireOsslsigncode skips when the signing tool is missing, unless the
// run promised real tools (TERN_TEST_REQUIRE_TOOLS=1, as make test sets).
func requireOsslsigncode(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		if os.Getenv("TERN_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("osslsigncode is required (TERN_TEST_REQUIRE_TOOLS=1): apt-get install osslsigncode")
		}
		t.Skip("osslsigncode not installed (apt-get install osslsigncode); set TERN_TEST_REQUIRE_TOOLS=1 to fail instead")
	}
}

// windowsBinaries are a tiny Go program built for each Windows
// architecture the release ships, with the flags a release uses. "amd64-s-w"
// is built as releases often are, without symbol table or DWARF, so the PE
// ends at its last section instead.
func windowsBinaries(t testing.TB) map[string][]byte {
	t.Helper()
	return map[string][]byte{
		"amd64":     testbin.Hello(t, "windows", "amd64", ""),
		"arm64":     testbin.Hello(t, "windows", "arm64", ""),
		"386":       testbin.Hello(t, "windows", "386", ""),
		"amd64-s-w": testbin.Hello(t, "windows", "amd64", "-s -w"),
	}
}

// sign writes data to dir, signs it and returns the signed bytes and path.
func sign(t testing.TB, data []byte, id *testpki.Identity, o authenticode.Options) ([]byte, string) {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.exe"), filepath.Join(dir, "out.exe")
	if err := os.WriteFile(in, data, 0o755); err != nil {
		t.Fatal(err)
	}
	o.P12, o.Password = id.P12(password), password
	if err := authenticode.Sign(context.Background(), in, out, o); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	signed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return signed, out
}

func osslsigncodeVerify(t *testing.T, exe string, ca *testpki.CA, extra ...string) error {
	t.Helper()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"verify", "-CAfile", caFile}, extra...)
	args = append(args, "-in", exe)
	out, err := exec.Command("osslsigncode", args...).CombinedOutput()
	if err != nil {
		return errors.New(err.Error() + "\n" + string(out))
	}
	return nil
}

func TestSignVerifyStripEveryWindowsArch(t *testing.T) {
	requireOsslsigncode(t)
	ca := testpki.NewCA(t, "tern test root")
	id := ca.Issue(t, testpki.Leaf{CN: "Acme Release Signing", O: "Acme"})
	for variant, unsigned := range windowsBinaries(t) {
		t.Run(variant, func(t *testing.T) {
			if !authenticode.Unsigned(unsigned) {
				t.Fatal("a fresh go build output is not Unsigned")
			}
			start := time.Now()
			signed, path := sign(t, unsigned, id, authenticode.Options{Description: "hello", URL: "https://example.invalid/hello"})
			t.Logf("Sign windows/%s (%d bytes): %v", variant, len(unsigned), time.Since(start))

			if err := osslsigncodeVerify(t, path, ca); err != nil {
				t.Fatalf("osslsigncode verify refused our signature: %v", err)
			}
			sig, err := authenticode.Verify(signed, authenticode.VerifyOptions{
				Roots:             ca.Pool(),
				SignerFingerprint: strings.ToUpper(id.Fingerprint()),
				SignerSubject:     "Acme Release Signing",
			})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !sig.Signer.Equal(id.Cert) || len(sig.Chain) != 2 || sig.Timestamped || sig.SigningTime.IsZero() {
				t.Fatalf("Signature = signer %q, chain %d, timestamped %v, signing time %v", sig.Signer.Subject, len(sig.Chain), sig.Timestamped, sig.SigningTime)
			}
			if authenticode.Unsigned(signed) {
				t.Fatal("Unsigned(signed) = true")
			}
			stripped, err := authenticode.Strip(signed)
			if err != nil {
				t.Fatalf("Strip: %v", err)
			}
			if !bytes.Equal(stripped, unsigned) {
				t.Fatalf("Strip(Sign(x)) != x: %d bytes vs %d", len(stripped), len(unsigned))
			}
			if again, err := authenticode.Strip(unsigned); err != nil || !bytes.Equal(again, unsigned) {
				t.Fatalf("Strip(unsigned) changed it (err %v)", err)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	requireOsslsigncode(t)
	ca := testpki.NewCA(t, "tern test root")
	other := testpki.NewCA(t, "someone else's root")
	good := ca.Issue(t, testpki.Leaf{CN: "Acme Release Signing"})
	unsigned := windowsBinaries(t)["amd64"]
	signed, _ := sign(t, unsigned, good, authenticode.Options{})

	// The RSA signature ends the PKCS#7, which starts 8 bytes into the
	// certificate table that follows the (512-aligned) Go binary.
	badSignature := bytes.Clone(signed)
	var pkcs7 asn1.RawValue
	if _, err := asn1.Unmarshal(signed[len(unsigned)+8:], &pkcs7); err != nil {
		t.Fatal(err)
	}
	badSignature[len(unsigned)+8+len(pkcs7.FullBytes)-1] ^= 0x01

	flipped := bytes.Clone(signed)
	flipped[len(unsigned)/2] ^= 0x01 // inside .text or .rdata, after signing
	byOther, _ := sign(t, unsigned, other.Issue(t, testpki.Leaf{CN: "Acme Release Signing"}), authenticode.Options{})
	expired, expiredPath := sign(t, unsigned, ca.Issue(t, testpki.Leaf{CN: "Acme Release Signing", Expired: true}), authenticode.Options{})
	byNotCodeSigning, _ := sign(t, unsigned, ca.Issue(t, testpki.Leaf{CN: "Acme Release Signing", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}), authenticode.Options{})

	cases := []struct {
		name    string
		data    []byte
		opts    authenticode.VerifyOptions
		wantErr error
		wantMsg string
	}{
		{"byte flipped after signing", flipped, authenticode.VerifyOptions{}, authenticode.ErrDigestMismatch, "the file changed after signing"},
		{"signature bytes altered", badSignature, authenticode.VerifyOptions{}, authenticode.ErrBadSignature, "signature by \"Acme Release Signing\" over its signed attributes"},
		{"signed under another CA", byOther, authenticode.VerifyOptions{}, authenticode.ErrUntrusted, "unknown authority"},
		{"unsigned", unsigned, authenticode.VerifyOptions{}, authenticode.ErrUnsigned, "unsigned"},
		{"expired, no timestamp", expired, authenticode.VerifyOptions{}, authenticode.ErrUntrusted, "expired"},
		{"not a code-signing certificate", byNotCodeSigning, authenticode.VerifyOptions{}, authenticode.ErrUntrusted, "incompatible key usage"},
		{"another signer than configured", signed, authenticode.VerifyOptions{SignerFingerprint: other.Issue(t, testpki.Leaf{}).Fingerprint()}, authenticode.ErrWrongSigner, "fingerprint"},
		{"another subject than configured", signed, authenticode.VerifyOptions{SignerSubject: "Mallory"}, authenticode.ErrWrongSigner, `configured signer is "Mallory"`},
		{"not a PE", []byte("#!/bin/sh\necho hi\n"), authenticode.VerifyOptions{}, authenticode.ErrNotPE, "MZ"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Roots = ca.Pool()
			_, err := authenticode.Verify(tc.data, tc.opts)
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v\nwant %v containing %q", err, tc.wantErr, tc.wantMsg)
			}
			t.Logf("refused: %v", err)
		})
	}

	// osslsigncode agrees on the refusals a user could reproduce by hand.
	if err := osslsigncodeVerify(t, expiredPath, ca); err == nil {
		t.Error("osslsigncode verify accepted the expired certificate: the test no longer proves what it claims")
	}
}

func TestTimestamp(t *testing.T) {
	requireOsslsigncode(t)
	ca := testpki.NewCA(t, "tern test root")
	// testpki's stand-in RFC 3161 authorities, vouching for the time "now"
	// returns, with a certificate that predates the expired signers'.
	tsaLeaf := testpki.Leaf{NotBefore: time.Now().Add(-96 * time.Hour)}
	startTSA := func(t *testing.T, ca *testpki.CA, now func() time.Time) *testpki.TSA {
		return ca.NewTSA(t, testpki.TSAOptions{Now: now, Leaf: tsaLeaf})
	}
	tsa := startTSA(t, ca, time.Now)
	unsigned := windowsBinaries(t)["arm64"]

	t.Run("current certificate", func(t *testing.T) {
		id := ca.Issue(t, testpki.Leaf{CN: "Acme Release Signing"})
		signed, path := sign(t, unsigned, id, authenticode.Options{TSAURL: tsa.URL})
		sig, err := authenticode.Verify(signed, authenticode.VerifyOptions{Roots: ca.Pool()})
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !sig.Timestamped || !sig.TSA.Equal(tsa.Identity.Cert) || time.Since(sig.TimestampTime) > time.Minute {
			t.Fatalf("timestamp not seen: timestamped %v at %v", sig.Timestamped, sig.TimestampTime)
		}
		if err := osslsigncodeVerify(t, path, ca, "-TSA-CAfile", writeTemp(t, ca.PEM)); err != nil {
			t.Fatalf("osslsigncode verify refused the timestamped signature: %v", err)
		}
		if stripped, err := authenticode.Strip(signed); err != nil || !bytes.Equal(stripped, unsigned) {
			t.Fatalf("Strip(timestamped) != unsigned (err %v)", err)
		}
	})

	t.Run("expired certificate, stamped while valid", func(t *testing.T) {
		id := ca.Issue(t, testpki.Leaf{CN: "Acme Release Signing", Expired: true})
		whileValid := func() time.Time { return id.Cert.NotBefore.Add(time.Hour) }
		signed, _ := sign(t, unsigned, id, authenticode.Options{TSAURL: startTSA(t, ca, whileValid).URL})
		sig, err := authenticode.Verify(signed, authenticode.VerifyOptions{Roots: ca.Pool()})
		if err != nil {
			t.Fatalf("Verify refused a signature timestamped while its certificate was valid: %v", err)
		}
		if !sig.TimestampTime.Equal(whileValid()) {
			t.Fatalf("TimestampTime = %v, want %v", sig.TimestampTime, whileValid())
		}
	})

	t.Run("expired certificate, stamped after expiry", func(t *testing.T) {
		id := ca.Issue(t, testpki.Leaf{CN: "Acme Release Signing", Expired: true})
		signed, _ := sign(t, unsigned, id, authenticode.Options{TSAURL: tsa.URL})
		_, err := authenticode.Verify(signed, authenticode.VerifyOptions{Roots: ca.Pool()})
		if !errors.Is(err, authenticode.ErrUntrusted) || !strings.Contains(err.Error(), "at its timestamp") {
			t.Fatalf("err = %v, want ErrUntrusted at its timestamp", err)
		}
	})

	t.Run("TSA under another root", func(t *testing.T) {
		id := ca.Issue(t, testpki.Leaf{CN: "Acme Release Signing"})
		rogue := testpki.NewCA(t, "rogue").NewTSA(t, testpki.TSAOptions{Leaf: testpki.Leaf{CN: "rogue TSA"}})
		signed, _ := sign(t, unsigned, id, authenticode.Options{TSAURL: rogue.URL})
		_, err := authenticode.Verify(signed, authenticode.VerifyOptions{Roots: ca.Pool()})
		if !errors.Is(err, authenticode.ErrBadTimestamp) || !strings.Contains(err.Error(), "rogue TSA") {
			t.Fatalf("err = %v, want ErrBadTimestamp naming the rogue TSA", err)
		}
	})
}

func TestSignIsDeterministicWithSigningTime(t *testing.T) {
	requireOsslsigncode(t)
	id := testpki.NewCA(t, "tern test root").Issue(t, testpki.Leaf{})
	unsigned := windowsBinaries(t)["amd64"]
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	first, _ := sign(t, unsigned, id, authenticode.Options{SigningTime: at})
	second, _ := sign(t, unsigned, id, authenticode.Options{SigningTime: at})
	if !bytes.Equal(first, second) {
		t.Fatal("two signatures with the same key, input and SigningTime differ")
	}
	sig, err := authenticode.Verify(first, authenticode.VerifyOptions{Roots: id.CA.Pool()})
	if err != nil || !sig.SigningTime.Equal(at) {
		t.Fatalf("SigningTime = %v (err %v), want %v", sig, err, at)
	}
}

func TestSignWithEmptyPassword(t *testing.T) {
	requireOsslsigncode(t)
	id := testpki.NewCA(t, "tern test root").Issue(t, testpki.Leaf{})
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.exe"), filepath.Join(dir, "out.exe")
	if err := os.WriteFile(in, windowsBinaries(t)["arm64"], 0o755); err != nil {
		t.Fatal(err)
	}
	if err := authenticode.Sign(context.Background(), in, out, authenticode.Options{P12: id.P12("")}); err != nil {
		t.Fatalf("Sign with a PKCS#12 without password: %v", err)
	}
	info, err := os.Stat(out)
	if err != nil || info.Mode().Perm() != 0o755 {
		t.Fatalf("signed file mode = %v (err %v), want the input's 0755", info.Mode(), err)
	}
}

func TestSignRefuses(t *testing.T) {
	requireOsslsigncode(t)
	id := testpki.NewCA(t, "tern test root").Issue(t, testpki.Leaf{})
	unsigned := windowsBinaries(t)["amd64"]
	_, signedPath := sign(t, unsigned, id, authenticode.Options{})
	dir := t.TempDir()
	unsignedPath := filepath.Join(dir, "in.exe")
	if err := os.WriteFile(unsignedPath, unsigned, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, in string
		opts     authenticode.Options
		wantMsg  string
	}{
		{"already signed", signedPath, authenticode.Options{P12: id.P12(password), Password: password}, "already signed"},
		{"wrong password", unsignedPath, authenticode.Options{P12: id.P12(password), Password: "wrong"}, "WINDOWS_SIGN_PASSWORD"},
		{"no identity", unsignedPath, authenticode.Options{}, "WINDOWS_SIGN_P12"},
		{"tool missing", unsignedPath, authenticode.Options{P12: id.P12(password), Password: password, Tool: "osslsigncode-not-installed"}, "apt-get install osslsigncode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.exe")
			err := authenticode.Sign(context.Background(), tc.in, out, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantMsg)
			}
			if _, statErr := os.Stat(out); statErr == nil {
				t.Fatal("a failed Sign left its output behind")
			}
		})
	}
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.pem")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// BenchmarkSign times Sign of one binary: AUTHENTICODE_BENCH_BINARY (a
// release's .exe), else the tiny amd64 one.
func BenchmarkSign(b *testing.B) {
	if _, err := exec.LookPath("osslsigncode"); err != nil {
		b.Skip("osslsigncode is not installed")
	}
	data := windowsBinaries(b)["amd64"]
	if p := os.Getenv("AUTHENTICODE_BENCH_BINARY"); p != "" {
		var err error
		if data, err = os.ReadFile(p); err != nil {
			b.Fatal(err)
		}
	}
	id := testpki.NewCA(b, "bench root").Issue(b, testpki.Leaf{CN: "bench"})
	dir := b.TempDir()
	in, out := filepath.Join(dir, "in.exe"), filepath.Join(dir, "out.exe")
	if err := os.WriteFile(in, data, 0o755); err != nil {
		b.Fatal(err)
	}
	o := authenticode.Options{P12: id.P12(password), Password: password}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		os.Remove(out)
		if err := authenticode.Sign(context.Background(), in, out, o); err != nil {
			b.Fatal(err)
		}
	}
}

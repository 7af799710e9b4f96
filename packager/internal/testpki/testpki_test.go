package testpki_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/tern-agent/tern/packager/internal/testpki"
)

func TestIssueChainsToItsRootOnly(t *testing.T) {
	root := testpki.NewCA(t, "tern test root")
	inter := root.Intermediate(t, "tern test intermediate")
	other := testpki.NewCA(t, "another root")
	codeSigning := []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}

	cases := []struct {
		name    string
		ca      *testpki.CA
		leaf    testpki.Leaf
		roots   *x509.CertPool
		wantErr string
	}{
		{"leaf of root", root, testpki.Leaf{}, root.Pool(), ""},
		{"leaf of intermediate", inter, testpki.Leaf{CN: "Developer ID Application: Acme (ABCDE12345)", OU: "ABCDE12345"}, inter.Pool(), ""},
		{"another CA", other, testpki.Leaf{}, root.Pool(), "unknown authority"},
		{"expired", root, testpki.Leaf{Expired: true}, root.Pool(), "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.ca.Issue(t, tc.leaf)
			inters := x509.NewCertPool()
			for _, c := range id.Chain {
				inters.AddCert(c)
			}
			_, err := id.Cert.Verify(x509.VerifyOptions{Roots: tc.roots, Intermediates: inters, KeyUsages: codeSigning})
			if tc.wantErr == "" && err != nil {
				t.Fatalf("chain refused: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestSubjectCarriesTeamIdentifier(t *testing.T) {
	id := testpki.NewCA(t, "root").Issue(t, testpki.Leaf{CN: "Developer ID Application: Acme (ABCDE12345)", OU: "ABCDE12345"})
	if got := id.Cert.Subject.OrganizationalUnit; len(got) != 1 || got[0] != "ABCDE12345" {
		t.Fatalf("OU = %v, want [ABCDE12345]", got)
	}
	if id.Cert.NotAfter.Before(time.Now()) {
		t.Fatal("a default leaf is already expired")
	}
}

func TestP12RoundTrips(t *testing.T) {
	root := testpki.NewCA(t, "root")
	id := root.Intermediate(t, "inter").Issue(t, testpki.Leaf{})
	for name, data := range map[string][]byte{"modern": id.P12("pw"), "legacy": id.P12Legacy("pw")} {
		key, cert, cas, err := pkcs12.DecodeChain(data, "pw")
		if err != nil {
			t.Fatalf("%s: decoding: %v", name, err)
		}
		if !cert.Equal(id.Cert) || key == nil || len(cas) != 1 {
			t.Fatalf("%s: got cert %v, key %v, %d CA certs; want the leaf, its key, 1 intermediate", name, cert.Subject, key != nil, len(cas))
		}
	}
	// OpenSSL is what osslsigncode reads PKCS#12 with.
	if _, err := exec.LookPath("openssl"); err == nil {
		files := id.Write(t, t.TempDir(), "pw")
		out, err := exec.Command("openssl", "pkcs12", "-in", files.P12, "-passin", "pass:pw", "-noout").CombinedOutput()
		if err != nil {
			t.Fatalf("openssl pkcs12 refused %s: %v\n%s", files.P12, err, out)
		}
	}
}

func TestTSAStampsWithItsCAsCertificate(t *testing.T) {
	ca := testpki.NewCA(t, "root")
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tsa := ca.NewTSA(t, testpki.TSAOptions{Now: func() time.Time { return at }})
	sum := sha256.Sum256([]byte("a signature"))
	query, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Certificates: true}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Post(tsa.URL, "application/octet-stream", bytes.NewReader(query)); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a query without its content type: %v %v, want 400", resp, err)
	}
	resp, err := http.Post(tsa.URL, "application/timestamp-query", bytes.NewReader(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		t.Fatalf("parsing the reply: %v", err)
	}
	if !ts.Time.Equal(at) || !bytes.Equal(ts.HashedMessage, sum[:]) || len(ts.Certificates) == 0 || !ts.Certificates[0].Equal(tsa.Identity.Cert) {
		t.Fatalf("timestamp = %v over %x by %v, want %v over %x by the TSA", ts.Time, ts.HashedMessage, ts.Certificates, at, sum)
	}
	if _, err := tsa.Identity.Cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		t.Fatalf("the TSA's certificate does not chain to its CA: %v", err)
	}
	if tsa.Requests() != 1 {
		t.Errorf("Requests = %d, want 1 (the refused query does not count)", tsa.Requests())
	}
}

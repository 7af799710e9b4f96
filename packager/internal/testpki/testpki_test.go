package testpki_test

import (
	"crypto/x509"
	"os/exec"
	"strings"
	"testing"
	"time"

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

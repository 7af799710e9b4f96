package sign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestGitHubActionsToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "bearer request-token" || r.URL.Query().Get("audience") != "sigstore" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"value": "the-oidc-token"})
	}))
	defer srv.Close()

	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": srv.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token"}
	tok, err := githubToken(context.Background(), func(k string) string { return env[k] }, srv.Client())
	if err != nil || tok != "the-oidc-token" {
		t.Fatalf("token = %q, %v", tok, err)
	}

	env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "wrong"
	if _, err := githubToken(context.Background(), func(k string) string { return env[k] }, srv.Client()); err == nil || !strings.Contains(err.Error(), "id-token: write") {
		t.Fatalf("a refused token request: %v", err)
	}
	if _, err := githubToken(context.Background(), func(string) string { return "" }, srv.Client()); err == nil || !strings.Contains(err.Error(), "COSIGN_KEY") {
		t.Fatalf("outside Actions: %v", err)
	}
}

// fakeFulcio issues a certificate for the public key in the request, with
// the identity the test expects, from a throw-away CA: what Fulcio does for a
// GitHub Actions token.
func fakeFulcio(t *testing.T, identity string) *httptest.Server {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake fulcio"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/signingCert" || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey") {
			http.Error(w, "unexpected request "+r.URL.Path, http.StatusBadRequest)
			return
		}
		var req struct {
			PublicKeyRequest struct {
				PublicKey struct{ Content string } `json:"publicKey"`
			} `json:"publicKeyRequest"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		block, _ := pem.Decode([]byte(req.PublicKeyRequest.PublicKey.Content))
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		u, _ := url.Parse(identity)
		leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), URIs: []*url.URL{u}, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(10 * time.Minute)}
		leaf, _ := x509.CreateCertificate(rand.Reader, leafTmpl, ca, pub, caKey)
		enc := func(der []byte) string {
			return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		}
		json.NewEncoder(w).Encode(map[string]any{
			"signedCertificateEmbeddedSct": map[string]any{"chain": map[string]any{"certificates": []string{enc(leaf), enc(caDER)}}},
		})
	}))
}

func TestKeylessSigningGetsACertificateForTheIdentity(t *testing.T) {
	identity := "https://github.com/tern-agent/tern/.github/workflows/release.yml@refs/tags/v1.2.3"
	fulcio := fakeFulcio(t, identity)
	defer fulcio.Close()
	token := func(context.Context) (string, error) { return fakeJWT(identity), nil }

	raw, err := Keyless(context.Background(), []byte("sums"), token, fulcio.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		MediaType            string
		VerificationMaterial struct {
			Certificate struct{ RawBytes []byte }
		}
		MessageSignature struct{ Signature []byte }
	}
	if err := json.Unmarshal(raw, &bundle); err != nil {
		t.Fatal(err)
	}
	if bundle.MediaType != "application/vnd.dev.sigstore.bundle.v0.3+json" || len(bundle.MessageSignature.Signature) == 0 {
		t.Fatalf("not a signed v0.3 bundle: %s", raw)
	}
	cert, err := x509.ParseCertificate(bundle.VerificationMaterial.Certificate.RawBytes)
	if err != nil {
		t.Fatalf("the bundle carries no certificate: %v\n%s", err, raw)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != identity {
		t.Fatalf("certificate identity %v, want %s", cert.URIs, identity)
	}
}

func TestLoadCosignKeyRoundTrip(t *testing.T) {
	priv, pub, err := GenerateCosignKey([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := LoadCosignKey(string(priv), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := PublicKeyPEM(&k.PublicKey)
	if string(got) != string(pub) {
		t.Fatalf("the loaded key is not the generated one")
	}
	if _, err := LoadCosignKey("/nonexistent/cosign.key", nil); err == nil || !strings.Contains(err.Error(), "reading the signing key") {
		t.Fatalf("a missing key file: %v", err)
	}
}

// fakeJWT is an unsigned token shaped like GitHub's: Fulcio checks the
// signature, the client only reads the subject.
func fakeJWT(subject string) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." +
		enc(map[string]any{"sub": subject, "iss": "https://token.actions.githubusercontent.com", "aud": "sigstore"}) + ".c2ln"
}

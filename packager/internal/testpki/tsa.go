package testpki

import (
	"crypto/x509"
	"encoding/asn1"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

// TSA is a stand-in RFC 3161 time-stamp authority on 127.0.0.1, with a
// certificate issued by the CA that started it. It answers every request
// that parses as a time-stamp query, as a public TSA does; what makes a
// timestamp trusted or not is its chain, so a test that wants a rogue one
// starts it from another CA.
type TSA struct {
	// URL is what a signer is given: codesign.Options.TSAURL,
	// authenticode.Options.TSAURL, MACOS_SIGN_TSA_URL, WINDOWS_SIGN_TSA_URL.
	URL string
	// Identity is the TSA's certificate (time stamping only, critical, as
	// RFC 3161 §2.3 wants) and key.
	Identity *Identity

	now      func() time.Time
	mu       sync.Mutex
	requests int
}

// TSAOptions are the rarer wishes of a timestamp test.
type TSAOptions struct {
	// Now is the time the TSA vouches for, to the second; time.Now when nil.
	// A fixed instant lets a test compare what a verifier reads back.
	Now func() time.Time
	// Leaf describes the TSA's certificate; its CN defaults to
	// "tern test TSA", and its ExtKeyUsage is always time stamping.
	Leaf Leaf
}

// policyOID is a private-arc policy: RFC 3161 wants one, no verifier here
// checks which.
var policyOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}

// StartTSA starts a TSA issued by ca that vouches for the current time and
// returns its URL. It stops when the test ends.
func (ca *CA) StartTSA(t testing.TB) string {
	t.Helper()
	return ca.NewTSA(t, TSAOptions{}).URL
}

// NewTSA is StartTSA with options, returning the TSA itself.
func (ca *CA) NewTSA(t testing.TB, o TSAOptions) *TSA {
	t.Helper()
	if o.Leaf.CN == "" {
		o.Leaf.CN = "tern test TSA"
	}
	o.Leaf.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &TSA{Identity: ca.Issue(t, o.Leaf), now: o.Now}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests is how many time-stamp queries the TSA answered.
func (s *TSA) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *TSA) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// RFC 3161 §3.4: a query is POSTed as application/timestamp-query;
	// codesign and osslsigncode both say so, and a client that does not
	// would fail at a real TSA too.
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
		http.Error(w, "want a POST of application/timestamp-query", http.StatusBadRequest)
		return
	}
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              s.now().UTC().Truncate(time.Second),
		Nonce:             req.Nonce,
		Policy:            policyOID,
		AddTSACertificate: req.Certificates,
	}
	resp, err := ts.CreateResponse(s.Identity.Cert, s.Identity.Key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(resp)
}

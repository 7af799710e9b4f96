package notary

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// standIn plays Apple's Notary API and the S3 bucket behind it on
// 127.0.0.1. It checks what Apple and S3 would check: the JWT's signature
// and claims, the SigV4 Authorization header and session token, and that
// the uploaded bytes hash to the sha256 announced at submission.
type standIn struct {
	t             *testing.T
	trusted       *ecdsa.PublicKey
	keyID, issuer string
	api, s3       *httptest.Server

	mu       sync.Mutex
	statuses []string         // answered by successive status GETs; the last repeats
	fail     map[string][]int // route → status codes answered before serving it
	logJSON  string
	calls    map[string]int
	sub      *standInSubmission
}

type standInSubmission struct {
	id, name, sha256 string
	uploaded         []byte
}

const (
	standInID     = "2efe2717-52ef-43a5-96dc-0797e4ca1041"
	standInBucket = "notary-submissions-prod"
	// A colon, as in Apple's real object keys, exercises the key encoding.
	standInObject = "prod/AROARQRX7CZS3PRF6ZA5L:" + standInID
	standInAK     = "ASIAEXAMPLEACCESSKEY"
	standInSK     = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	standInToken  = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN"
)

func newStandIn(t *testing.T, creds Credentials) *standIn {
	s := &standIn{
		t: t, trusted: &creds.Key.PublicKey, keyID: creds.KeyID, issuer: creds.IssuerID,
		statuses: []string{StatusAccepted}, fail: map[string][]int{}, calls: map[string]int{},
		logJSON: `{"logFormatVersion":1,"jobId":"` + standInID + `","status":"Accepted","statusSummary":"Ready for distribution","statusCode":0,"issues":null}`,
	}
	s.api = httptest.NewServer(http.HandlerFunc(s.serveAPI))
	t.Cleanup(s.api.Close)
	s.s3 = httptest.NewServer(http.HandlerFunc(s.serveS3))
	t.Cleanup(s.s3.Close)
	return s
}

// client is a Client pointed at the stand-in, with test-sized waits.
func (s *standIn) client(creds Credentials) *Client {
	return &Client{
		Credentials: creds,
		BaseURL:     s.api.URL,
		S3Endpoint:  func(bucket string) string { return s.s3.URL + "/" + bucket },
		HTTP:        s.api.Client(),
		Poll:        time.Millisecond,
		Timeout:     5 * time.Second,
		Backoff:     time.Millisecond,
	}
}

func (s *standIn) count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[route]
}

// injected answers a queued failure for route, if any.
func (s *standIn) injected(w http.ResponseWriter, route string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[route]++
	q := s.fail[route]
	if len(q) == 0 {
		return false
	}
	s.fail[route] = q[1:]
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(q[0])
	fmt.Fprintf(w, `{"errors":[{"status":"%d","code":"UNEXPECTED_ERROR","title":"An unexpected error occurred.","detail":"injected by the stand-in"}]}`, q[0])
	return true
}

var statusPath = regexp.MustCompile(`^/notary/v2/submissions/([^/]+)(/logs)?$`)

func (s *standIn) serveAPI(w http.ResponseWriter, r *http.Request) {
	if problem := s.checkJWT(r.Header.Get("Authorization")); problem != "" {
		s.mu.Lock()
		s.calls["unauthorized"]++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		// Apple's answer to a bad token, word for word.
		io.WriteString(w, `{"errors":[{"status":"401","code":"NOT_AUTHORIZED","title":"Authentication credentials are missing or invalid.","detail":"Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens"}]}`)
		s.t.Logf("stand-in refused a token: %s", problem)
		return
	}
	switch m := statusPath.FindStringSubmatch(r.URL.Path); {
	case r.Method == http.MethodPost && r.URL.Path == "/notary/v2/submissions":
		s.submit(w, r)
	case r.Method == http.MethodGet && m != nil && m[2] == "":
		s.status(w, m[1])
	case r.Method == http.MethodGet && m != nil:
		s.logs(w, m[1])
	default:
		http.Error(w, `{"errors":[{"status":"404","code":"NOT_FOUND"}]}`, http.StatusNotFound)
	}
}

func (s *standIn) submit(w http.ResponseWriter, r *http.Request) {
	if s.injected(w, "submit") {
		return
	}
	var req struct {
		SubmissionName string `json:"submissionName"`
		SHA256         string `json:"sha256"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.SubmissionName == "" || len(req.SHA256) != 64 {
		w.WriteHeader(http.StatusUnprocessableEntity)
		io.WriteString(w, `{"errors":[{"status":"422","code":"ENTITY_UNPROCESSABLE","title":"submissionName and sha256 are required"}]}`)
		return
	}
	s.mu.Lock()
	s.sub = &standInSubmission{id: standInID, name: req.SubmissionName, sha256: req.SHA256}
	s.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{
		"data": map[string]any{
			"id":   standInID,
			"type": "newSubmissions",
			"attributes": map[string]string{
				"awsAccessKeyId": standInAK, "awsSecretAccessKey": standInSK, "awsSessionToken": standInToken,
				"bucket": standInBucket, "object": standInObject,
			},
		},
		"meta": map[string]any{},
	})
}

func (s *standIn) status(w http.ResponseWriter, id string) {
	if s.injected(w, "status") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sub == nil || id != s.sub.id {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errors":[{"status":"404","code":"NOT_FOUND","title":"The specified resource does not exist"}]}`)
		return
	}
	status := s.statuses[0]
	if s.sub.uploaded == nil {
		s.t.Errorf("status polled before the upload arrived")
	}
	if len(s.statuses) > 1 {
		s.statuses = s.statuses[1:]
	}
	fmt.Fprintf(w, `{"data":{"attributes":{"createdDate":"2026-11-23T01:38:09.498Z","name":%q,"status":%q},"id":%q,"type":"submissions"},"meta":{}}`, s.sub.name, status, id)
}

func (s *standIn) logs(w http.ResponseWriter, id string) {
	if s.injected(w, "logs") {
		return
	}
	fmt.Fprintf(w, `{"data":{"attributes":{"developerLogUrl":%q},"id":%q,"type":"submissionsLog"},"meta":{}}`, s.s3.URL+"/developer-logs/"+id+"?X-Amz-Signature=presigned", id)
}

func (s *standIn) serveS3(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/developer-logs/") {
		s.mu.Lock()
		s.calls["log"]++
		s.mu.Unlock()
		if r.Header.Get("Authorization") != "" {
			s.t.Errorf("the developer log's pre-signed URL got an Authorization header: the Apple token leaked")
		}
		io.WriteString(w, s.logJSON)
		return
	}
	if s.injected(w, "upload") {
		return
	}
	body, _ := io.ReadAll(r.Body)
	s3Error := func(code, msg string) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
		s.t.Errorf("stand-in S3 refused the upload: %s: %s", code, msg)
	}
	if r.Method != http.MethodPut || r.URL.Path != "/"+standInBucket+"/"+standInObject {
		s3Error("NoSuchKey", r.Method+" "+r.URL.Path)
		return
	}
	auth := r.Header.Get("Authorization")
	wantScope := regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=` + standInAK + `/\d{8}/us-west-2/s3/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$`)
	m := wantScope.FindStringSubmatch(auth)
	if m == nil {
		s3Error("AuthorizationHeaderMalformed", auth)
		return
	}
	for _, h := range []string{"host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"} {
		if !strings.Contains(";"+m[1]+";", ";"+h+";") {
			s3Error("AccessDenied", "unsigned header "+h)
			return
		}
	}
	if r.Header.Get("X-Amz-Security-Token") != standInToken {
		s3Error("InvalidToken", "wrong session token")
		return
	}
	sum := sha256.Sum256(body)
	got := hex.EncodeToString(sum[:])
	if r.Header.Get("X-Amz-Content-Sha256") != got {
		s3Error("XAmzContentSHA256Mismatch", "header does not match the body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sub == nil || got != s.sub.sha256 {
		s3Error("BadDigest", "upload's sha256 is not the submission's")
		return
	}
	s.sub.uploaded = body
}

// checkJWT verifies a bearer token as App Store Connect does, written
// apart from jwt.go so a shared mistake cannot pass.
func (s *standIn) checkJWT(authz string) string {
	tok, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok {
		return "no bearer token"
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "not three parts"
	}
	dec := func(p string) []byte { b, _ := base64.RawURLEncoding.DecodeString(p); return b }
	var header struct{ Alg, Kid, Typ string }
	if json.Unmarshal(dec(parts[0]), &header) != nil || header.Alg != "ES256" || header.Typ != "JWT" || header.Kid != s.keyID {
		return fmt.Sprintf("bad header %s", dec(parts[0]))
	}
	sig := dec(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(s.trusted, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return "bad signature"
	}
	var claims struct {
		Iss      string
		Aud      string
		Iat, Exp int64
	}
	if json.Unmarshal(dec(parts[1]), &claims) != nil {
		return "claims are not JSON"
	}
	now := time.Now().Unix()
	switch {
	case claims.Iss != s.issuer:
		return "wrong iss " + claims.Iss
	case claims.Aud != "appstoreconnect-v1":
		return "wrong aud " + claims.Aud
	case claims.Exp <= now || claims.Iat > now+60:
		return "expired or from the future"
	case claims.Exp-claims.Iat > 20*60:
		return "lives longer than 20 minutes"
	}
	return ""
}

// Package notarytest plays Apple's Notary API and the S3 bucket behind it
// on 127.0.0.1, for the notary client's own tests and for release tests
// that notarize end to end without Apple.
//
// It checks what Apple and S3 would check: the JWT's signature and claims,
// the SigV4 Authorization header and session token, and that the uploaded
// bytes hash to the sha256 announced at submission. A refusal fails the
// test that started it, as a real refusal would fail the release.
//
// Only tests import it. It must not import the notary package (notary's
// own tests import it), so it speaks the wire format, not notary's types.
package notarytest

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

// Apple's spellings of a submission's status.
const (
	InProgress = "In Progress"
	Accepted   = "Accepted"
	Invalid    = "Invalid"
	Rejected   = "Rejected"
)

// The routes Options.FailFirst and Server.Count name.
const (
	RouteSubmit = "submit" // POST /notary/v2/submissions
	RouteUpload = "upload" // PUT to S3
	RouteStatus = "status" // GET /notary/v2/submissions/{id}
	RouteLogs   = "logs"   // GET /notary/v2/submissions/{id}/logs
	// Counted only: the developer log's download, and refused tokens.
	RouteLog          = "log"
	RouteUnauthorized = "unauthorized"
)

// FirstID is the id of the first submission; the next ones count up from
// it in the last group.
const FirstID = "2efe2717-52ef-43a5-96dc-0797e4ca1041"

// Bucket is the S3 bucket every upload goes to, as Apple's answer names it.
const Bucket = "notary-submissions-prod"

// Object is the S3 object key of submission id. Its colon, as in Apple's
// real keys, exercises the client's key encoding.
func Object(id string) string { return "prod/AROARQRX7CZS3PRF6ZA5L:" + id }

// The temporary AWS credentials handed out with every submission.
const (
	accessKey    = "ASIAEXAMPLEACCESSKEY"
	secretKey    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessionToken = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN"
)

// Options say whom the stand-in trusts and what it answers.
type Options struct {
	// Key, KeyID and IssuerID are the App Store Connect API key a token
	// must be signed with and name; anything else gets Apple's 401.
	Key             *ecdsa.PublicKey
	KeyID, IssuerID string
	// Verdict is every submission's final status: Accepted (the default),
	// Invalid, Rejected, or InProgress for one that never ends.
	Verdict string
	// InProgress is how many status polls of each submission answer
	// "In Progress" before the verdict.
	InProgress int
	// Summary is the developer log's statusSummary; Apple's wording for
	// the verdict when empty.
	Summary string
	// Issues are listed in every submission's developer log.
	Issues []Issue
	// FailFirst queues HTTP status codes by route (RouteSubmit, ...): the
	// route answers them, one per request, before serving normally.
	FailFirst map[string][]int
}

// Issue is one finding of a developer log, as Apple writes it.
type Issue struct {
	Severity     string // "error" or "warning"
	Path         string // e.g. tern.zip/tern
	Message      string
	DocURL       string // null in the log when empty
	Architecture string
}

// Submission is what the stand-in saw of one submission.
type Submission struct {
	ID, Name, SHA256 string
	// Uploaded is the body S3 accepted; nil if none arrived.
	Uploaded []byte
	// Polls is how many times its status was asked.
	Polls int
}

// Server is a running stand-in, stopped when the test ends.
type Server struct {
	// URL is the Notary API's origin: notary.Client.BaseURL, MACOS_NOTARY_URL.
	URL string
	// S3URL is the S3 origin, path style: the bucket is its first path
	// segment (notary.Client.S3Endpoint returns S3URL+"/"+bucket),
	// MACOS_NOTARY_S3_URL.
	S3URL string

	t    testing.TB
	o    Options
	mu   sync.Mutex
	subs []*Submission
	fail map[string][]int
	hits map[string]int
}

// Start starts the stand-in.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Key == nil || o.KeyID == "" || o.IssuerID == "" {
		t.Fatal("notarytest.Start: Options needs the Key, KeyID and IssuerID tokens are checked against")
	}
	if o.Verdict == "" {
		o.Verdict = Accepted
	}
	s := &Server{t: t, o: o, fail: map[string][]int{}, hits: map[string]int{}}
	for route, codes := range o.FailFirst {
		s.fail[route] = append([]int(nil), codes...)
	}
	api := httptest.NewServer(http.HandlerFunc(s.serveAPI))
	t.Cleanup(api.Close)
	s3 := httptest.NewServer(http.HandlerFunc(s.serveS3))
	t.Cleanup(s3.Close)
	s.URL, s.S3URL = api.URL, s3.URL
	return s
}

// Count is how many requests route got, failed ones included.
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[route]
}

// Submissions are the submissions made so far, in order.
func (s *Server) Submissions() []Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Submission, len(s.subs))
	for i, sub := range s.subs {
		out[i] = *sub
	}
	return out
}

// injected counts a request to route and answers a queued failure, if any.
func (s *Server) injected(w http.ResponseWriter, route string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits[route]++
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

// find returns submission id; the caller holds mu.
func (s *Server) find(id string) *Submission {
	for _, sub := range s.subs {
		if sub.ID == id {
			return sub
		}
	}
	return nil
}

var statusPath = regexp.MustCompile(`^/notary/v2/submissions/([^/]+)(/logs)?$`)

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if problem := s.checkJWT(r.Header.Get("Authorization")); problem != "" {
		s.mu.Lock()
		s.hits[RouteUnauthorized]++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		// Apple's answer to a bad token, word for word.
		io.WriteString(w, `{"errors":[{"status":"401","code":"NOT_AUTHORIZED","title":"Authentication credentials are missing or invalid.","detail":"Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens"}]}`)
		s.t.Logf("notary stand-in refused a token: %s", problem)
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

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	if s.injected(w, RouteSubmit) {
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
	id := FirstID
	if n := len(s.subs); n > 0 {
		id = fmt.Sprintf("%s%012x", FirstID[:24], 0x0797e4ca1041+n)
	}
	s.subs = append(s.subs, &Submission{ID: id, Name: req.SubmissionName, SHA256: req.SHA256})
	s.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{
		"data": map[string]any{
			"id":   id,
			"type": "newSubmissions",
			"attributes": map[string]string{
				"awsAccessKeyId": accessKey, "awsSecretAccessKey": secretKey, "awsSessionToken": sessionToken,
				"bucket": Bucket, "object": Object(id),
			},
		},
		"meta": map[string]any{},
	})
}

func (s *Server) status(w http.ResponseWriter, id string) {
	if s.injected(w, RouteStatus) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.find(id)
	if sub == nil {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errors":[{"status":"404","code":"NOT_FOUND","title":"The specified resource does not exist"}]}`)
		return
	}
	if sub.Uploaded == nil {
		s.t.Errorf("notary stand-in: submission %s polled before its upload arrived", id)
	}
	status := s.o.Verdict
	if sub.Polls < s.o.InProgress {
		status = InProgress
	}
	sub.Polls++
	fmt.Fprintf(w, `{"data":{"attributes":{"createdDate":"2026-11-23T01:38:09.498Z","name":%q,"status":%q},"id":%q,"type":"submissions"},"meta":{}}`, sub.Name, status, id)
}

func (s *Server) logs(w http.ResponseWriter, id string) {
	if s.injected(w, RouteLogs) {
		return
	}
	fmt.Fprintf(w, `{"data":{"attributes":{"developerLogUrl":%q},"id":%q,"type":"submissionsLog"},"meta":{}}`, s.S3URL+"/developer-logs/"+id+"?X-Amz-Signature=presigned", id)
}

// developerLog is the log of sub as Apple writes it; the caller holds mu.
func (s *Server) developerLog(sub *Submission) []byte {
	summary, code := s.o.Summary, 0
	if s.o.Verdict != Accepted {
		code = 4000
	}
	if summary == "" {
		summary = map[bool]string{true: "Ready for distribution", false: "Archive contains critical validation errors"}[code == 0]
	}
	nullable := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	var issues []map[string]any
	for _, is := range s.o.Issues {
		issues = append(issues, map[string]any{
			"severity": is.Severity, "code": nil, "path": is.Path, "message": is.Message,
			"docUrl": nullable(is.DocURL), "architecture": nullable(is.Architecture),
		})
	}
	b, _ := json.Marshal(map[string]any{
		"logFormatVersion": 1, "jobId": sub.ID, "status": s.o.Verdict, "statusSummary": summary, "statusCode": code,
		"archiveFilename": sub.Name, "uploadDate": "2026-11-23T01:38:12.118Z", "sha256": sub.SHA256, "issues": issues,
	})
	return b
}

func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	if id, ok := strings.CutPrefix(r.URL.Path, "/developer-logs/"); ok && r.Method == http.MethodGet {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hits[RouteLog]++
		if r.Header.Get("Authorization") != "" {
			s.t.Errorf("notary stand-in: the developer log's pre-signed URL got an Authorization header: the Apple token leaked")
		}
		sub := s.find(id)
		if sub == nil {
			http.Error(w, "<Error><Code>NoSuchKey</Code></Error>", http.StatusNotFound)
			return
		}
		w.Write(s.developerLog(sub))
		return
	}
	if s.injected(w, RouteUpload) {
		return
	}
	body, _ := io.ReadAll(r.Body)
	s3Error := func(code, msg string) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
		s.t.Errorf("notary stand-in: S3 refused the upload: %s: %s", code, msg)
	}
	id, ok := strings.CutPrefix(r.URL.Path, "/"+Bucket+"/"+Object(""))
	if r.Method != http.MethodPut || !ok {
		s3Error("NoSuchKey", r.Method+" "+r.URL.Path)
		return
	}
	auth := r.Header.Get("Authorization")
	wantScope := regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=` + accessKey + `/\d{8}/us-west-2/s3/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$`)
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
	if r.Header.Get("X-Amz-Security-Token") != sessionToken {
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
	sub := s.find(id)
	if sub == nil || got != sub.SHA256 {
		s3Error("BadDigest", "upload's sha256 is not the submission's")
		return
	}
	sub.Uploaded = body
}

// checkJWT verifies a bearer token as App Store Connect does, written
// apart from the client's jwt.go so a shared mistake cannot pass.
func (s *Server) checkJWT(authz string) string {
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
	if json.Unmarshal(dec(parts[0]), &header) != nil || header.Alg != "ES256" || header.Typ != "JWT" || header.Kid != s.o.KeyID {
		return fmt.Sprintf("bad header %s", dec(parts[0]))
	}
	sig := dec(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(s.o.Key, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
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
	case claims.Iss != s.o.IssuerID:
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

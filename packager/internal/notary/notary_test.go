package notary

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tern-agent/tern/packager/internal/notary/notarytest"
)

func testCredentials(t *testing.T) (Credentials, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return Credentials{KeyID: "2X9R4HXF34", IssuerID: "57246542-96fe-1a63-e053-0824d011072a", Key: k}, p8
}

// standIn starts notarytest's Apple and S3, trusting creds.
func standIn(t *testing.T, creds Credentials, o notarytest.Options) *notarytest.Server {
	t.Helper()
	o.Key, o.KeyID, o.IssuerID = &creds.Key.PublicKey, creds.KeyID, creds.IssuerID
	return notarytest.Start(t, o)
}

// client is a Client pointed at the stand-in s, with test-sized waits.
func client(s *notarytest.Server, creds Credentials) *Client {
	return &Client{
		Credentials: creds,
		BaseURL:     s.URL,
		S3Endpoint:  func(bucket string) string { return s.S3URL + "/" + bucket },
		Poll:        time.Millisecond,
		Timeout:     5 * time.Second,
		Backoff:     time.Millisecond,
	}
}

const standInID = notarytest.FirstID

func TestNotarizeBinaryAccepted(t *testing.T) {
	creds, _ := testCredentials(t)
	s := standIn(t, creds, notarytest.Options{InProgress: 2, Issues: []notarytest.Issue{{
		Severity: "warning", Path: "tern.zip/tern", Message: "The signature does not include a secure timestamp.",
		DocURL: "https://developer.apple.com/documentation/security/resolving-common-notarization-issues", Architecture: "arm64",
	}}})
	var log bytes.Buffer
	c := client(s, creds)
	c.Log = &log

	binary := []byte("\xcf\xfa\xed\xfe a Mach-O stand-in")
	res, err := c.NotarizeBinary(context.Background(), "tern", binary, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatalf("NotarizeBinary: %v\nlog:\n%s", err, log.String())
	}
	if res.ID != standInID || res.Status != StatusAccepted {
		t.Errorf("result = %+v, want id %s Accepted", res, standInID)
	}
	if res.Log == nil || len(res.Log.Issues) != 1 || res.Log.Issues[0].Path != "tern.zip/tern" {
		t.Errorf("result log = %+v, want the one warning", res.Log)
	}
	if got := s.Count(notarytest.RouteStatus); got != 3 {
		t.Errorf("status polled %d times, want 3 (In Progress twice, then Accepted)", got)
	}
	subs := s.Submissions()
	if len(subs) != 1 || subs[0].Name != "tern.zip" {
		t.Fatalf("submissions = %+v, want one named tern.zip", subs)
	}
	// What reached S3 is the zip of the binary.
	up := subs[0].Uploaded
	zr, err := zip.NewReader(bytes.NewReader(up), int64(len(up)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "tern" {
		t.Fatalf("upload is not a zip of one file tern: %v", err)
	}
	rc, _ := zr.File[0].Open()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, binary) {
		t.Errorf("zipped binary differs from the input")
	}
	for _, want := range []string{"is submission " + standInID, "In Progress", "warning: tern.zip/tern: The signature does not include a secure timestamp. [arm64]", "tern.zip accepted"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("progress log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestNotarizeInvalidListsIssues(t *testing.T) {
	creds, _ := testCredentials(t)
	s := standIn(t, creds, notarytest.Options{Verdict: notarytest.Invalid, InProgress: 1, Issues: []notarytest.Issue{
		{Severity: "error", Path: "tern.zip/tern", Message: "The binary is not signed with a valid Developer ID certificate.", DocURL: "https://developer.apple.com/documentation/security/resolving-common-notarization-issues#3087721", Architecture: "x86_64"},
		{Severity: "error", Path: "tern.zip/tern", Message: "The executable does not have the hardened runtime enabled.", Architecture: "arm64"},
	}})

	_, err := client(s, creds).Notarize(context.Background(), "tern.zip", []byte("zip bytes"))
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("err = %v, want a *RefusedError", err)
	}
	if refused.ID != standInID || refused.Status != StatusInvalid {
		t.Errorf("refused = %+v", refused)
	}
	want := "Apple's notary service found tern.zip Invalid (submission " + standInID + "): Archive contains critical validation errors\n" +
		"  error: tern.zip/tern: The binary is not signed with a valid Developer ID certificate. [x86_64] (https://developer.apple.com/documentation/security/resolving-common-notarization-issues#3087721)\n" +
		"  error: tern.zip/tern: The executable does not have the hardened runtime enabled. [arm64]\n" +
		"fix the issues (a Developer ID signature with the hardened runtime and a secure timestamp is the usual one), then release again; the full log: `xcrun notarytool log " + standInID + "`"
	if err.Error() != want {
		t.Errorf("error reads\n%s\nwant\n%s", err, want)
	}
}

func TestNotarizeRetriesTransientFailures(t *testing.T) {
	creds, _ := testCredentials(t)
	s := standIn(t, creds, notarytest.Options{InProgress: 1, FailFirst: map[string][]int{
		notarytest.RouteSubmit: {http.StatusServiceUnavailable},
		notarytest.RouteStatus: {http.StatusServiceUnavailable, http.StatusTooManyRequests},
		notarytest.RouteUpload: {http.StatusInternalServerError},
	}})
	var log bytes.Buffer
	c := client(s, creds)
	c.Log = &log

	if _, err := c.Notarize(context.Background(), "tern.zip", []byte("zip bytes")); err != nil {
		t.Fatalf("Notarize: %v", err)
	}
	for route, want := range map[string]int{"submit": 2, "upload": 2, "status": 4} {
		if got := s.Count(route); got != want {
			t.Errorf("%s answered %d times, want %d", route, got, want)
		}
	}
	if !strings.Contains(log.String(), "POST /notary/v2/submissions: 503 Service Unavailable: UNEXPECTED_ERROR") {
		t.Errorf("the retry was not reported:\n%s", log.String())
	}
}

func TestNotarizeGivesUpOnPersistent5xx(t *testing.T) {
	creds, _ := testCredentials(t)
	s := standIn(t, creds, notarytest.Options{FailFirst: map[string][]int{notarytest.RouteSubmit: {502, 502, 502, 502, 502, 502}}})
	c := client(s, creds)
	c.Retries = 2

	_, err := c.Notarize(context.Background(), "tern.zip", []byte("zip bytes"))
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts: POST /notary/v2/submissions: 502 Bad Gateway") {
		t.Fatalf("err = %v, want a bounded give-up on 502", err)
	}
	if got := s.Count(notarytest.RouteSubmit); got != 3 {
		t.Errorf("submit tried %d times, want 3", got)
	}
}

func TestNotarizeTimeoutNamesSubmission(t *testing.T) {
	creds, _ := testCredentials(t)
	s := standIn(t, creds, notarytest.Options{Verdict: notarytest.InProgress})
	c := client(s, creds)
	c.Timeout = 50 * time.Millisecond
	c.Poll = 5 * time.Millisecond

	_, err := c.Notarize(context.Background(), "tern.zip", []byte("zip bytes"))
	var timeout *TimeoutError
	if !errors.As(err, &timeout) || timeout.ID != standInID {
		t.Fatalf("err = %v, want a *TimeoutError for %s", err, standInID)
	}
	for _, want := range []string{"submission " + standInID, "within 50ms", "last status: In Progress", "xcrun notarytool info " + standInID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("timeout error lacks %q: %v", want, err)
		}
	}
}

func TestNotarizeBadTokenFailsAtOnceWithAppleDetail(t *testing.T) {
	trusted, _ := testCredentials(t)
	s := standIn(t, trusted, notarytest.Options{})
	other, _ := testCredentials(t) // same ids, a key Apple does not know

	_, err := client(s, other).Notarize(context.Background(), "tern.zip", []byte("zip bytes"))
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401 *APIError", err)
	}
	for _, want := range []string{
		"POST /notary/v2/submissions: 401 Unauthorized: NOT_AUTHORIZED: Authentication credentials are missing or invalid. Provide a properly configured and signed bearer token",
		"check that MACOS_NOTARY_KEY_ID and MACOS_NOTARY_ISSUER_ID belong to the key in MACOS_NOTARY_KEY",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if got := s.Count(notarytest.RouteUnauthorized); got != 1 {
		t.Errorf("a 401 was tried %d times, want once (4xx is not retried)", got)
	}
}

func TestNotarizeRefusesBareFile(t *testing.T) {
	creds, _ := testCredentials(t)
	s := standIn(t, creds, notarytest.Options{})
	_, err := client(s, creds).Notarize(context.Background(), "tern", []byte("\xcf\xfa\xed\xfe"))
	if err == nil || !strings.Contains(err.Error(), "call NotarizeBinary") {
		t.Fatalf("err = %v, want a pointer to NotarizeBinary", err)
	}
	if s.Count(notarytest.RouteSubmit) != 0 {
		t.Errorf("a bare file was submitted")
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	creds, p8 := testCredentials(t)
	path := filepath.Join(t.TempDir(), "AuthKey_2X9R4HXF34.p8")
	if err := os.WriteFile(path, p8, 0o600); err != nil {
		t.Fatal(err)
	}
	full := map[string]string{EnvKeyID: creds.KeyID, EnvIssuerID: creds.IssuerID}
	with := func(key string, drop ...string) func(string) string {
		env := map[string]string{EnvKey: key}
		for k, v := range full {
			env[k] = v
		}
		for _, d := range drop {
			delete(env, d)
		}
		return func(k string) string { return env[k] }
	}
	for _, tc := range []struct {
		name    string
		getenv  func(string) string
		wantErr string // empty: success
	}{
		{"path", with(path), ""},
		{"PEM", with(string(p8)), ""},
		{"base64 of the PEM", with(base64.StdEncoding.EncodeToString(p8)), ""},
		{"all missing", func(string) string { return "" }, "but MACOS_NOTARY_KEY, MACOS_NOTARY_KEY_ID, MACOS_NOTARY_ISSUER_ID are unset"},
		{"issuer missing", with(path, EnvIssuerID), "but MACOS_NOTARY_ISSUER_ID is unset"},
		{"missing file", with("/nonexistent/AuthKey.p8"), "MACOS_NOTARY_KEY: reading the key file: open /nonexistent/AuthKey.p8"},
		{"not a key", with(base64.StdEncoding.EncodeToString([]byte("hello"))), "is not a PKCS#8 private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CredentialsFromEnv(tc.getenv)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.KeyID != creds.KeyID || got.IssuerID != creds.IssuerID || !got.Key.Equal(creds.Key) {
				t.Errorf("credentials = %+v, want %+v", got, creds)
			}
		})
	}
}

func TestParseKeyRefusesOtherKeys(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, k := range map[string]any{"P-384": p384, "RSA": rsaKey} {
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		_, err := ParseKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		if err == nil || !strings.Contains(err.Error(), "not an ECDSA P-256 key") {
			t.Errorf("%s: err = %v, want a refusal", name, err)
		}
	}
	_, err := ParseKey(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}}))
	if err == nil || !strings.Contains(err.Error(), `"EC PRIVATE KEY"`) {
		t.Errorf("SEC1 PEM: err = %v, want the block type named", err)
	}
}

func TestTokenIsCachedUntilNearExpiry(t *testing.T) {
	creds, _ := testCredentials(t)
	now := time.Unix(1700000000, 0)
	tk := &tokens{creds: creds, now: func() time.Time { return now }}
	first, _ := tk.get()
	now = now.Add(tokenLifetime - tokenRenewBefore - time.Second)
	if again, _ := tk.get(); again != first {
		t.Errorf("token renewed while still fresh")
	}
	now = now.Add(2 * time.Second)
	if later, _ := tk.get(); later == first {
		t.Errorf("token not renewed near its expiry")
	}
}

// The "PUT Object" example of AWS's Signature Version 4 documentation
// (Authenticating Requests: Using the Authorization Header).
func TestSignS3MatchesAWSExample(t *testing.T) {
	body := "Welcome to Amazon S3."
	req, _ := http.NewRequest(http.MethodPut, "https://examplebucket.s3.amazonaws.com/"+s3KeyPath("test$file.text"), strings.NewReader(body))
	req.Header.Set("Date", "Fri, 24 May 2013 00:00:00 GMT")
	req.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	signS3(req, sha256Hex([]byte(body)),
		awsCredentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		"us-east-1", time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC))
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
		"SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, " +
		"Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization =\n%s\nwant\n%s", got, want)
	}
}

func TestZipBinaryIsDeterministic(t *testing.T) {
	data := bytes.Repeat([]byte("\xcf\xfa\xed\xfe binary "), 1000)
	mtime := time.Date(2026, 11, 23, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	a, err := ZipBinary("tern", data, mtime)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ZipBinary("tern", data, mtime.UTC())
	if !bytes.Equal(a, b) {
		t.Fatal("two zips of the same binary and instant differ")
	}
	if c, _ := ZipBinary("tern", data, mtime.Add(time.Hour)); bytes.Equal(a, c) {
		t.Error("the mtime does not reach the zip")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	f := zr.File[0]
	if len(zr.File) != 1 || f.Name != "tern" || f.Mode() != 0o755 || !f.Modified.Equal(mtime) {
		t.Errorf("entry = %s %v %v, want tern 0755 %v", f.Name, f.Mode(), f.Modified, mtime)
	}
	for _, bad := range []string{"", "bin/tern", `bin\tern`, ".."} {
		if _, err := ZipBinary(bad, data, mtime); err == nil {
			t.Errorf("ZipBinary(%q) accepted a name that is not a bare file name", bad)
		}
	}
}

func TestNotarizeInvalidWithoutLogStillNamesSubmission(t *testing.T) {
	creds, _ := testCredentials(t)
	s := standIn(t, creds, notarytest.Options{Verdict: notarytest.Rejected, FailFirst: map[string][]int{notarytest.RouteLogs: {http.StatusNotFound}}})

	_, err := client(s, creds).Notarize(context.Background(), "tern.zip", []byte("zip bytes"))
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Status != StatusRejected {
		t.Fatalf("err = %v, want a Rejected *RefusedError", err)
	}
	want := "Apple's notary service found tern.zip Rejected (submission " + standInID + "); its log could not be read: GET /notary/v2/submissions/" + standInID + "/logs: 404 Not Found"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error reads\n%v\nwant it to start\n%s", err, want)
	}
}

func TestNotarizeUploadRefusedFailsAtOnce(t *testing.T) {
	creds, _ := testCredentials(t)
	s := standIn(t, creds, notarytest.Options{FailFirst: map[string][]int{notarytest.RouteUpload: {http.StatusForbidden, http.StatusForbidden}}})

	_, err := client(s, creds).Notarize(context.Background(), "tern.zip", []byte("zip bytes"))
	want := "notarizing tern.zip: uploading to s3://" + notarytest.Bucket + "/" + notarytest.Object(standInID) + " for submission " + standInID + ": PUT "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "403 Forbidden") {
		t.Fatalf("err = %v, want it to start %q and carry the 403", err, want)
	}
	if got := s.Count(notarytest.RouteUpload); got != 1 {
		t.Errorf("a 403 upload was tried %d times, want once", got)
	}
	if strings.Contains(err.Error(), "API key") {
		t.Errorf("an S3 refusal carries App Store Connect's remedy: %v", err)
	}
}

func TestErrorDetail(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"errors":[{"status":"403","code":"FORBIDDEN_ERROR","title":"This request is forbidden for security reasons","detail":"The API key in use does not allow this request"}]}`,
			"FORBIDDEN_ERROR: This request is forbidden for security reasons: The API key in use does not allow this request"},
		{`<?xml version="1.0" encoding="UTF-8"?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>`,
			"ExpiredToken: The provided token has expired."},
		{"upstream connect error", "upstream connect error"},
	} {
		if got := errorDetail([]byte(tc.body)); got != tc.want {
			t.Errorf("errorDetail(%.40q) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

// Submissions made at once, as the release makes one per darwin binary,
// each get their own id, object and verdict.
func TestNotarizeConcurrentSubmissions(t *testing.T) {
	creds, _ := testCredentials(t)
	s := standIn(t, creds, notarytest.Options{InProgress: 1})
	c := client(s, creds)
	names := []string{"darwin-amd64-tern", "darwin-arm64-tern"}
	errs := make(chan error, len(names))
	for _, n := range names {
		go func() {
			_, err := c.NotarizeBinary(context.Background(), n, []byte("\xcf\xfa\xed\xfe "+n), time.Unix(1700000000, 0))
			errs <- err
		}()
	}
	for range names {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	subs := s.Submissions()
	if len(subs) != 2 || subs[0].ID == subs[1].ID {
		t.Fatalf("submissions = %+v, want two with their own ids", subs)
	}
	for _, sub := range subs {
		if sub.Uploaded == nil || sub.Polls != 2 || sha256Hex(sub.Uploaded) != sub.SHA256 {
			t.Errorf("%s (%s): uploaded %d bytes, polled %d times", sub.ID, sub.Name, len(sub.Uploaded), sub.Polls)
		}
	}
}

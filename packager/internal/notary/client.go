package notary

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is Apple's Notary API.
const DefaultBaseURL = "https://appstoreconnect.apple.com"

// Defaults of Client's zero fields.
const (
	DefaultPoll    = 15 * time.Second // notarytool's own cadence is similar
	DefaultTimeout = 30 * time.Minute // most verdicts come in minutes; Apple allows for hours
	DefaultRetries = 4
	DefaultBackoff = 2 * time.Second

	maxBackoff = time.Minute
	// Per-attempt limits, so one hung connection costs a retry, not the release.
	apiCallTimeout = 2 * time.Minute
	uploadTimeout  = 30 * time.Minute
	maxResponse    = 16 << 20
)

// A submission's status, as Apple spells it.
const (
	StatusInProgress = "In Progress"
	StatusAccepted   = "Accepted"
	StatusInvalid    = "Invalid"
	StatusRejected   = "Rejected"
)

// Client talks to the Notary API. Its zero fields take the defaults above;
// Credentials is required. A Client may be shared by goroutines once its
// fields are set.
type Client struct {
	Credentials Credentials
	// BaseURL is the Notary API's origin, DefaultBaseURL when empty.
	BaseURL string
	// S3Endpoint returns the origin that holds bucket; the object key is
	// appended as the path. Empty means Amazon S3 in us-west-2.
	S3Endpoint func(bucket string) string
	HTTP       *http.Client
	// Poll is the pause between status checks.
	Poll time.Duration
	// Timeout bounds the wait for Apple's verdict, after the upload.
	Timeout time.Duration
	// Retries is how often a 5xx, a 429 or a network error is retried, with
	// exponential backoff from Backoff; negative means never.
	Retries int
	Backoff time.Duration
	// Log receives progress lines; nil discards them.
	Log io.Writer

	tokensOnce sync.Once
	tokens     *tokens
}

// Result is an accepted submission.
type Result struct {
	ID     string
	Status string
	// Log is Apple's developer log; nil when it could not be fetched
	// (a warning on Client.Log says why). Accepted logs may hold warnings.
	Log *Log
}

// Log is the developer log Apple writes for every completed submission.
type Log struct {
	JobID           string  `json:"jobId"`
	Status          string  `json:"status"`
	StatusSummary   string  `json:"statusSummary"`
	StatusCode      int     `json:"statusCode"`
	ArchiveFilename string  `json:"archiveFilename"`
	SHA256          string  `json:"sha256"`
	Issues          []Issue `json:"issues"`
}

// Issue is one finding in a developer log.
type Issue struct {
	Severity     string `json:"severity"` // "error" or "warning"
	Path         string `json:"path"`     // inside the submission, e.g. tern.zip/tern
	Message      string `json:"message"`
	DocURL       string `json:"docUrl"`
	Architecture string `json:"architecture"`
}

// NotarizeBinary zips one executable with ZipBinary (entry name, submitted
// as name.zip) and notarizes the zip. mtime is the zip entry's time.
func (c *Client) NotarizeBinary(ctx context.Context, name string, binary []byte, mtime time.Time) (*Result, error) {
	z, err := ZipBinary(name, binary, mtime)
	if err != nil {
		return nil, err
	}
	return c.Notarize(ctx, name+".zip", z)
}

// Notarize submits payload (a zip, dmg or pkg called name) and waits for
// Apple's verdict. "Accepted" returns a Result. "Invalid" or "Rejected"
// returns a *RefusedError listing the log's issues; no verdict within
// Timeout returns a *TimeoutError. Both name the submission id.
func (c *Client) Notarize(ctx context.Context, name string, payload []byte) (*Result, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".zip", ".dmg", ".pkg":
	default:
		return nil, fmt.Errorf("notarizing %s: Apple notarizes a .zip, .dmg or .pkg, not a bare file: wrap a binary with ZipBinary or call NotarizeBinary", name)
	}
	sum := sha256Hex(payload)
	sub, err := c.submit(ctx, name, sum)
	if err != nil {
		return nil, fmt.Errorf("notarizing %s (sha256 %s): %w", name, sum, err)
	}
	c.logf("notary: %s is submission %s; uploading %d bytes", name, sub.ID, len(payload))
	if err := c.upload(ctx, sub, payload, sum); err != nil {
		return nil, fmt.Errorf("notarizing %s: uploading to s3://%s/%s for submission %s: %w", name, sub.Bucket, sub.Object, sub.ID, err)
	}
	status, err := c.wait(ctx, name, sub.ID)
	if err != nil {
		return nil, err
	}
	log, logErr := c.fetchLog(ctx, sub.ID)
	switch status {
	case StatusAccepted:
		if logErr != nil {
			c.logf("notary: warning: %s was accepted, but its log could not be read: %v", sub.ID, logErr)
		}
		if log != nil {
			for _, is := range log.Issues {
				c.logf("notary: %s: %s", is.Severity, is.describe())
			}
		}
		c.logf("notary: %s accepted (submission %s)", name, sub.ID)
		return &Result{ID: sub.ID, Status: status, Log: log}, nil
	case StatusInvalid, StatusRejected:
		return nil, &RefusedError{Name: name, ID: sub.ID, Status: status, Log: log, LogErr: logErr}
	default:
		return nil, fmt.Errorf("notarizing %s: submission %s ended with status %q, which this packager does not know: check it with `xcrun notarytool info %s`", name, sub.ID, status, sub.ID)
	}
}

// submission is Apple's answer to a new submission: its id and where to
// upload, with credentials for that one object.
type submission struct {
	ID             string
	Bucket, Object string
	AWS            awsCredentials
}

func (c *Client) submit(ctx context.Context, name, sum string) (*submission, error) {
	body, _ := json.Marshal(map[string]string{"submissionName": name, "sha256": sum})
	// Retrying a POST that failed with a 5xx may leave an orphan submission
	// at Apple; it is never uploaded and expires, which is harmless.
	raw, err := c.callAPI(ctx, http.MethodPost, "/notary/v2/submissions", body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Data struct {
			ID         string `json:"id"`
			Attributes struct {
				AWSAccessKeyID     string `json:"awsAccessKeyId"`
				AWSSecretAccessKey string `json:"awsSecretAccessKey"`
				AWSSessionToken    string `json:"awsSessionToken"`
				Bucket             string `json:"bucket"`
				Object             string `json:"object"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("POST /notary/v2/submissions: Apple's answer is not JSON (%v): %.200s", err, raw)
	}
	a := r.Data.Attributes
	if r.Data.ID == "" || a.Bucket == "" || a.Object == "" || a.AWSAccessKeyID == "" || a.AWSSecretAccessKey == "" {
		return nil, fmt.Errorf("POST /notary/v2/submissions: Apple's answer lacks the submission id or upload target: %.300s", raw)
	}
	return &submission{
		ID: r.Data.ID, Bucket: a.Bucket, Object: a.Object,
		AWS: awsCredentials{AccessKeyID: a.AWSAccessKeyID, SecretAccessKey: a.AWSSecretAccessKey, SessionToken: a.AWSSessionToken},
	}, nil
}

func (c *Client) upload(ctx context.Context, sub *submission, payload []byte, sum string) error {
	endpoint := c.s3Endpoint(sub.Bucket)
	target := strings.TrimSuffix(endpoint, "/") + "/" + s3KeyPath(sub.Object)
	_, err := c.send(ctx, "PUT "+target, uploadTimeout, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		signS3(req, sum, sub.AWS, s3Region, time.Now())
		return req, nil
	})
	return err
}

// wait polls the submission until it leaves "In Progress" or Timeout ends.
func (c *Client) wait(ctx context.Context, name, id string) (string, error) {
	timeout := or(c.Timeout, DefaultTimeout)
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var lastLogged time.Time
	last := ""
	for {
		status, err := c.status(waitCtx, id)
		if err != nil {
			if ctx.Err() == nil && waitCtx.Err() != nil {
				return "", &TimeoutError{Name: name, ID: id, Waited: timeout, LastStatus: last}
			}
			return "", fmt.Errorf("notarizing %s: checking submission %s: %w", name, id, err)
		}
		if status != StatusInProgress {
			return status, nil
		}
		if status != last || time.Since(lastLogged) >= time.Minute {
			c.logf("notary: %s is %s (%s so far)", id, status, time.Since(start).Round(time.Second))
			lastLogged = time.Now()
		}
		last = status
		select {
		case <-waitCtx.Done():
			if ctx.Err() != nil {
				return "", fmt.Errorf("notarizing %s: waiting for submission %s: %w", name, id, ctx.Err())
			}
			return "", &TimeoutError{Name: name, ID: id, Waited: timeout, LastStatus: last}
		case <-time.After(or(c.Poll, DefaultPoll)):
		}
	}
}

func (c *Client) status(ctx context.Context, id string) (string, error) {
	raw, err := c.callAPI(ctx, http.MethodGet, "/notary/v2/submissions/"+id, nil)
	if err != nil {
		return "", err
	}
	var r struct {
		Data struct {
			Attributes struct {
				Status string `json:"status"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.Data.Attributes.Status == "" {
		return "", fmt.Errorf("GET /notary/v2/submissions/%s: Apple's answer holds no status: %.300s", id, raw)
	}
	return r.Data.Attributes.Status, nil
}

// fetchLog asks Apple for the log's temporary URL and reads the log there.
func (c *Client) fetchLog(ctx context.Context, id string) (*Log, error) {
	raw, err := c.callAPI(ctx, http.MethodGet, "/notary/v2/submissions/"+id+"/logs", nil)
	if err != nil {
		return nil, err
	}
	var r struct {
		Data struct {
			Attributes struct {
				DeveloperLogURL string `json:"developerLogUrl"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.Data.Attributes.DeveloperLogURL == "" {
		return nil, fmt.Errorf("GET /notary/v2/submissions/%s/logs: Apple's answer holds no developerLogUrl: %.300s", id, raw)
	}
	logURL := r.Data.Attributes.DeveloperLogURL
	// The URL is pre-signed: it gets no bearer token, which must not leave
	// for a host that is not Apple's API.
	body, err := c.send(ctx, "GET developer log", apiCallTimeout, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, logURL, nil)
	})
	if err != nil {
		return nil, err
	}
	var l Log
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, fmt.Errorf("the developer log of %s is not JSON (%v): %.200s", id, err, body)
	}
	return &l, nil
}

// callAPI makes one authenticated call to the Notary API, with retries.
func (c *Client) callAPI(ctx context.Context, method, p string, reqBody []byte) ([]byte, error) {
	c.tokensOnce.Do(func() { c.tokens = &tokens{creds: c.Credentials, now: time.Now} })
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u := strings.TrimSuffix(base, "/") + p
	answer, err := c.send(ctx, method+" "+p, apiCallTimeout, func(ctx context.Context) (*http.Request, error) {
		tok, err := c.tokens.get()
		if err != nil {
			return nil, err
		}
		var rd io.Reader
		if reqBody != nil {
			rd = bytes.NewReader(reqBody)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if reqBody != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	})
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		apiErr.Remedy = appleRemedy(apiErr.StatusCode)
	}
	return answer, err
}

// errBuild marks a failure to make a request, which no retry can fix.
var errBuild = errors.New("building the request")

// send does a request, retrying 5xx, 429 and network errors with
// exponential backoff (a longer Retry-After from Apple or S3 wins), and
// failing at once on any other 4xx. It returns a 2xx response's body.
func (c *Client) send(ctx context.Context, what string, perTry time.Duration, newReq func(context.Context) (*http.Request, error)) ([]byte, error) {
	retries := c.Retries
	if retries == 0 {
		retries = DefaultRetries
	} else if retries < 0 {
		retries = 0
	}
	backoff := or(c.Backoff, DefaultBackoff)
	for attempt := 0; ; attempt++ {
		body, hint, err := c.try(ctx, what, perTry, newReq)
		if err == nil {
			return body, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", what, ctx.Err())
		}
		if !transient(err) {
			return nil, err
		}
		if attempt >= retries {
			return nil, fmt.Errorf("gave up after %d attempts: %w", attempt+1, err)
		}
		pause := backoff << attempt
		if pause > maxBackoff || pause <= 0 {
			pause = maxBackoff
		}
		pause = max(pause, hint)
		c.logf("notary: %v; retrying in %s", err, pause)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w (after: %v)", what, ctx.Err(), err)
		case <-time.After(pause):
		}
	}
}

// try makes one attempt. hint is the server's Retry-After, if any.
func (c *Client) try(ctx context.Context, what string, perTry time.Duration, newReq func(context.Context) (*http.Request, error)) (body []byte, hint time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, perTry)
	defer cancel()
	req, err := newReq(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("%w for %s: %w", errBuild, what, err)
	}
	httpc := c.HTTP
	if httpc == nil {
		httpc = http.DefaultClient
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: reading the answer: %w", what, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, retryAfter(resp.Header.Get("Retry-After")), newAPIError(what, resp.StatusCode, body)
	}
	return body, 0, nil
}

// transient says whether err may pass on its own: a 5xx, a 429, or a
// network error. A request that could not be built never will be.
func transient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Transient()
	}
	return !errors.Is(err, errBuild)
}

func retryAfter(v string) time.Duration {
	var secs int
	if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &secs); err != nil || secs <= 0 {
		return 0
	}
	if d := time.Duration(secs) * time.Second; d < maxBackoff {
		return d
	}
	return maxBackoff
}

func (c *Client) s3Endpoint(bucket string) string {
	if c.S3Endpoint != nil {
		return c.S3Endpoint(bucket)
	}
	// A dotted bucket name breaks virtual-hosted TLS; use the path style.
	if strings.Contains(bucket, ".") {
		return "https://s3." + s3Region + ".amazonaws.com/" + s3KeyPath(bucket)
	}
	return "https://" + bucket + ".s3." + s3Region + ".amazonaws.com"
}

func (c *Client) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (is Issue) describe() string {
	s := is.Path + ": " + is.Message
	if is.Architecture != "" {
		s += " [" + is.Architecture + "]"
	}
	if is.DocURL != "" {
		s += " (" + is.DocURL + ")"
	}
	return s
}

package notary

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// APIError is a non-2xx answer from the Notary API, S3 or the log's host,
// with the detail the server gave.
type APIError struct {
	Call       string // e.g. "POST /notary/v2/submissions"
	StatusCode int
	// Detail is Apple's errors[] (code: title detail), S3's Code: Message,
	// or the start of the body.
	Detail string
	// Remedy is what to do next, when the answer says it.
	Remedy string
}

// Transient says whether a retry may succeed: a 5xx or a 429.
func (e *APIError) Transient() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s: %d %s", e.Call, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Remedy != "" {
		msg += " (" + e.Remedy + ")"
	}
	return msg
}

// appleRemedy is what to do about an App Store Connect refusal; S3 and
// the log's host answer 401 and 403 for other reasons.
func appleRemedy(code int) string {
	switch code {
	case http.StatusUnauthorized:
		return fmt.Sprintf("Apple refused the token: check that %s and %s belong to the key in %s, that the key is not revoked, and that this machine's clock is right", EnvKeyID, EnvIssuerID, EnvKey)
	case http.StatusForbidden:
		return "the API key lacks access: notarizing needs a team key with the Developer role or higher, and a team that has accepted Apple's latest agreements"
	}
	return ""
}

func newAPIError(call string, code int, body []byte) *APIError {
	return &APIError{Call: call, StatusCode: code, Detail: errorDetail(body)}
}

// errorDetail reads App Store Connect's {"errors":[...]} or S3's XML
// <Error>, falling back to the body's start.
func errorDetail(body []byte) string {
	var apple struct {
		Errors []struct {
			Code   string `json:"code"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &apple) == nil && len(apple.Errors) > 0 {
		var parts []string
		for _, e := range apple.Errors {
			text := strings.Join(nonEmpty(e.Title, e.Detail), ": ")
			if strings.HasSuffix(e.Title, ".") {
				text = strings.Join(nonEmpty(e.Title, e.Detail), " ")
			}
			parts = append(parts, strings.Join(nonEmpty(e.Code, text), ": "))
		}
		return strings.Join(parts, "; ")
	}
	var s3 struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if xml.Unmarshal(body, &s3) == nil && s3.Code != "" {
		return strings.Join(nonEmpty(s3.Code, s3.Message), ": ")
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	return text
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// RefusedError is a submission Apple judged "Invalid" or "Rejected".
type RefusedError struct {
	Name   string // the submitted file
	ID     string // the submission id
	Status string
	Log    *Log  // nil if the log could not be read
	LogErr error // why not
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Apple's notary service found %s %s (submission %s)", e.Name, e.Status, e.ID)
	switch {
	case e.Log != nil:
		if e.Log.StatusSummary != "" {
			b.WriteString(": " + e.Log.StatusSummary)
		}
		for _, is := range e.Log.Issues {
			fmt.Fprintf(&b, "\n  %s: %s", is.Severity, is.describe())
		}
		if len(e.Log.Issues) == 0 {
			b.WriteString("\n  (the log lists no issues)")
		}
	case e.LogErr != nil:
		fmt.Fprintf(&b, "; its log could not be read: %v", e.LogErr)
	}
	fmt.Fprintf(&b, "\nfix the issues (a Developer ID signature with the hardened runtime and a secure timestamp is the usual one), then release again; the full log: `xcrun notarytool log %s`", e.ID)
	return b.String()
}

// TimeoutError is a submission with no verdict within Client.Timeout.
// Apple may still decide: the id is what to check later.
type TimeoutError struct {
	Name       string
	ID         string
	Waited     time.Duration
	LastStatus string
}

func (e *TimeoutError) Error() string {
	last := e.LastStatus
	if last == "" {
		last = "unknown"
	}
	return fmt.Sprintf("Apple's notary service gave no verdict on %s (submission %s) within %s; last status: %s. Apple may still decide: check later with `xcrun notarytool info %s` (or GET %s/notary/v2/submissions/%s), and allow a longer wait if this recurs",
		e.Name, e.ID, e.Waited, last, e.ID, DefaultBaseURL, e.ID)
}

package codesign

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// tsaTimeout bounds one time-stamp request when the caller gives no client.
const tsaTimeout = 30 * time.Second

// requestTimestamp asks the RFC 3161 time-stamp authority at url for a
// token over the SHA-256 of sig (the CMS signature value, as Apple's
// secure timestamp covers) and returns the token (a CMS ContentInfo).
func requestTimestamp(client *http.Client, url string, sig []byte) ([]byte, error) {
	if client == nil {
		client = &http.Client{Timeout: tsaTimeout}
	}
	req, err := timestamp.CreateRequest(bytes.NewReader(sig), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true})
	if err != nil {
		return nil, fmt.Errorf("building the time-stamp request: %w", err)
	}
	resp, err := client.Post(url, "application/timestamp-query", bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("time-stamp authority %s: %w; check the TSA URL and the network, or retry", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("time-stamp authority %s: reading the reply: %w; retry", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("time-stamp authority %s answered HTTP %d: %.200s; check the TSA URL or retry later", url, resp.StatusCode, body)
	}
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return nil, fmt.Errorf("time-stamp authority %s sent a reply that is not a valid granted RFC 3161 response: %w", url, err)
	}
	want := sha256.Sum256(sig)
	if ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, want[:]) {
		return nil, fmt.Errorf("time-stamp authority %s stamped %x, not the signature's SHA-256 %x", url, ts.HashedMessage, want)
	}
	return ts.RawToken, nil
}

// checkTimestamp parses a token from a signature and checks it covers sig.
// timestamp.Parse also verifies the token's own CMS signature by the TSA
// certificate it carries.
func checkTimestamp(token, sig []byte) (time.Time, error) {
	ts, err := timestamp.Parse(token)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp token in the CMS signature does not verify: %w", err)
	}
	h := ts.HashAlgorithm
	if !h.Available() {
		return time.Time{}, fmt.Errorf("timestamp token uses an unsupported hash")
	}
	d := h.New()
	d.Write(sig)
	if !bytes.Equal(ts.HashedMessage, d.Sum(nil)) {
		return time.Time{}, fmt.Errorf("timestamp token stamps %x, not this signature: it was copied from another signature", ts.HashedMessage)
	}
	return ts.Time, nil
}

package notary

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// Apple refuses tokens that live longer than 20 minutes; 15 leaves room
// for clock skew between the runner and Apple.
const (
	tokenLifetime = 15 * time.Minute
	tokenAudience = "appstoreconnect-v1"
	// A cached token is replaced this long before it expires, so that a
	// request never leaves with a token about to die in flight.
	tokenRenewBefore = 2 * time.Minute
)

// tokens makes and caches the App Store Connect JWT.
type tokens struct {
	creds Credentials
	now   func() time.Time

	mu      sync.Mutex
	current string
	expires time.Time
}

func (t *tokens) get() (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if t.current != "" && now.Before(t.expires.Add(-tokenRenewBefore)) {
		return t.current, nil
	}
	tok, err := signJWT(t.creds, now)
	if err != nil {
		return "", err
	}
	t.current, t.expires = tok, now.Add(tokenLifetime)
	return tok, nil
}

// signJWT makes the token described in Apple's "Generating Tokens for API
// Requests": ES256, kid = key id, iss = issuer id, aud appstoreconnect-v1.
func signJWT(c Credentials, now time.Time) (string, error) {
	if c.Key == nil || c.KeyID == "" || c.IssuerID == "" {
		return "", fmt.Errorf("notary credentials are incomplete (key id %q, issuer id %q, key set: %t): read them with CredentialsFromEnv", c.KeyID, c.IssuerID, c.Key != nil)
	}
	header, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": c.KeyID, "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": c.IssuerID,
		"iat": now.Unix(),
		"exp": now.Add(tokenLifetime).Unix(),
		"aud": tokenAudience,
	})
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, c.Key, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing the App Store Connect token with key %s: %w", c.KeyID, err)
	}
	// JWS wants r||s, each padded to 32 bytes, not ASN.1.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig), nil
}

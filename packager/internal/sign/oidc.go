package sign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"
)

// GitHubActionsToken asks GitHub Actions for an OIDC token with the audience
// "sigstore". The workflow needs `permissions: id-token: write`.
func GitHubActionsToken(ctx context.Context) (string, error) {
	return githubToken(ctx, os.Getenv, http.DefaultClient)
}

func githubToken(ctx context.Context, getenv func(string) string, client *http.Client) (string, error) {
	reqURL, reqToken := getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	if reqURL == "" || reqToken == "" {
		return "", errors.New("keyless signing needs GitHub Actions' OIDC token: run in a workflow with `permissions: id-token: write`, or sign with COSIGN_KEY")
	}
	u, err := url.Parse(reqURL)
	if err != nil {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL: %w", err)
	}
	q := u.Query()
	q.Set("audience", "sigstore")
	u.RawQuery = q.Encode()

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "bearer "+reqToken)
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetching the OIDC token: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetching the OIDC token: %s (does the job have `permissions: id-token: write`?)", resp.Status)
	}
	var body struct {
		Value string `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Value == "" {
		return "", fmt.Errorf("the OIDC token response holds no token (%v)", err)
	}
	return body.Value, nil
}

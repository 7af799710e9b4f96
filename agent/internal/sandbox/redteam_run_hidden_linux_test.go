package sandbox

// Red team: with the network off, bwrap hides /run behind an empty tmpfs;
// the Landlock fallback left it readable. In a container, where Landlock
// stands in most often, /run holds the secrets (Docker's /run/secrets,
// Kubernetes' /var/run/secrets/kubernetes.io/serviceaccount/token), and
// what a command reads the model reads. Both backends must hide it, as
// root and as a user.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedteamRunIsHiddenUnderBothBackends(t *testing.T) {
	needLandlockNet(t)
	runners := fallbackRunners(t)
	dir, err := os.MkdirTemp("/run", "tern-redteam-")
	if err != nil {
		t.Skipf("cannot make a directory under /run: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	const secret = "the-service-account-token"
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte(secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := []string{"/bin/sh", "-c", "cat " + token + "; echo done"}
	for _, r := range runners {
		for _, backend := range []Backend{Bubblewrap, Landlock} {
			t.Run(r.name+"/"+string(backend), func(t *testing.T) {
				var out string
				if r.cred == nil {
					out = runAsRoot(t, backend, argv)
				} else {
					out = runAsUser(t, r, backend, argv)
				}
				if !strings.Contains(out, "done") {
					t.Fatalf("the command did not run:\n%s", out)
				}
				if strings.Contains(out, secret) {
					t.Errorf("the command read %s under %s with the network off:\n%s", token, backend, out)
				}
			})
		}
	}
}

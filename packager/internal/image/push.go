package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tern-agent/tern/packager/internal/sign"
)

// Push uploads the index to repo under tag and returns repo@digest.
func Push(ctx context.Context, idx v1.ImageIndex, repo, tag string) (name.Digest, error) {
	ref, err := name.NewTag(repo + ":" + tag)
	if err != nil {
		return name.Digest{}, fmt.Errorf("--repo %s: %w", repo, err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return name.Digest{}, fmt.Errorf("pushing %s: %w", ref, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	return ref.Context().Digest(digest.String()), nil
}

// SignOptions choose how the pushed index is signed, with the cosign CLI:
// a key (COSIGN_KEY, a path or the PEM, and COSIGN_PASSWORD) or keyless in
// GitHub Actions.
type SignOptions struct {
	Cosign  string
	Sign    sign.Options
	Offline bool // no transparency log: for local registries and tests
}

// Sign signs ref (a digest reference) and writes cosign's output to the log.
func Sign(ctx context.Context, ref name.Digest, o SignOptions, log *strings.Builder) error {
	if err := o.Sign.Check(false); err != nil {
		return err
	}
	// The cosign CLI takes a key only as a path: a PEM goes to a private
	// file that lives as long as the command.
	tmp, err := os.MkdirTemp("", "packager-image-key-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	key, err := o.Sign.KeyFile(tmp)
	if err != nil {
		return err
	}
	args := []string{"sign", "--yes"}
	if key != "" {
		args = append(args, "--key", key)
	}
	if o.Offline {
		args = append(args, "--tlog-upload=false", "--use-signing-config=false")
	}
	if strings.HasPrefix(ref.RegistryStr(), "127.0.0.1") || strings.HasPrefix(ref.RegistryStr(), "localhost") {
		args = append(args, "--allow-http-registry")
	}
	args = append(args, ref.String())
	cmd := exec.CommandContext(ctx, o.Cosign, args...)
	// The password comes from the Options, like the key, not from whatever
	// the environment holds when cosign runs.
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD="+string(o.Sign.Password))
	out, err := cmd.CombinedOutput()
	log.Write(out)
	if err != nil {
		return fmt.Errorf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Package sign signs a release's SHA256SUMS in-process with sigstore-go,
// writing a v0.3 bundle (SHA256SUMS.sigstore.json) that the cosign CLI
// verifies. Three ways to sign:
//
//   - key-based: a cosign-format encrypted key (COSIGN_KEY, COSIGN_PASSWORD);
//   - keyless, in GitHub Actions: the workflow's OIDC token goes to Fulcio for
//     a short-lived certificate, and the signature to Rekor;
//   - a snapshot with neither: an ephemeral key, announced loudly as
//     untrusted, whose public key is written outside the release.
//
// It signs only SHA256SUMS; every other file is covered through it.
//
// The signing environment (COSIGN_KEY, COSIGN_PASSWORD, --keyless) is read
// once, by OptionsFromEnv, with one meaning for every command that signs:
// `packager release` signs the blob here, `packager image` hands the same
// Options to the cosign CLI (see package image for why).
package sign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Options choose how to sign.
type Options struct {
	Key      string // COSIGN_KEY: a path or the PEM itself
	Password []byte // COSIGN_PASSWORD
	Keyless  bool
	// IDToken fetches the OIDC token for keyless signing.
	IDToken func(context.Context) (string, error)
}

// OptionsFromEnv reads COSIGN_KEY and COSIGN_PASSWORD: the one place the
// packager reads its signing environment.
func OptionsFromEnv(keyless bool) Options {
	return Options{
		Key:      os.Getenv("COSIGN_KEY"),
		Password: []byte(os.Getenv("COSIGN_PASSWORD")),
		Keyless:  keyless,
		IDToken:  GitHubActionsToken,
	}
}

// ErrNoSigner says that nothing was given to sign with.
var ErrNoSigner = errors.New("nothing to sign with: set COSIGN_KEY and COSIGN_PASSWORD, or pass --keyless in GitHub Actions (COSIGN_KEY holds a key file's path or the PEM itself)")

// Check says, before anything is made or pushed, whether o can sign: one
// of a key and --keyless, and a key that decrypts with the password. With
// ephemeral, neither is allowed: a snapshot signs with a throw-away key.
func (o Options) Check(ephemeral bool) error {
	switch {
	case o.Key != "" && o.Keyless:
		return errors.New("both COSIGN_KEY and --keyless are set: choose one")
	case o.Key != "":
		_, err := LoadCosignKey(o.Key, o.Password)
		return err
	case !o.Keyless && !ephemeral:
		return ErrNoSigner
	}
	return nil
}

// KeyFile returns a path to the private key, for tools that take only a path
// (the cosign CLI): COSIGN_KEY itself when it is a path, else its PEM written
// to a private file in dir. It returns "" for keyless signing.
func (o Options) KeyFile(dir string) (string, error) {
	if o.Key == "" || !isPEM(o.Key) {
		return o.Key, nil
	}
	p := filepath.Join(dir, "cosign.key")
	if err := os.WriteFile(p, []byte(o.Key), 0o600); err != nil {
		return "", err
	}
	return p, nil
}

// Pipe signs SHA256SUMS.
type Pipe struct{ Options Options }

func (Pipe) String() string { return "sign " + layout.Sums }

func (p Pipe) Run(ctx *pipeline.Context) error {
	_, err := p.Sign(ctx)
	return err
}

// Sign signs SHA256SUMS and returns the public key to check the signature
// with: nil for a keyless signature, whose certificate carries the key.
func (p Pipe) Sign(ctx *pipeline.Context) (crypto.PublicKey, error) {
	sums, err := ctx.Artifacts.One(artifact.ByKind(artifact.Checksums), layout.Sums)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(sums.Path)
	if err != nil {
		return nil, err
	}
	bundle, pub, err := p.sign(ctx, data)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(ctx.Release, layout.SumsBundle)
	if err := os.WriteFile(path, bundle, 0o644); err != nil {
		return nil, err
	}
	ctx.Artifacts.Add(artifact.Artifact{Name: layout.SumsBundle, Path: path, Kind: artifact.Signature})
	return pub, nil
}

func (p Pipe) sign(ctx *pipeline.Context, data []byte) ([]byte, crypto.PublicKey, error) {
	o := p.Options
	var priv *ecdsa.PrivateKey
	switch {
	case o.Key != "" && o.Keyless:
		return nil, nil, errors.New("both COSIGN_KEY and --keyless are set: choose one")
	case o.Key != "":
		k, err := LoadCosignKey(o.Key, o.Password)
		if err != nil {
			return nil, nil, err
		}
		ctx.Logf("key-based signature")
		priv = k
	case o.Keyless:
		ctx.Logf("keyless signature through %s and %s", ctx.Config.Signing.FulcioURL, ctx.Config.Signing.RekorURL)
		b, err := Keyless(ctx, data, o.IDToken, ctx.Config.Signing.FulcioURL, ctx.Config.Signing.RekorURL)
		return b, nil, err
	case ctx.Version.Snapshot:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		pub, err := PublicKeyPEM(&k.PublicKey)
		if err != nil {
			return nil, nil, err
		}
		pubPath := filepath.Join(ctx.Dist, layout.SnapshotKey)
		if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
			return nil, nil, err
		}
		warn(ctx.Log, pubPath)
		priv = k
	default:
		return nil, nil, fmt.Errorf("a release must be signed: %w", ErrNoSigner)
	}
	b, err := WithKey(data, priv)
	return b, &priv.PublicKey, err
}

func warn(w io.Writer, pubPath string) {
	fmt.Fprintf(w, `
  !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
  !! UNTRUSTED SNAPSHOT SIGNATURE: no COSIGN_KEY was given, so this    !!
  !! snapshot is signed with a throw-away key. Its public key is       !!
  !! %-65s !!
  !! Do not publish this release.                                      !!
  !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

`, pubPath)
}

// WithKey signs data with priv and returns the bundle as JSON.
func WithKey(data []byte, priv *ecdsa.PrivateKey) ([]byte, error) {
	b, err := sgsign.Bundle(&sgsign.PlainData{Data: data}, keypair{priv}, sgsign.BundleOptions{})
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return protojson.Marshal(b)
}

// Keyless signs data with an ephemeral key certified by Fulcio for the OIDC
// identity, and records the signature in Rekor (when rekorURL is set).
func Keyless(ctx context.Context, data []byte, idToken func(context.Context) (string, error), fulcioURL, rekorURL string) ([]byte, error) {
	if idToken == nil {
		return nil, errors.New("keyless signing needs an OIDC token source")
	}
	token, err := idToken(ctx)
	if err != nil {
		return nil, err
	}
	kp, err := sgsign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, err
	}
	opts := sgsign.BundleOptions{
		Context:                    ctx,
		CertificateProvider:        sgsign.NewFulcio(&sgsign.FulcioOptions{BaseURL: fulcioURL, Retries: 3}),
		CertificateProviderOptions: &sgsign.CertificateProviderOptions{IDToken: token},
	}
	if rekorURL != "" {
		opts.TransparencyLogs = []sgsign.Transparency{sgsign.NewRekor(&sgsign.RekorOptions{BaseURL: rekorURL, Retries: 3})}
	}
	b, err := sgsign.Bundle(&sgsign.PlainData{Data: data}, kp, opts)
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	return protojson.Marshal(b)
}

package cli

import (
	"crypto/x509"
	"fmt"
	"os"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/packager/internal/verify"
)

func newVerify(g *globalOptions) *cobra.Command {
	var key, identity, issuer, trustedRoot, platformRoots string
	cmd := &cobra.Command{
		Use:   "verify DIR",
		Short: "Refuse a release directory unless every invariant holds",
		Long: `Check checksums, the signature, the manifest, every archive's tree and
every binary's format, architecture and stamped version. Each problem is
printed with the file it concerns.

For a release.yaml with version_check (binaries without the packager's
build stamp), every binary must hold its version as a string of its own,
and each binary this host can run, natively or under qemu-user
(qemu-<arch>-static), is run with version_check.args, and what it prints
on stdout and stderr together must state the version as
version_check.contains says, the rule the installers apply. A binary is
run only after the signature and every digest are checked, so what runs
is what was signed; nothing runs once another problem is found.

Check the signature against a cosign public key (--key), or against the
release workflow's identity (--certificate-identity-regexp and
--certificate-oidc-issuer; they default to release.yaml's). A snapshot is
signed with a throw-away key: verify it with --key dist/snapshot-cosign.pub.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, cfg, err := g.load()
			if err != nil {
				return err
			}
			opts := verify.Options{Config: cfg, TrustedRootPath: trustedRoot}
			if platformRoots != "" {
				raw, err := os.ReadFile(platformRoots)
				if err != nil {
					return fmt.Errorf("reading the platform roots: %w", err)
				}
				opts.PlatformRoots = x509.NewCertPool()
				if !opts.PlatformRoots.AppendCertsFromPEM(raw) {
					return fmt.Errorf("%s holds no PEM certificate", platformRoots)
				}
			}
			if key != "" {
				raw, err := os.ReadFile(key)
				if err != nil {
					return fmt.Errorf("reading the public key: %w", err)
				}
				if opts.PublicKey, err = cryptoutils.UnmarshalPEMToPublicKey(raw); err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
			} else {
				opts.CertificateIdentityRegexp = or(identity, cfg.Signing.CertificateIdentityRegexp)
				opts.CertificateOIDCIssuer = or(issuer, cfg.Signing.CertificateOIDCIssuer)
			}
			if err := verify.Release(args[0], opts); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: verified\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "a cosign public key (cosign.pub)")
	cmd.Flags().StringVar(&identity, "certificate-identity-regexp", "", "the signer's identity, for keyless signatures")
	cmd.Flags().StringVar(&issuer, "certificate-oidc-issuer", "", "the identity's OIDC issuer")
	cmd.Flags().StringVar(&trustedRoot, "trusted-root", "", "a sigstore trusted_root.json (default: fetched over TUF)")
	cmd.Flags().StringVar(&platformRoots, "platform-roots", "", "a PEM file of the roots darwin and windows signatures must chain to, in place of release.yaml's platform_signing roots (a test root)")
	return cmd
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

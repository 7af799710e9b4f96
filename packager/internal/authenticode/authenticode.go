// Package authenticode signs Windows PE binaries with Authenticode and
// verifies those signatures, for the release step that signs and for the
// gate that checks what was shipped.
//
// Sign runs osslsigncode; Verify, Strip and Unsigned are pure Go and read
// bytes only. The split is deliberate:
//
//   - Signing needs a battle-tested writer of the exact structures Windows
//     accepts (SpcIndirectDataContent, the SpcSpOpusInfo and statement-type
//     attributes, RFC 3161 requests). osslsigncode is that, is packaged by
//     Debian, Homebrew and MSYS2, and adds no Go modules; relic/v7 would do
//     it in-process but brings a large module graph (cloud KMS clients,
//     PKCS#11) into the packager for one step that only the release
//     machine runs.
//   - Determinism: osslsigncode writes a signingTime attribute, which Sign
//     pins with -time from Options.SigningTime (the release's
//     SOURCE_DATE_EPOCH); without a TSA, the same input, key and time
//     give the same bytes. A timestamp is never reproducible, which is why
//     reproducibility is proved by Strip, not by re-signing.
//   - Verification runs on every maintainer's machine and in CI, on any OS,
//     so it must not need a tool: Verify parses the PKCS#7 itself, with
//     package cms.
//
// It must never treat "no certificate configured" as "sign with something
// else", never fall back to the system roots in Verify, and never accept a
// signature for lack of code to check part of it (an old PKCS#9
// countersignature is refused, not ignored).
package authenticode

import "errors"

// The kinds of failure, for callers that react differently (verify refuses
// ErrUnsigned only when signing is configured). Every error Verify and Strip
// return wraps exactly one of them and says more.
var (
	ErrNotPE          = errors.New("not a PE image")
	ErrMalformed      = errors.New("malformed Authenticode signature")
	ErrUnsigned       = errors.New("unsigned: no Authenticode signature")
	ErrDigestMismatch = errors.New("Authenticode digest mismatch")
	ErrBadSignature   = errors.New("bad Authenticode signature")
	ErrWeakDigest     = errors.New("digest algorithm not accepted (SHA-256 or larger required)")
	ErrUntrusted      = errors.New("signer not trusted")
	ErrWrongSigner    = errors.New("signed by another signer")
	ErrBadTimestamp   = errors.New("bad RFC 3161 timestamp")
)

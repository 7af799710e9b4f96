// Package platformsign signs the darwin and windows binaries with the
// operating systems' own signatures, after GoReleaser built them and before
// staging, so the same signed bytes land in the archive, the npm package,
// the DotSlash file and the image.
//
//   - darwin: a Developer ID signature (hardened runtime, secure timestamp,
//     TeamIdentifier) when MACOS_SIGN_P12 is set, then notarization for a
//     release whose config asks for it; otherwise an ad-hoc signature, which
//     is deterministic, so snapshots stay reproducible.
//   - windows: Authenticode when WINDOWS_SIGN_P12 is set; otherwise none.
//
// It never signs in place: the signed copy is written under dist/signed and
// the registry is pointed at it, so a re-run with --reuse-build signs
// GoReleaser's own output again, not a signed file.
package platformsign

// Package notary notarizes macOS binaries through Apple's Notary API
// (https://appstoreconnect.apple.com/notary/v2), the REST service behind
// `xcrun notarytool`, so a release made on Linux needs no Mac.
//
// A submission is four steps: announce the file and its sha256 (POST
// /notary/v2/submissions), upload it to the S3 bucket and object Apple
// names, with the temporary AWS credentials Apple hands out, poll the
// submission until Apple's verdict, and fetch the developer log, whose
// issues say why a submission was refused. Calls to Apple carry a
// short-lived ES256 JWT made from an App Store Connect API key (the .p8
// file, its key id and its issuer id; see CredentialsFromEnv).
//
// Apple accepts a zip, a dmg or a pkg, not a bare Mach-O: ZipBinary wraps
// one binary in a deterministic zip, and NotarizeBinary does both. Nothing
// is stapled: a ticket cannot be stapled to a bare binary (stapler works
// on apps, dmgs and pkgs only), so Gatekeeper looks the ticket up online
// the first time a quarantined copy is run. Notarizing changes no byte of
// the binary, so checksums and signatures made before it stay valid.
//
// This package must never sign code (the binary must already carry a
// Developer ID signature with the hardened runtime, or Apple answers
// "Invalid"), never write files, and never read the environment except
// through CredentialsFromEnv's getenv.
package notary

package platformsign

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/tern-agent/tern/packager/internal/authenticode"
	"github.com/tern-agent/tern/packager/internal/codesign"
)

// Unsigned is the binary of goos without its platform signature: what the
// reproducible build made, before signing. ok is false for a binary no
// platform signature applies to (not darwin or windows).
func Unsigned(goos string, data []byte) (out []byte, ok bool, err error) {
	switch goos {
	case "darwin":
		out, err = codesign.Strip(data)
	case "windows":
		out, err = authenticode.Strip(data)
	default:
		return nil, false, nil
	}
	return out, err == nil, err
}

// UnsignedSHA256 is the hex sha256 of Unsigned, "" when none applies.
func UnsignedSHA256(goos string, data []byte) (string, error) {
	out, ok, err := Unsigned(goos, data)
	if !ok {
		return "", err
	}
	sum := sha256.Sum256(out)
	return hex.EncodeToString(sum[:]), nil
}

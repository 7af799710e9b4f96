// Package stamp reads the build stamp, the contract between the packager
// and every binary it releases: "@(#)version=<v>;commit=<sha>;date=<time>"
// and one "<helper>_sha256=<digest>" per shipped helper (see the agent's
// buildinfo package, which writes it through -ldflags -X). A stripped,
// -trimpath binary keeps neither symbols nor its -ldflags, so the stamp is
// found by its marker, the way what(1) finds SCCS strings.
//
// It only reads bytes it is given; the build, the handoff checks and
// verify all read stamps through it.
package stamp

import (
	"bytes"
	"errors"
)

// Marker starts the stamp.
const Marker = "@(#)version="

// window is how far past the marker a stamp may reach.
const window = 512

// Stamp is a binary's build stamp.
type Stamp struct {
	Version, Commit string
	text            []byte // the stamp and whatever follows it, up to window
}

// Read finds the one stamp in a binary.
func Read(data []byte) (Stamp, error) {
	i := bytes.Index(data, []byte(Marker))
	if i < 0 {
		return Stamp{}, errors.New("carries no build stamp (@(#)version=…): was it built by the release build?")
	}
	if bytes.Contains(data[i+1:], []byte(Marker)) {
		return Stamp{}, errors.New("carries two build stamps")
	}
	text := data[i:min(len(data), i+window)]
	rest := text[len(Marker):]
	end := bytes.Index(rest, []byte(";commit="))
	if end < 0 {
		return Stamp{}, errors.New("has a malformed build stamp: no commit")
	}
	st := Stamp{Version: string(rest[:end]), text: text}
	c := rest[end+len(";commit="):]
	n := 0
	for n < len(c) && isHex(c[n]) {
		n++
	}
	if n == 0 {
		return Stamp{}, errors.New("has a malformed build stamp: an empty commit")
	}
	st.Commit = string(c[:n])
	return st, nil
}

// Digest returns the 64-hex-digit value of key (such as "bwrap_sha256"),
// or "" when the stamp has no such field or an empty one. The stamp is a
// Go string among others in the binary, with no terminator, so the value
// is read by its fixed length.
func (s Stamp) Digest(key string) string {
	j := bytes.Index(s.text, []byte(";"+key+"="))
	if j < 0 {
		return ""
	}
	v := s.text[j+len(key)+2:]
	if len(v) < 64 {
		return ""
	}
	for _, b := range v[:64] {
		if !isHex(b) {
			return ""
		}
	}
	return string(v[:64])
}

func isHex(b byte) bool { return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' }

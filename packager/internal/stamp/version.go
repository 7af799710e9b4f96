package stamp

import (
	"bytes"
	"encoding/binary"
)

// VersionVarRemedy is what to do about a binary without a stamp that does
// not hold its version, for every check that asks HoldsVersion.
const VersionVarRemedy = "add -X <var>={{ .Env.RELEASE_VERSION }} to builds[0].ldflags, as release.yaml's version_check expects"

// HoldsVersion reports whether a binary with no build stamp holds version
// as a string of its own, as -X <var>=<version> in the build's -ldflags
// puts it: an occurrence with no letter, digit, '.', '-' or '+' on either
// side, or only a "v" before it (v1.2.3) that itself follows none of
// those nor a '/' or '@'.
//
// Bare text would not do: Go's runtime and standard library hold module
// paths such as crypto/internal/fips140/v1.0.0, and a build's module
// information holds its dependencies' versions, its own (v1.2.3, from a
// tag) and, without -trimpath, its -ldflags, so a mistyped -X variable
// that the linker ignores still puts the version there. That information,
// the module text debug/buildinfo reads after the "\xff Go buildinf:"
// header, is not searched, nor is its copy the runtime keeps
// (runtime/debug.ReadBuildInfo's).
func HoldsVersion(data []byte, version string) bool {
	if version == "" {
		return false
	}
	skip := modInfoRanges(data)
	v := []byte(version)
	for from := 0; ; {
		i := bytes.Index(data[from:], v)
		if i < 0 {
			return false
		}
		i += from
		from = i + 1
		end := i + len(v)
		if end < len(data) && isVersionByte(data[end]) {
			continue
		}
		start := i
		if start > 0 && data[start-1] == 'v' {
			start--
			if start > 0 && (data[start-1] == '/' || data[start-1] == '@') {
				continue
			}
		}
		if start > 0 && isVersionByte(data[start-1]) {
			continue
		}
		if !inside(skip, i) {
			return true
		}
	}
}

func isVersionByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '.' || b == '-' || b == '+'
}

// buildInfoMagic starts the build information the Go linker writes.
var buildInfoMagic = []byte("\xff Go buildinf:")

// modInfoRanges are the [start, end) byte ranges of data that hold the
// module information of its build: wherever the text that follows a build
// information header (Go 1.18's inline form: a pointer size, flags with bit
// 2 set, padding to 32 bytes, then the Go version and the module text,
// each after its uvarint length) occurs. A binary of an older Go keeps
// pointers there instead, and nothing is skipped.
func modInfoRanges(data []byte) [][2]int {
	var mods [][]byte
	for from := 0; ; {
		i := bytes.Index(data[from:], buildInfoMagic)
		if i < 0 {
			break
		}
		i += from
		from = i + 1
		if len(data)-i < 32 || data[i+15]&2 == 0 {
			continue
		}
		rest := data[i+32:]
		_, rest, ok := uvarintString(rest) // the Go version
		if !ok {
			continue
		}
		mod, _, ok := uvarintString(rest)
		if !ok {
			continue
		}
		// The module text is framed by 16 bytes at each end, which the
		// runtime's copy may not carry: search for what is inside.
		if len(mod) >= 33 && mod[len(mod)-17] == '\n' {
			mod = mod[16 : len(mod)-16]
		}
		if len(mod) > 0 {
			mods = append(mods, mod)
		}
	}
	var ranges [][2]int
	for _, mod := range mods {
		for from := 0; ; {
			i := bytes.Index(data[from:], mod)
			if i < 0 {
				break
			}
			i += from
			ranges = append(ranges, [2]int{i, i + len(mod)})
			from = i + len(mod)
		}
	}
	return ranges
}

func uvarintString(b []byte) (s, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

func inside(ranges [][2]int, i int) bool {
	for _, r := range ranges {
		if r[0] <= i && i < r[1] {
			return true
		}
	}
	return false
}

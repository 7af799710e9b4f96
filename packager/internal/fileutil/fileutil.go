// Package fileutil is the packager's one home for what every step does to
// files: the SHA-256 of a file, a copy, and an atomic write. Each exists
// once, so that a fix (a larger buffer, a missing fsync) reaches every step.
// It knows nothing of releases.
package fileutil

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// SHA256File returns the hex sha256 of a file and its size.
func SHA256File(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	// A large buffer keeps the hash, not the syscalls, the bottleneck.
	n, err := io.CopyBuffer(h, f, make([]byte, 1<<20))
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// CopyFile copies from to to with exactly mode (whatever the umask),
// making to's directory.
func CopyFile(from, to string, mode os.FileMode) error {
	_, err := CopyFileSHA256(from, to, mode)
	return err
}

// CopyFileSHA256 is CopyFile that also returns the hex sha256 of the bytes
// it wrote: a caller checking a digest checks what was copied, not what
// the source held before.
func CopyFileSHA256(from, to string, mode os.FileMode) (string, error) {
	in, err := os.Open(from)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return "", err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		out.Close()
		return "", fmt.Errorf("copying %s: %w", from, err)
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), os.Chmod(to, mode)
}

// WriteAtomic writes path through a temporary file beside it, renamed into
// place only when write succeeds: a crash or an error never leaves a
// truncated file where a complete one is expected. write may refuse what it
// wrote (a digest mismatch) by returning an error; nothing is kept then.
//
// The file gets the mode of the file it replaces, else 0644: what it writes
// is published or checked in, and os.CreateTemp's 0600 would keep a release
// directory served as static files (an apt repository) from its readers.
func WriteAtomic(path string, write func(io.Writer) error) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// SecretValue reads a secret given in an environment variable the three
// ways a CI system can hold one: a path to a file, the PEM or armored text
// itself, or the file's bytes in base64 (`base64 < key`).
func SecretValue(v string) ([]byte, error) {
	if st, err := os.Stat(v); err == nil && st.Mode().IsRegular() {
		return os.ReadFile(v)
	}
	if strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
		return []byte(v), nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
	if err != nil {
		return nil, errors.New("is neither a readable file, nor a key, nor base64: give a path, the key, or `base64 < file`")
	}
	return b, nil
}

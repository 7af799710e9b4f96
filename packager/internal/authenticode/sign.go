package authenticode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Options are what Sign needs: the identity, and how to describe and
// timestamp the signature.
type Options struct {
	// P12 is the PKCS#12 holding the key, the signer's certificate and its
	// intermediates (WINDOWS_SIGN_P12, already read or base64-decoded).
	P12 []byte
	// Password opens P12 (WINDOWS_SIGN_PASSWORD). It reaches osslsigncode
	// on stdin, never on its command line where ps would show it.
	Password string
	// TSAURL, when set, is an RFC 3161 timestamp authority
	// (WINDOWS_SIGN_TSA_URL): the signature then stays valid after the
	// certificate expires.
	TSAURL string
	// Description and URL are shown by Windows' UAC prompt (-n, -i).
	Description, URL string
	// SigningTime pins the signingTime attribute (SOURCE_DATE_EPOCH); zero
	// means the clock's time.
	SigningTime time.Time
	// Tool is the osslsigncode binary; empty means "osslsigncode" on PATH.
	Tool string
}

// Sign writes to out the PE in, Authenticode-signed with SHA-256 by the
// identity in o.P12 and timestamped by o.TSAURL when set. in must be
// unsigned. out is written whole or not at all.
//
// Signing changes exactly what Strip undoes: it appends the certificate
// table (8-byte aligned), sets the certificate table directory entry and
// recomputes the optional header CheckSum. Sign checks that on its own
// output, so every file it writes strips back to its input byte for byte.
func Sign(ctx context.Context, in, out string, o Options) error {
	if len(o.P12) == 0 {
		return fmt.Errorf("authenticode: signing %s: no PKCS#12 given: set WINDOWS_SIGN_P12 to its path or base64", in)
	}
	unsigned, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("authenticode: reading %s: %w", in, err)
	}
	f, err := parsePE(unsigned)
	if err != nil {
		return fmt.Errorf("authenticode: %s: %w", in, err)
	}
	if f.signed() {
		return fmt.Errorf("authenticode: %s is already signed; sign the unsigned build", in)
	}
	tool := o.Tool
	if tool == "" {
		tool = "osslsigncode"
	}
	if _, err := exec.LookPath(tool); err != nil {
		return fmt.Errorf("authenticode: signing %s needs osslsigncode: install it (apt-get install osslsigncode, brew install osslsigncode): %w", in, err)
	}

	// The key and the half-written output live in a private directory
	// beside out, so the final rename stays on one file system.
	work, err := os.MkdirTemp(filepath.Dir(out), ".authenticode-*")
	if err != nil {
		return fmt.Errorf("authenticode: signing %s: %w", in, err)
	}
	defer os.RemoveAll(work)
	p12 := filepath.Join(work, "identity.p12")
	if err := os.WriteFile(p12, o.P12, 0o600); err != nil {
		return fmt.Errorf("authenticode: signing %s: %w", in, err)
	}
	tmp := filepath.Join(work, "signed.exe")
	args := []string{"sign", "-pkcs12", p12, "-h", "sha256"}
	if o.Password == "" {
		// osslsigncode's -readpass fails on an empty read; an empty
		// password is no secret to hide from ps.
		args = append(args, "-pass", "")
	} else {
		args = append(args, "-readpass", "-")
	}
	if o.Description != "" {
		args = append(args, "-n", o.Description)
	}
	if o.URL != "" {
		args = append(args, "-i", o.URL)
	}
	if !o.SigningTime.IsZero() {
		args = append(args, "-time", strconv.FormatInt(o.SigningTime.Unix(), 10))
	}
	if o.TSAURL != "" {
		args = append(args, "-ts", o.TSAURL)
	}
	args = append(args, "-in", in, "-out", tmp)
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Stdin = strings.NewReader(o.Password)
	var outBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return fmt.Errorf("authenticode: %s sign %s failed (%w); check WINDOWS_SIGN_P12 and WINDOWS_SIGN_PASSWORD%s:\n%s",
			tool, in, err, tsaHint(o.TSAURL), strings.TrimSpace(outBuf.String()))
	}

	signed, err := os.ReadFile(tmp)
	if err != nil {
		return fmt.Errorf("authenticode: reading what osslsigncode wrote for %s: %w", in, err)
	}
	if stripped, err := Strip(signed); err != nil {
		return fmt.Errorf("authenticode: osslsigncode's output for %s: %w", in, err)
	} else if !bytes.Equal(stripped, unsigned) {
		return errors.New("authenticode: osslsigncode changed " + in + " beyond appending a signature; Strip could not prove it reproducible: report this with the osslsigncode version")
	}
	// Keep the input's mode: the signed binary is the same program.
	if info, err := os.Stat(in); err == nil {
		if err := os.Chmod(tmp, info.Mode().Perm()); err != nil {
			return fmt.Errorf("authenticode: signing %s: %w", in, err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("authenticode: writing %s: %w", out, err)
	}
	return nil
}

func tsaHint(url string) string {
	if url == "" {
		return ""
	}
	return " and that the timestamp authority " + url + " answers"
}

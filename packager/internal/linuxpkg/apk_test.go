package linuxpkg

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/layout"
)

// apkStream is one gzip member of an apk: its compressed bytes, which the
// signature and the datahash cover, and the tar entries inside.
type apkStream struct {
	raw     []byte
	entries []apkEntry
}

type apkEntry struct {
	hdr  *tar.Header
	body []byte
}

// splitAPK cuts an apk into its gzip members, as apk-tools reads it:
// signature (when signed), control, data. Each member's tar has no end
// blocks but the last, so every member is read on its own.
func splitAPK(t *testing.T, raw []byte) []apkStream {
	t.Helper()
	r := bytes.NewReader(raw)
	var out []apkStream
	for r.Len() > 0 {
		start := len(raw) - r.Len()
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("gzip member at byte %d: %v", start, err)
		}
		zr.Multistream(false)
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gzip member at byte %d: %v", start, err)
		}
		s := apkStream{raw: raw[start : len(raw)-r.Len()]}
		tr := tar.NewReader(bytes.NewReader(plain))
		for {
			h, err := tr.Next()
			if err == io.EOF || (err != nil && len(s.entries) > 0 && strings.Contains(err.Error(), "unexpected EOF")) {
				break
			}
			if err != nil {
				t.Fatalf("tar in gzip member at byte %d: %v", start, err)
			}
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			s.entries = append(s.entries, apkEntry{h, body})
		}
		out = append(out, s)
	}
	return out
}

// TestAPKFieldsFilesAndSignature parses the apk: .PKGINFO's fields, the
// data's files with their modes, times and the per-file SHA-1 apk checks,
// the datahash over the data stream, and the signature over the control
// stream, verified with the public key by Go and by openssl as apk does.
func TestAPKFieldsFilesAndSignature(t *testing.T) {
	f := newFixture(t, uniqueProduct(t), false)
	p, b := f.cfg.Product, f.cfg.Binary
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys := Keys{APK: priv, APKName: p + ".rsa.pub"}
	apkFile := f.build(t, layout.APK, keys, t.TempDir())
	if got, want := filepath.Base(apkFile), p+"-1.2.3-r0.x86_64.apk"; got != want {
		t.Errorf("file name %s, want %s", got, want)
	}
	raw, err := os.ReadFile(apkFile)
	if err != nil {
		t.Fatal(err)
	}
	streams := splitAPK(t, raw)
	if len(streams) != 3 {
		t.Fatalf("%d gzip members, want 3 (signature, control, data)", len(streams))
	}
	sig, control, data := streams[0], streams[1], streams[2]

	// The signature: one entry, named for the key apk looks up in /etc/apk/keys.
	if len(sig.entries) != 1 || sig.entries[0].hdr.Name != ".SIGN.RSA."+p+".rsa.pub" {
		t.Fatalf("signature stream holds %v", sig.entries)
	}
	digest := sha1.Sum(control.raw)
	if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA1, digest[:], sig.entries[0].body); err != nil {
		t.Errorf("the signature does not verify over the control stream: %v", err)
	}
	if _, err := os.Stat("/usr/bin/openssl"); err == nil {
		dir := t.TempDir()
		pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		write := func(name string, b []byte) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		pub := write("key.rsa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
		if got := run(t, "openssl", "dgst", "-sha1", "-verify", pub, "-signature", write("sig", sig.entries[0].body), write("control.tar.gz", control.raw)); got != "Verified OK\n" {
			t.Errorf("openssl: %s", got)
		}
	}

	// The control: .PKGINFO alone, with the fields apk reads.
	if len(control.entries) != 1 || control.entries[0].hdr.Name != ".PKGINFO" {
		t.Fatalf("control stream holds %v", control.entries)
	}
	pkginfo := string(control.entries[0].body)
	dataHash := sha256.Sum256(data.raw)
	for _, want := range []string{
		"pkgname = " + p, "pkgver = 1.2.3-r0", "arch = x86_64", "pkgdesc = test of the Linux packages",
		"url = " + f.cfg.Repository, "maintainer = " + Maintainer(f.cfg), "license = Apache-2.0",
		"datahash = " + hex.EncodeToString(dataHash[:]),
	} {
		if !strings.Contains(pkginfo, want+"\n") {
			t.Errorf(".PKGINFO lacks %q:\n%s", want, pkginfo)
		}
	}

	// The data: every file, with its mode, the commit's time and its SHA-1.
	got := map[string]string{}
	for _, e := range data.entries {
		if !e.hdr.ModTime.Equal(commitTime) {
			t.Errorf("%s is dated %s, want the commit's %s", e.hdr.Name, e.hdr.ModTime, commitTime)
		}
		got[e.hdr.Name] = fmt.Sprintf("%o", e.hdr.Mode)
		if e.hdr.Typeflag == tar.TypeReg {
			sum := sha1.Sum(e.body)
			if e.hdr.PAXRecords["APK-TOOLS.checksum.SHA1"] != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: APK-TOOLS.checksum.SHA1 %q is not its content's", e.hdr.Name, e.hdr.PAXRecords["APK-TOOLS.checksum.SHA1"])
			}
		}
	}
	for name, mode := range map[string]string{
		"usr/bin/" + b: "755", "usr/libexec/" + p + "/" + helperName: "755", "usr/libexec/" + p + "/": "755",
		"usr/share/licenses/" + p + "/LICENSE": "644", "usr/share/doc/" + p + "/THIRD_PARTY_NOTICES.md": "644",
		"usr/share/man/man1/" + b + ".1.gz": "644", "usr/share/" + p + "/README.md": "644",
	} {
		if got[name] != mode {
			t.Errorf("%s: mode %q, want %s (entries: %v)", name, got[name], mode, got)
		}
	}
	if _, ok := got["usr/share/doc/"+p+"/copyright"]; ok {
		t.Error("the apk holds Debian's copyright file")
	}
}

// TestAPKUnsignedHasNoSignatureStream: without a key the apk is control
// and data alone, which apk installs with --allow-untrusted.
func TestAPKUnsignedHasNoSignatureStream(t *testing.T) {
	f := newFixture(t, uniqueProduct(t), false)
	raw, err := os.ReadFile(f.build(t, layout.APK, Keys{}, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	streams := splitAPK(t, raw)
	if len(streams) != 2 || streams[0].entries[0].hdr.Name != ".PKGINFO" {
		t.Fatalf("an unsigned apk should be control and data, got %d members", len(streams))
	}
}

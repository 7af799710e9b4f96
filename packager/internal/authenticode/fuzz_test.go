package authenticode_test

import (
	"bytes"
	"errors"
	"os/exec"
	"testing"

	"github.com/tern-agent/tern/packager/internal/authenticode"
	"github.com/tern-agent/tern/packager/internal/testpki"
)

// FuzzParse feeds Verify, Strip and Unsigned hostile bytes: a release gate
// reads files it did not make, so it must refuse them, never panic.
func FuzzParse(f *testing.F) {
	ca := testpki.NewCA(f, "fuzz root")
	f.Add([]byte("MZ"))
	f.Add(append([]byte("MZ"), make([]byte, 0x100)...))
	if _, err := exec.LookPath("osslsigncode"); err == nil {
		unsigned := windowsBinaries(f)["amd64-s-w"]
		id := ca.Issue(f, testpki.Leaf{})
		signed, _ := sign(f, unsigned, id, authenticode.Options{})
		// Headers and signature only: the fuzzer mutates them, not code.
		f.Add(signed[:4096])
		f.Add(signed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, verr := authenticode.Verify(data, authenticode.VerifyOptions{Roots: ca.Pool()})
		stripped, err := authenticode.Strip(data)
		if err != nil {
			return
		}
		if !authenticode.Unsigned(stripped) {
			t.Fatalf("Strip returned a PE that is not Unsigned (Verify said %v)", verr)
		}
		if again, err := authenticode.Strip(stripped); err != nil || !bytes.Equal(again, stripped) {
			t.Fatalf("Strip is not idempotent: %v", err)
		}
		if authenticode.Unsigned(data) && !errors.Is(verr, authenticode.ErrUnsigned) {
			t.Fatalf("Unsigned(data) but Verify said %v", verr)
		}
	})
}

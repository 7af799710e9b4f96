package cli

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests run tern's commands in-process, on every OS: they use
// danger-full-access or fail before a sandbox is needed.

// isolate gives the test an empty config directory and, when config is not
// empty, a config file holding it.
func isolate(t *testing.T, config string) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)    // os.UserConfigDir on macOS
	t.Setenv("AppData", dir) // and on Windows
	if config == "" {
		return
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(cfg, "tern"), 0o755)
	if err := os.WriteFile(filepath.Join(cfg, "tern", "config.json"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Execute(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// failingWriter is a stdout whose reader has gone.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("the disk is full") }

// TestErrorsNameTheFlagsOfTheCommandRun: every command spells the sandbox
// flags alike, and an error names the flag of the command that was run, as
// the user typed it or as its help shows it.
func TestErrorsNameTheFlagsOfTheCommandRun(t *testing.T) {
	isolate(t, "")
	missing := filepath.Join(t.TempDir(), "missing")
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"exec", "--cd", missing, "task"}, 2, "--cd " + missing + ": no such directory"},
		{[]string{"exec", "-C", file, "task"}, 2, "--cd " + file + ": not a directory"},
		{[]string{"exec", "--sandbox", "bogus", "task"}, 2, `--sandbox: unknown sandbox mode "bogus"`},
		{[]string{"exec", "-s", "bogus", "task"}, 2, `--sandbox: unknown sandbox mode "bogus"`},
		{[]string{"mcp", "--cd", missing}, 2, "--cd " + missing + ": no such directory"},
		{[]string{"mcp", "-s", "bogus"}, 2, `--sandbox: unknown sandbox mode "bogus"`},
		{[]string{"sandbox", "run", "--cd", missing, "--", "true"}, 2, "--cd " + missing + ": no such directory"},
		{[]string{"sandbox", "run", "-C", missing, "--", "true"}, 2, "--cd " + missing + ": no such directory"},
		{[]string{"sandbox", "run", "--sandbox", "bogus", "--", "true"}, 2, `--sandbox: unknown sandbox mode "bogus"`},
		{[]string{"sandbox", "run", "--sandbox", "read-only", "--writable", ".", "--", "true"}, 2, "--writable applies only to --sandbox workspace-write (the mode is read-only)"},
		{[]string{"sandbox", "run", "--writable", missing, "--", "true"}, 2, "--writable " + missing + ": no such directory"},
		// The old spellings still work, and errors name the new ones.
		{[]string{"sandbox", "run", "--cwd", missing, "--", "true"}, 2, "--cd " + missing + ": no such directory"},
		{[]string{"sandbox", "run", "--mode", "read-only", "--writable", ".", "--", "true"}, 2, "--writable applies only to --sandbox workspace-write"},
	} {
		code, _, stderr := run(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("tern %q: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
		for _, wrong := range []string{"--cwd", "--mode"} {
			if strings.Contains(stderr, wrong) {
				t.Errorf("tern %q names %s, a flag it does not show: %q", c.args, wrong, stderr)
			}
		}
	}
}

// TestRootIsNeverWritable: workspace-write with / as the workspace is no
// sandbox; the refusal names this command's flags.
func TestRootIsNeverWritable(t *testing.T) {
	isolate(t, "")
	root := string(filepath.Separator)
	if v := filepath.VolumeName(os.TempDir()); v != "" {
		root = v + root
	}
	code, _, stderr := run(t, "sandbox", "run", "--sandbox", "workspace-write", "--cd", root, "--", "true")
	if code != 2 || !strings.Contains(stderr, "refusing to make "+root+" writable") || !strings.Contains(stderr, "--sandbox danger-full-access") || strings.Contains(stderr, "--mode") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestConfigFileErrorsNameTheFile: a bad value in the config file is a
// configuration error (3) that names the file and the key, not a flag the
// user never typed.
func TestConfigFileErrorsNameTheFile(t *testing.T) {
	for _, c := range []struct{ config, want string }{
		{`{"sandbox": "bogus"}`, `config.json: sandbox: unknown sandbox mode "bogus"`},
		{`{"approval": "always"}`, `config.json: approval "always": choose never or on-request`},
	} {
		isolate(t, c.config)
		code, _, stderr := run(t, "exec", "task")
		if code != 3 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "--") {
			t.Errorf("config %s: exit %d, stderr %q; want 3 and %q", c.config, code, stderr, c.want)
		}
	}
}

// TestSandboxFlagsAreSpelledOnce: exec, mcp and sandbox run show the same
// --sandbox/-s and --cd/-C; sandbox run's old --mode and --cwd are hidden.
func TestSandboxFlagsAreSpelledOnce(t *testing.T) {
	for _, cmd := range [][]string{{"exec"}, {"mcp"}, {"sandbox", "run"}} {
		code, stdout, stderr := run(t, append(cmd, "--help")...)
		if code != 0 {
			t.Fatalf("%v --help: exit %d, %s", cmd, code, stderr)
		}
		for _, want := range []string{"-s, --sandbox string", "-C, --cd string"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v --help lacks %q:\n%s", cmd, want, stdout)
			}
		}
		for _, old := range []string{"--mode string", "--cwd string"} {
			if strings.Contains(stdout, old) {
				t.Errorf("%v --help shows %s:\n%s", cmd, old, stdout)
			}
		}
	}
}

// fakeModel answers every request with a short text reply.
func fakeModel(t *testing.T) (url string, requests *int) {
	t.Helper()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"done\"}}]}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

// TestRunTimeFailuresAreNotUsageErrors: a failure once a command runs
// (stdout gone) exits 1 with a message that says so, never 2, "bad flags",
// and never 0 with the output silently lost.
func TestRunTimeFailuresAreNotUsageErrors(t *testing.T) {
	isolate(t, "")
	url, _ := fakeModel(t)
	t.Setenv("OPENAI_BASE_URL", url)
	t.Setenv("OPENAI_API_KEY", "k")
	ws := t.TempDir()

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"exec --json", []string{"exec", "--json", "--sandbox", "danger-full-access", "--cd", ws, "task"}, "writing a turn.started event to stdout: the disk is full"},
		{"exec, text", []string{"exec", "--sandbox", "danger-full-access", "--cd", ws, "task"}, "writing the answer to stdout: the disk is full"},
		{"doctor --json", []string{"doctor", "--json"}, "writing the report to stdout: the disk is full"},
		{"doctor", []string{"doctor"}, "writing the report to stdout: the disk is full"},
	} {
		var errOut bytes.Buffer
		code := Execute(c.args, failingWriter{}, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%s with stdout failing: exit %d, stderr %q; want 1 and %q", c.name, code, errOut.String(), c.want)
		}
	}
}

// TestMCPWriteFailureExits1: tern mcp whose stdout fails stops and says so.
func TestMCPWriteFailureExits1(t *testing.T) {
	isolate(t, "")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w.WriteString(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n")
	w.Close()
	stdin := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = stdin }()
	var errOut bytes.Buffer
	code := Execute([]string{"mcp", "--sandbox", "danger-full-access", "--cd", t.TempDir()}, failingWriter{}, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "writing a response to stdout: the disk is full") {
		t.Errorf("exit %d, stderr %q; want 1 and the write error", code, errOut.String())
	}
}

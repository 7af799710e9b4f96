package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// secrets are what tern's own environment held in the red-team run; none of
// them may reach a command the model runs, because its output goes to the
// model.
var secrets = []string{
	"OPENAI_API_KEY=sk-model-key",
	"GITHUB_TOKEN=ghp_secret",
	"AWS_SECRET_ACCESS_KEY=aws-secret",
	"SSH_AUTH_SOCK=/run/agent.sock",
	"DB_PASSWORD=hunter2",
	"FOO=bar",
}

// checkEnv checks the output of `env` run by the model: the ordinary
// variable present, each secret absent but those in allowed.
func checkEnv(t *testing.T, out string, allowed ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	has := func(kv string) bool {
		for _, l := range lines {
			if l == kv {
				return true
			}
		}
		return false
	}
	for _, kv := range secrets {
		name := kv[:strings.IndexByte(kv, '=')]
		want := name == "FOO" || contains(allowed, name)
		if has(kv) != want {
			t.Errorf("%s in the command's environment: %v, want %v\n%s", name, has(kv), want, out)
		}
	}
	if strings.Contains(out, "sk-model-key") {
		t.Errorf("the model's key reached the command:\n%s", out)
	}
}

// envPath is env(1) by its full path: the landlock backend's PATH holds
// only a few tools.
func envPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("env")
	if err != nil {
		t.Fatalf("env is not installed: %v", err)
	}
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mcpEnv runs `env` through `tern mcp` with the secrets in tern's
// environment, driven by the MCP SDK's client.
func mcpEnv(t *testing.T, extraEnv []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(ternBin, append([]string{"mcp", "--cd", workspace(t)}, args...)...)
	cmd.Env = append(append(os.Environ(), secrets...), extraEnv...)
	session, err := mcp.NewClient(&mcp.Implementation{Name: "env-test", Version: "1"}, nil).
		Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connecting to tern mcp %v: %v", args, err)
	}
	defer session.Close()
	r, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "shell", Arguments: map[string]any{"command": []string{envPath(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if r.IsError || !strings.Contains(b.String(), "[exit code 0]") {
		t.Fatalf("env failed: %s", b.String())
	}
	return b.String()
}

func TestMCPCommandsGetNoSecrets(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			env := b.env(t)
			checkEnv(t, mcpEnv(t, env))
			checkEnv(t, mcpEnv(t, env, "--env-allow", "GITHUB_TOKEN"), "GITHUB_TOKEN")
			// Even inheriting everything, the model's own key stays out.
			checkEnv(t, mcpEnv(t, env, "--env-inherit", "all"), "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "SSH_AUTH_SOCK", "DB_PASSWORD")
		})
	}
}

func TestMCPEnvNone(t *testing.T) {
	out := mcpEnv(t, nil, "--env-inherit", "none", "--env-allow", "FOO", "--env-set", "CI=1")
	checkEnv(t, out)
	for _, want := range []string{"PATH=" + os.Getenv("PATH"), "CI=1"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("%s missing with --env-inherit none:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		// Only the core, the allowed FOO and the set CI, plus what the
		// sandbox itself sets, such as TMPDIR and PWD.
		name, _, ok := strings.Cut(l, "=")
		if ok && !contains([]string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TERM", "TMPDIR", "TZ", "PWD", "SHLVL", "_", "FOO", "CI"}, name) && !strings.HasPrefix(name, "LC_") {
			t.Errorf("--env-inherit none passed %s", l)
		}
	}
}

func TestEnvPolicyBadValues(t *testing.T) {
	for _, c := range []struct {
		args   []string
		config string
		want   string
		code   int
	}{
		{[]string{"mcp", "--env-inherit", "some"}, "", `--env-inherit "some": choose all, default or none`, 2},
		{[]string{"exec", "--env-inherit", "some", "task"}, "", `--env-inherit "some": choose all, default or none`, 2},
		{[]string{"mcp", "--env-allow", "OPENAI_API_KEY"}, "", "--env-allow OPENAI_API_KEY: tern's own API key never reaches commands", 2},
		{[]string{"mcp", "--env-set", "CI"}, "", `--env-set "CI": write NAME=VALUE`, 2},
		// A bad config file is a configuration error, exit 3, naming the file and the key.
		{[]string{"mcp"}, `{"shell_environment_policy": {"inherit": "everything"}}`, `config.json: shell_environment_policy.inherit "everything": choose all, default or none`, 3},
		{[]string{"exec", "task"}, `{"shell_environment_policy": {"set": {"OPENAI_API_KEY": "x"}}}`, "config.json: shell_environment_policy.set OPENAI_API_KEY: tern's own API key never reaches commands", 3},
	} {
		cfg := t.TempDir()
		if c.config != "" {
			os.MkdirAll(filepath.Join(cfg, "tern"), 0o755)
			os.WriteFile(filepath.Join(cfg, "tern", "config.json"), []byte(c.config), 0o644)
		}
		r := tern(t, workspace(t), []string{"XDG_CONFIG_HOME=" + cfg, "OPENAI_API_KEY=k", "OPENAI_BASE_URL=http://127.0.0.1:1"}, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("tern %v with config %s: exit %d, stderr %q; want %d and %q", c.args, c.config, r.code, r.stderr, c.code, c.want)
		}
	}
}

func TestExecCommandsGetNoSecrets(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range []struct {
				args    []string
				config  string
				allowed []string
			}{
				{nil, "", nil},
				{[]string{"--env-allow", "GITHUB_TOKEN"}, "", []string{"GITHUB_TOKEN"}},
				{nil, `{"shell_environment_policy": {"allow": ["DB_PASSWORD"]}}`, []string{"DB_PASSWORD"}},
				{[]string{"--env-inherit", "all"}, "", []string{"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "SSH_AUTH_SOCK", "DB_PASSWORD"}},
			} {
				f := newFakeModel(t,
					answer(call("c1", "shell", map[string]any{"command": []string{envPath(t)}})),
					answer([]string{text("done")}),
				)
				cfg := t.TempDir()
				if c.config != "" {
					os.MkdirAll(filepath.Join(cfg, "tern"), 0o755)
					os.WriteFile(filepath.Join(cfg, "tern", "config.json"), []byte(c.config), 0o644)
				}
				env := append(append([]string{}, secrets...), b.env(t)...)
				env = append(env, "OPENAI_BASE_URL="+f.URL, "XDG_CONFIG_HOME="+cfg)
				r := tern(t, workspace(t), env, append(append([]string{"exec"}, c.args...), "show the environment")...)
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				checkEnv(t, f.lastToolResult(), c.allowed...)
			}
		})
	}
}

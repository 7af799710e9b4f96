package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/agent/internal/config"
	"github.com/tern-agent/tern/agent/internal/exitcode"
	"github.com/tern-agent/tern/agent/internal/model"
	"github.com/tern-agent/tern/agent/internal/session"
)

type execOptions struct {
	model, baseURL, approval string
	asJSON                   bool
	sandbox                  sandboxOptions
	env                      envOptions
}

func newExec() *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec [flags] \"task\"",
		Short: "Run the agent on a task, non-interactively",
		Long: `Run a coding agent loop against an OpenAI-compatible Chat Completions API.
The model may list and read files, apply patches and run commands, all in
the sandbox (workspace-write by default).

Configuration: --base-url or OPENAI_BASE_URL, OPENAI_API_KEY, and an
optional config file, $XDG_CONFIG_HOME/tern/config.json, with the keys model,
base_url, sandbox, approval and shell_environment_policy ({inherit, allow,
set}); flags override it.

Commands get tern's environment without the variables that look like
secrets (*KEY*, *SECRET*, *TOKEN*, *PASSWORD*, *PASSWD*, *CREDENTIAL*,
*_PAT, URLs with a password, SSH_AUTH_SOCK, DBUS_SESSION_BUS_ADDRESS), and
never OPENAI_API_KEY: see --env-inherit,
--env-allow and --env-set.

Exit codes: 0 done; 1 writing the output failed; 2 bad flags; 3
configuration or credentials; 4 the model API failed; 125 the sandbox
cannot run here; 130 interrupted (Ctrl-C; a second Ctrl-C exits at once).
--json prints JSONL events; see docs/exec-events.md.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args[0])
		},
	}
	cmd.Flags().StringVar(&o.model, "model", "", "the model (default from the config file, else gpt-4.1)")
	cmd.Flags().StringVar(&o.baseURL, "base-url", "", "the API root (default OPENAI_BASE_URL, else https://api.openai.com/v1)")
	cmd.Flags().StringVar(&o.approval, "approval", "", "never (default) or on-request: ask on the terminal before running outside the sandbox")
	o.sandbox.addFlags(cmd, false)
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print JSONL events on stdout")
	o.env.addFlags(cmd)
	return cmd
}

func (o execOptions) run(cmd *cobra.Command, task string) error {
	fc, err := config.Load()
	if err != nil {
		return &exitError{code: exitcode.Config, err: err}
	}
	pick := func(flag, file, env, def string) string {
		for _, v := range []string{flag, file, env, def} {
			if v != "" {
				return v
			}
		}
		return ""
	}
	baseURL := pick(o.baseURL, fc.BaseURL, os.Getenv("OPENAI_BASE_URL"), "https://api.openai.com/v1")
	modelName := pick(o.model, fc.Model, "", "gpt-4.1")
	approval := pick(o.approval, fc.Approval, "", "never")
	if approval != "never" && approval != "on-request" {
		if o.approval == "" {
			return &exitError{code: exitcode.Config, err: fmt.Errorf("%s: approval %q: choose never or on-request", fc.Path, approval)}
		}
		return usageError(fmt.Errorf("--approval %q: choose never or on-request", approval))
	}
	env, err := commandEnv(fc, o.env)
	if err != nil {
		return err
	}
	sb, err := o.sandbox.setup(fc.Sandbox, fc.Path)
	if err != nil {
		return err
	}
	set := sb.tools(env)
	if approval == "on-request" {
		set.Escalate = askOnTerminal(cmd.ErrOrStderr())
	}
	client := &model.Client{
		BaseURL: baseURL, APIKey: os.Getenv("OPENAI_API_KEY"), Model: modelName,
		MaxRetries: 4, Backoff: 500 * time.Millisecond,
	}
	if v := os.Getenv("TERN_RETRY_BACKOFF_MS"); v != "" { // tests shorten the waits
		var ms int
		fmt.Sscan(v, &ms)
		client.Backoff = time.Duration(ms) * time.Millisecond
	}

	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	emit := textEvents(out, errOut)
	if o.asJSON {
		emit = jsonEvents(out)
	}
	client.OnRetry = func(attempt int, wait time.Duration, reason string) {
		if !o.asJSON {
			fmt.Fprintf(errOut, "tern: %s; retry %d in %s\n", reason, attempt, wait.Round(time.Millisecond))
		}
	}

	ctx, stop := interruptible(cmd.Context(), errOut)
	defer stop()
	_, err = session.Run(ctx, session.Options{Client: client, Tools: set, Task: task, Emit: emit})
	var auth *model.AuthError
	var emitErr *session.EmitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &emitErr):
		return &exitError{code: exitcode.Failure, err: fmt.Errorf("stopped: %w", err)}
	case errors.Is(err, session.ErrInterrupted):
		return &exitError{code: exitcode.Interrupted, err: errors.New("interrupted")}
	case errors.As(err, &auth):
		return &exitError{code: exitcode.Config, err: err}
	default:
		return &exitError{code: exitcode.Model, err: err}
	}
}

// jsonEvents writes each event as one line of JSON. A failed write (a
// closed pipe, a full disk) is returned, and stops the run: a reader that
// misses events must not be told the run went well.
func jsonEvents(out io.Writer) func(session.Event) error {
	enc := json.NewEncoder(out)
	return func(e session.Event) error {
		if err := enc.Encode(e); err != nil {
			return fmt.Errorf("writing a %s event to stdout: %w", e.Type, err)
		}
		return nil
	}
}

// textEvents prints assistant text to stdout as it arrives and tool
// activity to stderr. All of it comes from the model or its commands, so its
// escapes are spelled out: on a terminal they could hide or redraw the
// approval prompt.
//
// A failed write to stdout stops the run, as in --json mode; the progress
// on stderr is best effort.
func textEvents(out, errOut io.Writer) func(session.Event) error {
	return func(e session.Event) error {
		var err error
		switch e.Type {
		case session.EventMessageDelta:
			_, err = fmt.Fprint(out, terminalText(e.Text))
		case session.EventToolCall:
			fmt.Fprintf(errOut, "\n» %s %s\n", escapeControls(e.Tool), escapeControls(e.Arguments))
		case session.EventToolResult:
			lines := strings.Split(terminalText(strings.TrimSpace(e.Output)), "\n")
			if len(lines) > 6 {
				lines = append(lines[:6], fmt.Sprintf("… (%d more lines)", len(lines)-6))
			}
			for _, l := range lines {
				fmt.Fprintf(errOut, "  %s\n", l)
			}
		case session.EventTurnCompleted:
			_, err = fmt.Fprintf(out, "\n")
			if e.Usage != nil {
				fmt.Fprintf(errOut, "tokens: %d in, %d out\n", e.Usage.PromptTokens, e.Usage.CompletionTokens)
			}
		}
		if err != nil {
			return fmt.Errorf("writing the answer to stdout: %w", err)
		}
		return nil
	}
}

// interruptible cancels the context on the first SIGINT or SIGTERM, which
// stops the turn and kills running commands; a second one exits at once.
func interruptible(parent context.Context, errOut io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for range sigs {
			n++
			if n == 1 {
				fmt.Fprintln(errOut, "\ntern: interrupting; press Ctrl-C again to quit at once")
				cancel()
				continue
			}
			os.Exit(int(exitcode.Interrupted))
		}
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}

// askOnTerminal asks on /dev/tty before a command runs outside the sandbox.
// Without a terminal it refuses, and the model is told why.
func askOnTerminal(errOut io.Writer) func([]string, string) bool {
	return func(argv []string, reason string) bool {
		tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
		if err != nil {
			return false
		}
		defer tty.Close()
		// The argv and the reason come from the model: shown raw, their
		// escapes could clear the screen and draw an innocent command.
		fmt.Fprintf(tty, "tern wants to run outside the sandbox: %s\n  reason: %s\nAllow? [y/N] ", quoteArgv(argv), escapeControls(reason))
		answer, _ := bufio.NewReader(tty).ReadString('\n')
		return strings.EqualFold(strings.TrimSpace(answer), "y")
	}
}

// quoteArgv writes argv as one shell command line a person can read and
// paste: a word of only safe characters as it is, any other in single
// quotes, and one holding a character escapeControls would escape in bash's
// $'…' quotes, with that character spelled out. What it shows is what runs.
func quoteArgv(argv []string) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = quoteWord(a)
	}
	return strings.Join(words, " ")
}

func quoteWord(s string) string {
	if s == "" {
		return "''"
	}
	if strings.IndexFunc(s, func(r rune) bool { return !isShellSafe(r) }) < 0 {
		return s
	}
	if escapeControls(s) == s {
		return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "$'" + escapeControls(r.Replace(s)) + "'"
}

func isShellSafe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r)
}

// escapeControls spells out every character that could change what a
// terminal shows rather than show itself: C0 controls, DEL, C1 controls
// (U+009B is a CSI on its own), format characters, among them the bidi
// overrides and isolates (U+202A–U+202E, U+2066–U+2069) that reorder text,
// line and paragraph separators, and bytes that are not UTF-8. The escapes
// are the ones bash's $'…' reads: \n, \t, \r, \xHH, \uHHHH, \UHHHHHHHH.
func escapeControls(s string) string { return escapeExcept(s, "") }

// terminalText is escapeControls for text meant to flow on a terminal, which
// keeps its newlines and tabs.
func terminalText(s string) string { return escapeExcept(s, "\n\t") }

func escapeExcept(s, keep string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case strings.ContainsRune(keep, r):
			b.WriteRune(r)
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

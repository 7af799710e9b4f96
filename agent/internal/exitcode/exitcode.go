// Package exitcode is the one table of tern's exit codes. Every command
// (sandbox run, exec, mcp, doctor) exits with one of these, or, for sandbox
// run, with the sandboxed command's own code; docs/exec-events.md shows the
// same table, and a test keeps the two in step. It must never decide which
// code a failure gets: the commands do, by the kind of failure.
package exitcode

// Code is an exit status of tern.
type Code int

const (
	OK Code = 0
	// Failure is a run-time failure that fits no other row: tern doctor
	// found a problem, or writing to stdout failed.
	Failure Code = 1
	// Usage is a bad command line: an unknown flag, a bad flag value, a
	// missing argument. The message names the flag of the command run.
	Usage Code = 2
	// Config is a bad config file, or credentials the model API refused.
	Config Code = 3
	// Model is the model API failing after its retries, an error the
	// provider sent in place of an answer (model.APIError), or a cut stream.
	Model Code = 4
	// SandboxFailed is a sandbox tern could not set up on this machine;
	// the command never ran. 125 as env(1) and the shells use it.
	SandboxFailed Code = 125
	// NotExecutable is a command that exists but cannot be run.
	NotExecutable Code = 126
	// NotFound is a command that does not exist.
	NotFound Code = 127
	// Interrupted is a run stopped by Ctrl-C or SIGTERM (128+SIGINT).
	Interrupted Code = 130
)

// Table lists every code with its meaning, in order: the source of the
// table in docs/exec-events.md.
var Table = []struct {
	Code    Code
	Meaning string
}{
	{OK, "done"},
	{Failure, "a run-time failure: `tern doctor` found a problem, or writing the output failed"},
	{Usage, "bad flags or arguments"},
	{Config, "a bad config file, or credentials the model API refused (a 401 or 403 names `OPENAI_API_KEY`)"},
	{Model, "the model API failed after retries, reported an error in place of an answer, or its stream was cut"},
	{SandboxFailed, "the sandbox could not be set up on this machine; nothing ran"},
	{NotExecutable, "`tern sandbox run`: the command is not executable"},
	{NotFound, "`tern sandbox run`: the command was not found"},
	{Interrupted, "interrupted (Ctrl-C or SIGTERM; a second Ctrl-C exits at once)"},
}

// Package childenv decides the environment of the commands tern runs for a
// model. Whatever a command can read, the model can read in its output, so
// tern's own environment, which holds the user's credentials, is filtered
// before it reaches a command. The shape follows Codex's
// shell_environment_policy: what to inherit, then names let through, then
// values set.
//
// It must never let tern's own API key (ModelKeys) through, whatever the
// policy says: that key is the one secret the model's provider already
// trusts tern with, and a command could send it anywhere.
package childenv

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Inherit says which of tern's variables a command starts from.
type Inherit string

const (
	// InheritDefault passes every variable but those that look like
	// secrets (SecretPatterns).
	InheritDefault Inherit = "default"
	// InheritAll passes every variable.
	InheritAll Inherit = "all"
	// InheritNone passes only the Core variables a command needs to run.
	InheritNone Inherit = "none"
)

// Inherits are the valid values, in the order error messages name them.
var Inherits = []Inherit{InheritAll, InheritDefault, InheritNone}

// ModelKeys are the variables tern reads its model credentials from. They
// never reach a command.
var ModelKeys = []string{"OPENAI_API_KEY"}

// SecretPatterns are the names InheritDefault drops, matched without regard
// to case: anything naming a key, secret, token, password or credential
// (GitHub's personal access tokens travel as *_PAT), and the sockets that
// let a command act as the user (ssh-agent, the D-Bus session). It also
// drops any variable whose value is a URL with a password in it
// (DATABASE_URL=postgres://u:pw@host).
var SecretPatterns = []string{"*KEY*", "*SECRET*", "*TOKEN*", "*PASSWORD*", "*PASSWD*", "*CREDENTIAL*", "*_PAT",
	"SSH_AUTH_SOCK", "DBUS_SESSION_BUS_ADDRESS"}

// urlWithPassword matches a value that starts with a URL whose user info
// carries a password.
var urlWithPassword = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@`)

// Core are the variables InheritNone keeps: enough to find programs, name
// the user, pick a locale and a temporary directory. The Windows ones let a
// program start there at all.
var Core = []string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_*", "TERM", "TMPDIR", "TZ",
	"SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP", "USERPROFILE", "USERNAME"}

// Policy is the environment policy of one session. The zero Policy is the
// default one.
type Policy struct {
	Inherit Inherit           `json:"inherit,omitempty"`
	Allow   []string          `json:"allow,omitempty"` // names passed even if Inherit would drop them
	Set     map[string]string `json:"set,omitempty"`   // values set last, over anything inherited
}

// ParseInherit reads an Inherit; "" is the default.
func ParseInherit(s string) (Inherit, error) {
	if s == "" {
		return InheritDefault, nil
	}
	if slices.Contains(Inherits, Inherit(s)) {
		return Inherit(s), nil
	}
	names := make([]string, len(Inherits))
	for i, v := range Inherits {
		names[i] = string(v)
	}
	return "", fmt.Errorf("%q: choose %s or %s", s, strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

// CheckName says why name cannot be allowed or set by a policy, or nil.
func CheckName(name string) error {
	switch {
	case name == "" || strings.ContainsAny(name, "=\x00"):
		return fmt.Errorf("%q is not a variable name", name)
	case isModelKey(name):
		return errors.New("tern's own API key never reaches commands")
	}
	return nil
}

// Validate reports the first thing wrong with p, naming the field as the
// config file spells it.
func (p Policy) Validate() error {
	if _, err := ParseInherit(string(p.Inherit)); err != nil {
		return fmt.Errorf("inherit %w", err)
	}
	for _, name := range p.Allow {
		if err := CheckName(name); err != nil {
			return fmt.Errorf("allow %s: %w", name, err)
		}
	}
	for _, name := range sortedKeys(p.Set) {
		if err := CheckName(name); err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
	}
	return nil
}

// Environ builds a command's environment from tern's own (as os.Environ
// gives it), keeping its order; variables set by the policy that tern does
// not have come last, sorted. It never returns nil, which would mean "tern's
// own environment" to the sandbox.
func (p Policy) Environ(parent []string) []string {
	inherit, _ := ParseInherit(string(p.Inherit))
	env := []string{}
	done := map[string]bool{}
	for _, kv := range parent {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || isModelKey(name) {
			continue
		}
		if v, set := p.Set[name]; set {
			if !done[name] {
				env = append(env, name+"="+v)
			}
			done[name] = true
			continue
		}
		value := kv[len(name)+1:]
		if slices.Contains(p.Allow, name) || keeps(inherit, name) && !(inherit == InheritDefault && urlWithPassword.MatchString(value)) {
			env = append(env, kv)
		}
	}
	for _, name := range sortedKeys(p.Set) {
		if !done[name] && !isModelKey(name) {
			env = append(env, name+"="+p.Set[name])
		}
	}
	return env
}

func keeps(inherit Inherit, name string) bool {
	switch inherit {
	case InheritAll:
		return true
	case InheritNone:
		return matchesAny(Core, name)
	default:
		return !matchesAny(SecretPatterns, name)
	}
}

// Describe is the policy in one line, for `tern doctor` and logs, such as
// "default: drops *KEY*, … DBUS_SESSION_BUS_ADDRESS, URLs with a password,
// and always OPENAI_API_KEY; allows GITHUB_TOKEN; sets CI".
func (p Policy) Describe() string {
	inherit, err := ParseInherit(string(p.Inherit))
	if err != nil {
		return "invalid: inherit " + err.Error()
	}
	never := strings.Join(ModelKeys, ", ")
	var b strings.Builder
	switch inherit {
	case InheritAll:
		fmt.Fprintf(&b, "all: passes every variable but %s", never)
	case InheritNone:
		fmt.Fprintf(&b, "none: passes only %s", strings.Join(Core, ", "))
	default:
		fmt.Fprintf(&b, "default: drops %s, URLs with a password, and always %s", strings.Join(SecretPatterns, ", "), never)
	}
	if len(p.Allow) > 0 {
		fmt.Fprintf(&b, "; allows %s", strings.Join(p.Allow, ", "))
	}
	if len(p.Set) > 0 {
		fmt.Fprintf(&b, "; sets %s", strings.Join(sortedKeys(p.Set), ", "))
	}
	return b.String()
}

func isModelKey(name string) bool {
	for _, k := range ModelKeys {
		if strings.EqualFold(name, k) {
			return true
		}
	}
	return false
}

// matchesAny matches name, without regard to case, against patterns that
// are a name, NAME* or *NAME*.
func matchesAny(patterns []string, name string) bool {
	upper := strings.ToUpper(name)
	for _, p := range patterns {
		inner, leading := strings.CutPrefix(p, "*")
		inner, trailing := strings.CutSuffix(inner, "*")
		switch {
		case leading && trailing && strings.Contains(upper, inner),
			leading && !trailing && strings.HasSuffix(upper, inner),
			!leading && trailing && strings.HasPrefix(upper, inner),
			!leading && !trailing && upper == inner:
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

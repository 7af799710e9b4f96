package cli

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tern-agent/tern/agent/internal/childenv"
	"github.com/tern-agent/tern/agent/internal/config"
)

// envOptions are the flags, shared by tern exec and tern mcp, that adjust
// the config file's shell_environment_policy.
type envOptions struct {
	inherit    string
	allow, set []string
}

func (o *envOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.inherit, "env-inherit", "", "the variables commands inherit: default (all but names like *KEY*, *SECRET*, *TOKEN*, *PASSWORD*, URLs with a password and agent sockets), all, or none (PATH, HOME, locale and a few more)")
	cmd.Flags().StringArrayVar(&o.allow, "env-allow", nil, "pass the variable NAME to commands even if it looks like a secret (repeatable)")
	cmd.Flags().StringArrayVar(&o.set, "env-set", nil, "set NAME=VALUE in commands' environment (repeatable)")
}

// policy is the config file's policy with the flags applied: --env-inherit
// replaces its inherit, --env-allow and --env-set add to its lists. An
// error names the flag and is a usage error.
func (o envOptions) policy(fromFile childenv.Policy) (childenv.Policy, error) {
	p := childenv.Policy{Inherit: fromFile.Inherit, Allow: slices.Clone(fromFile.Allow), Set: maps.Clone(fromFile.Set)}
	if o.inherit != "" {
		in, err := childenv.ParseInherit(o.inherit)
		if err != nil {
			return p, fmt.Errorf("--env-inherit %w", err)
		}
		p.Inherit = in
	}
	for _, name := range o.allow {
		if err := childenv.CheckName(name); err != nil {
			return p, fmt.Errorf("--env-allow %s: %w", name, err)
		}
		p.Allow = append(p.Allow, name)
	}
	for _, kv := range o.set {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return p, fmt.Errorf("--env-set %q: write NAME=VALUE", kv)
		}
		if err := childenv.CheckName(name); err != nil {
			return p, fmt.Errorf("--env-set %s: %w", name, err)
		}
		if p.Set == nil {
			p.Set = map[string]string{}
		}
		p.Set[name] = value
	}
	return p, nil
}

// commandEnv is the environment the session's commands get, by the config
// file's policy and the flags.
func commandEnv(fc config.File, o envOptions) ([]string, error) {
	p, err := o.policy(fc.Env)
	if err != nil {
		return nil, usageError(err)
	}
	return p.Environ(os.Environ()), nil
}

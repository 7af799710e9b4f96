// Package config loads tern's optional config file,
// $XDG_CONFIG_HOME/tern/config.json (os.UserConfigDir elsewhere). It only
// reads and validates the file; flags and environment variables override
// it in the commands, and it must never look at either.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tern-agent/tern/agent/internal/childenv"
)

// File is the config file's content. Every key is optional.
type File struct {
	Model    string          `json:"model"`
	BaseURL  string          `json:"base_url"`
	Sandbox  string          `json:"sandbox"`
	Approval string          `json:"approval"`
	Env      childenv.Policy `json:"shell_environment_policy"`

	// Path is where the file was read from, for errors that name it; empty
	// when there is none.
	Path string `json:"-"`
}

// Load reads the config file. A missing file (or config directory) is an
// empty config; a file that does not parse or validate is an error that
// names it.
func Load() (File, error) {
	var f File
	dir, err := os.UserConfigDir()
	if err != nil {
		return f, nil
	}
	p := filepath.Join(dir, "tern", "config.json")
	raw, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, err
	}
	return parse(p, raw)
}

func parse(p string, raw []byte) (File, error) {
	var f File
	if err := json.Unmarshal(raw, &f); err != nil {
		return File{}, fmt.Errorf("%s: %w", p, err)
	}
	if err := f.Env.Validate(); err != nil {
		return File{}, fmt.Errorf("%s: shell_environment_policy.%w", p, err)
	}
	f.Path = p
	return f, nil
}

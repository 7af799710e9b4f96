// Package build is the first release step: it has GoReleaser compile the
// binaries, then registers exactly what GoReleaser reports in its
// artifacts.json. It never guesses paths, and never compiles by itself.
package build

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/pipeline"
)

// Environment variables .goreleaser.yaml stamps into the binaries, so that
// the version the packager decided is the version every binary carries.
const (
	EnvVersion = "RELEASE_VERSION"
	EnvCommit  = "RELEASE_COMMIT"
	EnvDate    = "RELEASE_DATE"  // RFC 3339
	EnvEpoch   = "RELEASE_EPOCH" // seconds, for mod_timestamp
	// EnvHelperPrefix + <helper>_<goos>_<goarch> holds the sha256 a target's
	// shipped helper must have; the binary checks it before running the helper.
	EnvHelperPrefix = "RELEASE_HELPER_SHA256_"
)

// Pipe runs GoReleaser, unless Reuse is set, and registers its binaries.
type Pipe struct {
	GoReleaser string // the goreleaser binary
	Reuse      bool   // read the artifacts.json of an earlier build instead
}

func (p Pipe) String() string {
	if p.Reuse {
		return "read GoReleaser's artifacts.json"
	}
	return "build with GoReleaser"
}

func (p Pipe) Run(ctx *pipeline.Context) error {
	if !p.Reuse {
		if err := p.goreleaser(ctx); err != nil {
			return err
		}
	}
	return Register(ctx)
}

func (p Pipe) goreleaser(ctx *pipeline.Context) error {
	helperEnv, err := helperDigests(ctx)
	if err != nil {
		return err
	}
	args := []string{"build", "--clean"}
	if ctx.Version.Snapshot {
		args = append(args, "--snapshot")
	}
	cmd := exec.CommandContext(ctx, p.GoReleaser, args...)
	cmd.Dir = ctx.Root
	cmd.Env = append(os.Environ(),
		EnvVersion+"="+ctx.Version.String(),
		EnvCommit+"="+ctx.Version.Commit,
		EnvDate+"="+ctx.Version.Time.UTC().Format("2006-01-02T15:04:05Z"),
		EnvEpoch+"="+strconv.FormatInt(ctx.Version.Time.Unix(), 10),
	)
	cmd.Env = append(cmd.Env, helperEnv...)
	cmd.Stdout, cmd.Stderr = ctx.Log, ctx.Log
	if err := cmd.Run(); err != nil {
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return fmt.Errorf("%s not found: run `make tools`, or pass --goreleaser", p.GoReleaser)
		}
		return fmt.Errorf("%s %s: %w", p.GoReleaser, strings.Join(args, " "), err)
	}
	return nil
}

// helperDigests sets, for every target and every helper any target ships,
// the digest of that target's helper, empty where it ships none, so that
// .goreleaser.yaml can stamp it whatever the target. The binary checks a
// helper against its stamped digest, and runs it unchecked when the digest
// is empty: so a helper a target ships must have a digest, or the build stops.
func helperDigests(ctx *pipeline.Context) ([]string, error) {
	names := map[string]bool{}
	for _, t := range ctx.Config.Targets {
		for _, h := range t.Helpers {
			names[h] = true
		}
	}
	var env []string
	for _, t := range ctx.Config.Targets {
		ships := map[string]bool{}
		for _, h := range t.Helpers {
			ships[h] = true
		}
		for name := range names {
			sum := ""
			for _, h := range ctx.Artifacts.Filter(artifact.And(artifact.ByKind(artifact.Helper), artifact.ByTarget(t.Name))) {
				if h.Name != name {
					continue
				}
				var err error
				if sum, _, err = artifact.SHA256File(h.Path); err != nil {
					return nil, fmt.Errorf("hashing the %s helper %s for the %s_sha256 stamp: %w (rebuild it: packager helpers build --target %s)", t.Name, h.Path, name, err, t.Name)
				}
			}
			if sum == "" && ships[name] {
				return nil, fmt.Errorf("%s ships %s, but no %s helper was built, so the binary's %s_sha256 stamp would be empty: run packager helpers build --target %s", t.Name, name, name, name, t.Name)
			}
			env = append(env, fmt.Sprintf("%s%s_%s_%s=%s", EnvHelperPrefix, name, t.GOOS, t.GOARCH, sum))
		}
	}
	return env, nil
}

// goreleaserArtifact is the part of an artifacts.json entry we read.
type goreleaserArtifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	Type   string `json:"type"`
}

// Register reads dist/build/artifacts.json and adds one Binary per target.
// Every configured target must have exactly one binary, and GoReleaser must
// not have built one for a target the release does not ship.
func Register(ctx *pipeline.Context) error {
	path := filepath.Join(ctx.BuildDir(), "artifacts.json")
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s is missing: run the build first (packager release builds)", path)
	}
	if err != nil {
		return err
	}
	var entries []goreleaserArtifact
	if err := json.Unmarshal(raw, &entries); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	found := map[string]bool{}
	for _, e := range entries {
		if e.Type != "Binary" {
			continue
		}
		t, ok := ctx.Config.TargetFor(e.GOOS, e.GOARCH)
		if !ok {
			return fmt.Errorf("%s lists a binary for %s/%s, which release.yaml has no target for", path, e.GOOS, e.GOARCH)
		}
		if found[t.Name] {
			return fmt.Errorf("%s lists two binaries for %s", path, t.Name)
		}
		found[t.Name] = true
		binPath := e.Path
		if !filepath.IsAbs(binPath) {
			binPath = filepath.Join(ctx.Root, binPath)
		}
		if _, err := os.Stat(binPath); err != nil {
			return fmt.Errorf("%s lists %s, which is not there: rebuild", path, binPath)
		}
		ctx.Artifacts.Add(artifact.Artifact{Name: ctx.Config.BinaryName(t), Path: binPath, Kind: artifact.Binary, Target: t.Name})
	}
	var missing []string
	for _, t := range ctx.Config.Targets {
		if !found[t.Name] {
			missing = append(missing, t.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s has no binary for %s: check the builds in .goreleaser.yaml", path, strings.Join(missing, ", "))
	}
	return nil
}

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
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/fileutil"
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
//
// ctx.Config.Targets are the targets to build. When they are only some of
// release.yaml's (a split build: packager build --targets), All holds every
// target of release.yaml: GoReleaser then runs once with a config limited
// to the targets asked for, and a reused build's binaries for the other
// targets are left out rather than refused.
type Pipe struct {
	GoReleaser string // the goreleaser binary
	Reuse      bool   // read the artifacts.json of an earlier build instead
	All        []config.Target
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
	return register(ctx, p.All)
}

// split says whether ctx.Config holds only some of release.yaml's targets.
func (p Pipe) split(ctx *pipeline.Context) bool {
	return len(p.All) > 0 && len(p.All) != len(ctx.Config.Targets)
}

// GoReleaserConfig is the GoReleaser config the packager writes when a
// repository has none.
const GoReleaserConfig = ".goreleaser.yaml"

// GoReleaserConfigNames are the names GoReleaser looks for, in its order:
// the packager reads the same file GoReleaser builds with.
var GoReleaserConfigNames = []string{
	".config/goreleaser.yml", ".config/goreleaser.yaml",
	".goreleaser.yml", ".goreleaser.yaml", "goreleaser.yml", "goreleaser.yaml",
}

// FindGoReleaserConfig is the repository's GoReleaser config, relative to
// root: the first of GoReleaserConfigNames that exists, else
// GoReleaserConfig and false.
func FindGoReleaserConfig(root string) (string, bool) {
	for _, name := range GoReleaserConfigNames {
		if st, err := os.Stat(filepath.Join(root, filepath.FromSlash(name))); err == nil && st.Mode().IsRegular() {
			return name, true
		}
	}
	return GoReleaserConfig, false
}

// goreleaserConfig is the path of the config GoReleaser will read.
func goreleaserConfig(root string) string {
	rel, _ := FindGoReleaserConfig(root)
	return filepath.Join(root, filepath.FromSlash(rel))
}

// checkDist refuses a GoReleaser config that writes somewhere other than
// where the packager reads, before GoReleaser runs for minutes and the
// packager then finds nothing: the key to set is named.
func checkDist(ctx *pipeline.Context) error {
	src := goreleaserConfig(ctx.Root)
	raw, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("%w (run `packager init` to write one)", err)
	}
	var doc struct {
		Dist string `yaml:"dist"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	want, err := filepath.Rel(ctx.Root, ctx.BuildDir())
	if err != nil {
		return err
	}
	want = filepath.ToSlash(want)
	if got := strings.TrimSuffix(filepath.ToSlash(filepath.Clean(doc.Dist)), "/"); got != want {
		if doc.Dist == "" {
			doc.Dist = "dist, GoReleaser's default"
		}
		return fmt.Errorf("%s: dist is %s, but the packager reads GoReleaser's output from %s: set `dist: %s`", src, doc.Dist, want, want)
	}
	return nil
}

// limitConfig writes dist/goreleaser.targets.yaml: .goreleaser.yaml with
// each build's goos/goarch matrix replaced by the list of targets asked
// for. One GoReleaser run builds them all, in parallel, into one
// artifacts.json; every flag, ldflag and env stays as written, so a binary
// is the same bytes whichever way it was built. (--single-target builds the
// host's target alone, and one run per target would pay GoReleaser's start
// and --clean each time.)
func limitConfig(ctx *pipeline.Context) (string, error) {
	src := goreleaserConfig(ctx.Root)
	raw, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", fmt.Errorf("%s: %w", src, err)
	}
	builds, ok := doc["builds"].([]any)
	if !ok || len(builds) == 0 {
		return "", fmt.Errorf("%s has no builds to limit to %s", src, targetNames(ctx.Config.Targets))
	}
	var targets []string
	for _, t := range ctx.Config.Targets {
		targets = append(targets, t.GoReleaserTarget())
	}
	for i, b := range builds {
		build, ok := b.(map[string]any)
		if !ok {
			return "", fmt.Errorf("%s: builds[%d] is not a mapping", src, i)
		}
		for _, k := range []string{"goos", "goarch", "goarm", "goamd64", "ignore"} {
			delete(build, k)
		}
		build["targets"] = targets
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(ctx.Dist, "goreleaser.targets.yaml")
	return path, os.WriteFile(path, out, 0o644)
}

func targetNames(ts []config.Target) string {
	var names []string
	for _, t := range ts {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

// GoReleaserVersion is what `goreleaser --version` says it is (v2.15.0), or
// "" when it cannot be run: the handoff records it, and a merge refuses
// handoffs built by different GoReleasers.
func GoReleaserVersion(goreleaser string) string {
	if goreleaser == "" {
		return ""
	}
	out, err := exec.Command(goreleaser, "--version").Output()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "GitVersion:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (p Pipe) goreleaser(ctx *pipeline.Context) error {
	helperEnv, err := helperDigests(ctx)
	if err != nil {
		return err
	}
	if err := checkDist(ctx); err != nil {
		return err
	}
	args := []string{"build", "--clean"}
	if p.split(ctx) {
		limited, err := limitConfig(ctx)
		if err != nil {
			return err
		}
		args = append(args, "--config", limited)
	}
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
				if sum, _, err = fileutil.SHA256File(h.Path); err != nil {
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
	GOARM  string `json:"goarm"`
	Type   string `json:"type"`
}

// Register reads dist/build/artifacts.json and adds one Binary per target.
// Every configured target must have exactly one binary, and GoReleaser must
// not have built one for a target the release does not ship.
func Register(ctx *pipeline.Context) error { return register(ctx, nil) }

// register is Register for a split build: a binary for a target of all that
// ctx.Config does not hold is left out.
func register(ctx *pipeline.Context, all []config.Target) error {
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
		t, ok := ctx.Config.TargetFor(e.GOOS, e.GOARCH, e.GOARM)
		if !ok && slices.ContainsFunc(all, func(t config.Target) bool { return t.Matches(e.GOOS, e.GOARCH, e.GOARM) }) {
			continue // another machine's target
		}
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

package release

import (
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tern-agent/tern/packager/internal/aptrepo"
	"github.com/tern-agent/tern/packager/internal/artifact"
	"github.com/tern-agent/tern/packager/internal/brew"
	"github.com/tern-agent/tern/packager/internal/build"
	"github.com/tern-agent/tern/packager/internal/checksum"
	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/dotslash"
	"github.com/tern-agent/tern/packager/internal/fileutil"
	"github.com/tern-agent/tern/packager/internal/handoff"
	"github.com/tern-agent/tern/packager/internal/helperbuild"
	"github.com/tern-agent/tern/packager/internal/installers"
	"github.com/tern-agent/tern/packager/internal/layout"
	"github.com/tern-agent/tern/packager/internal/linuxpkg"
	"github.com/tern-agent/tern/packager/internal/manifest"
	"github.com/tern-agent/tern/packager/internal/notices"
	"github.com/tern-agent/tern/packager/internal/npm"
	"github.com/tern-agent/tern/packager/internal/pack"
	"github.com/tern-agent/tern/packager/internal/pipeline"
	"github.com/tern-agent/tern/packager/internal/platformsign"
	"github.com/tern-agent/tern/packager/internal/sbom"
	"github.com/tern-agent/tern/packager/internal/scoop"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/stage"
	"github.com/tern-agent/tern/packager/internal/thirdparty"
	"github.com/tern-agent/tern/packager/internal/version"
	"github.com/tern-agent/tern/packager/internal/winget"
)

// A release is two halves that may run on different machines:
//
//   - Build (packager build --targets): helpers → build → stage for some
//     targets, written as a handoff directory;
//   - Merge (packager merge HANDOFF...): check every handoff, then stage
//     their trees → pack → npm, installers, SBOMs, DotSlash → manifest →
//     checksum → sign → verify.
//
// Run is Build of every target followed by Merge, so a one-machine release
// and a split one take the same path and give the same bytes.

// BuildOptions configure the build half.
type BuildOptions struct {
	Root        string // repository root
	ConfigPath  string // release.yaml; default <Root>/release.yaml
	Snapshot    bool
	GoReleaser  string
	ReuseBuild  bool     // read dist/build/artifacts.json instead of building
	SourceCache string   // the helpers' source cache; empty for the user's default
	Targets     []string // empty for every target of release.yaml
	Out         string   // the handoff directory; default dist/handoff
	Log         io.Writer
	// Platform holds the platform-signing secrets (platformsign.SecretsFromEnv).
	Platform platformsign.Secrets
	// MergeKeys, when a merge follows on this machine (packager release),
	// are the keys it will sign the Linux packages and apt repository with:
	// a missing one is refused with the platform secrets, before building.
	MergeKeys *PackageKeys
	// CompileOnly stops after GoReleaser: nothing is signed, staged or
	// handed off. The release workflow compiles without the signing
	// secrets, then runs the build again with --reuse-build and the secrets
	// in the one step that signs.
	CompileOnly bool
}

// HandoffDir is where `packager build` writes its handoff by default.
func HandoffDir(root string) string { return filepath.Join(layout.Dist(root), "handoff") }

// Build builds, stages and writes a handoff for o.Targets. The handoff is
// written to a fresh directory and moved to o.Out at the end, so a failed
// build leaves no half-made handoff.
func Build(ctx context.Context, o BuildOptions) (*handoff.Manifest, error) {
	if o.ConfigPath == "" {
		o.ConfigPath = filepath.Join(o.Root, "release.yaml")
	}
	if o.Out == "" {
		o.Out = HandoffDir(o.Root)
	}
	cfg, digest, err := loadConfig(o.ConfigPath)
	if err != nil {
		return nil, err
	}
	targets, err := selectTargets(cfg, o.Targets)
	if err != nil {
		return nil, err
	}
	sub := *cfg
	sub.Targets = targets
	ver, err := version.FromGit(o.Root, o.Snapshot)
	if err != nil {
		return nil, err
	}
	if !o.CompileOnly {
		err := platformsign.CheckBeforeBuild(&sub, ver.Snapshot, o.Platform)
		if o.MergeKeys != nil {
			err = errors.Join(err, checkAptKey(cfg, ver.Snapshot, o.MergeKeys.Apt))
		}
		if err != nil {
			return nil, err
		}
	}
	dist := layout.Dist(o.Root)
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return nil, err
	}
	cache := thirdparty.Cache{Dir: o.SourceCache}
	// A release without helpers needs no source cache, nor a home to keep one.
	if cache.Dir == "" && slices.ContainsFunc(targets, func(t config.Target) bool { return len(t.Helpers) > 0 }) {
		if cache, err = thirdparty.DefaultCache(); err != nil {
			return nil, err
		}
	}
	pc := &pipeline.Context{
		Context: ctx, Config: &sub, Version: ver, Root: o.Root, Dist: dist,
		Artifacts: &artifact.List{}, Log: o.Log,
	}
	fmt.Fprintf(o.Log, "%s %s (commit %.12s, %s): building %s\n", cfg.Product, ver, ver.Commit,
		ver.Time.Format("2006-01-02T15:04:05Z"), strings.Join(names(targets), ", "))
	w := &handoffWriter{out: o.Out, manifest: handoff.Manifest{
		Commit: ver.Commit, Version: ver.String(), Time: ver.Time.UTC(), Snapshot: ver.Snapshot,
		ConfigSHA256: digest, Targets: names(targets),
	}}
	if !o.ReuseBuild {
		w.manifest.GoReleaser = build.GoReleaserVersion(o.GoReleaser)
	}
	pipes := []pipeline.Pipe{
		helperbuild.Pipe{Builder: helperbuild.Builder{Cache: cache, Out: layout.HelpersDir(o.Root), Log: o.Log}},
		build.Pipe{GoReleaser: o.GoReleaser, Reuse: o.ReuseBuild, All: cfg.Targets},
	}
	if o.CompileOnly {
		if err := pipeline.Run(pc, pipes...); err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Log, "compiled into %s; sign, stage and hand off with --reuse-build\n", pc.BuildDir())
		return nil, nil
	}
	pipes = append(pipes, platformsign.Pipe{Secrets: o.Platform}, stage.Pipe{Notices: &notices.Writer{}}, w)
	if err := pipeline.Run(pc, pipes...); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Log, "handoff written to %s (%d files)\n", o.Out, len(w.manifest.Files))
	return &w.manifest, nil
}

// loadConfig reads release.yaml and its sha256, from the same bytes.
func loadConfig(p string) (*config.Config, string, error) {
	cfg, err := config.Load(p)
	if err != nil {
		return nil, "", err
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(raw)
	return cfg, hex.EncodeToString(sum[:]), nil
}

// selectTargets returns release.yaml's targets named in list, in
// release.yaml's order; all of them for an empty list.
func selectTargets(cfg *config.Config, list []string) ([]config.Target, error) {
	if len(list) == 0 {
		return cfg.Targets, nil
	}
	var unknown []string
	for _, name := range list {
		if _, ok := cfg.Target(name); !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("--targets %s: release.yaml has no target %s (it has %s)",
			strings.Join(list, ","), strings.Join(unknown, ", "), strings.Join(names(cfg.Targets), ", "))
	}
	var out []config.Target
	for _, t := range cfg.Targets {
		if slices.Contains(list, t.Name) {
			out = append(out, t)
		}
	}
	return out, nil
}

func names(ts []config.Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// handoffWriter is the build's last step: it copies the staged trees and
// the helpers into a fresh directory, writes the manifest, and moves it to
// out.
type handoffWriter struct {
	out      string
	manifest handoff.Manifest
}

func (w *handoffWriter) String() string { return "write the handoff" }

func (w *handoffWriter) Run(ctx *pipeline.Context) error {
	if err := os.MkdirAll(filepath.Dir(w.out), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(w.out), ".handoff-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // gone after the swap, or after a failure
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, tree := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Tree)) {
		if err := copyTree(tree.Path, filepath.Join(tmp, filepath.FromSlash(handoff.TreePath(tree.Target)))); err != nil {
			return err
		}
	}
	licenses := map[string]bool{}
	for _, h := range ctx.Artifacts.Filter(artifact.ByKind(artifact.Helper)) {
		rec := handoff.Helper{
			Target: h.Target, Name: h.Name, Version: h.Version, Source: h.Source,
			Path:        path.Join(handoff.HelpersDir, h.Target, h.Name),
			LicenseFile: path.Join(handoff.HelpersDir, filepath.Base(h.LicenseFile)),
		}
		if err := fileutil.CopyFile(h.Path, filepath.Join(tmp, filepath.FromSlash(rec.Path)), 0o755); err != nil {
			return err
		}
		if !licenses[rec.LicenseFile] {
			licenses[rec.LicenseFile] = true
			if err := fileutil.CopyFile(h.LicenseFile, filepath.Join(tmp, filepath.FromSlash(rec.LicenseFile)), 0o644); err != nil {
				return err
			}
		}
		w.manifest.Helpers = append(w.manifest.Helpers, rec)
	}
	if w.manifest.Go, err = goVersion(ctx.Artifacts.Filter(artifact.ByKind(artifact.Binary))); err != nil {
		return err
	}
	if err := handoff.Write(tmp, w.manifest); err != nil {
		return err
	}
	m, err := os.ReadFile(filepath.Join(tmp, handoff.ManifestName))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(m, &w.manifest); err != nil {
		return err
	}
	return swap(tmp, w.out)
}

// goVersion is the Go that compiled the binaries, from their build info;
// one build, one Go.
func goVersion(bins []artifact.Artifact) (string, error) {
	v := ""
	for _, b := range bins {
		info, err := buildinfo.ReadFile(b.Path)
		if err != nil {
			return "", fmt.Errorf("reading the Go version of %s's binary %s: %w", b.Target, b.Path, err)
		}
		if v != "" && info.GoVersion != v {
			return "", fmt.Errorf("%s's binary was built with %s, another with %s: build a handoff with one Go", b.Target, info.GoVersion, v)
		}
		v = info.GoVersion
	}
	return v, nil
}

// MergeOptions configure the merge half.
type MergeOptions struct {
	Root       string // repository root: release.yaml, LICENSE, npm-template, installers
	ConfigPath string // release.yaml; default <Root>/release.yaml
	Snapshot   bool
	Handoffs   []string
	// AllowMissing names targets of release.yaml the release may go without:
	// they are left out of every file, npm's optional dependencies included.
	AllowMissing []string
	Out          string // default dist/release
	Sign         sign.Options
	Packages     PackageKeys
	Until        Step
	Log          io.Writer
}

// PackageKeys sign the Linux packages and the apt repository.
type PackageKeys struct {
	Linux linuxpkg.Keys // RPM_SIGN_KEY, APK_SIGN_KEY
	Apt   *aptrepo.Key  // APT_SIGNING_KEY; nil: a throw-away key, for a snapshot only
}

// PackageKeysFromEnv reads the Linux packages' and the apt repository's keys.
func PackageKeysFromEnv(getenv func(string) string, product string) (PackageKeys, error) {
	linux, err := linuxpkg.KeysFromEnv(getenv, product)
	if err != nil {
		return PackageKeys{}, err
	}
	apt, err := aptrepo.KeyFromEnv(getenv)
	return PackageKeys{Linux: linux, Apt: apt}, err
}

// checkAptKey refuses, before anything is built, a release whose apt
// repository would have no key: one with a target that gets a .deb.
func checkAptKey(cfg *config.Config, snapshot bool, key *aptrepo.Key) error {
	debs := slices.ContainsFunc(cfg.Targets, func(t config.Target) bool {
		a, ok := layout.LinuxArchFor(t)
		return ok && a.For(layout.Deb) != ""
	})
	return aptrepo.CheckKey(debs && cfg.Doors.AptOn(), snapshot, key)
}

// Merge checks every handoff, and only then makes, signs and verifies the
// release from them. It compiles nothing, builds no helper and reaches no
// network (unless signing keyless). The release is written to a fresh
// directory and moved to o.Out only after verify passes; a refused handoff
// writes nothing at all.
func Merge(ctx context.Context, o MergeOptions) (*pipeline.Context, error) {
	if err := o.Until.check(); err != nil {
		return nil, err
	}
	if o.ConfigPath == "" {
		o.ConfigPath = filepath.Join(o.Root, "release.yaml")
	}
	if o.Out == "" {
		o.Out = layout.ReleaseDir(o.Root)
	}
	if len(o.Handoffs) == 0 {
		return nil, errors.New("no handoff to merge: pass the directories `packager build` wrote")
	}
	cfg, digest, err := loadConfig(o.ConfigPath)
	if err != nil {
		return nil, err
	}
	ver, err := version.FromGit(o.Root, o.Snapshot)
	if err != nil {
		return nil, err
	}
	if err := checkAptKey(cfg, ver.Snapshot, o.Packages.Apt); err != nil {
		return nil, err
	}
	hs, err := openHandoffs(o, cfg, handoff.Expect{Commit: ver.Commit, Version: ver.String(), Time: ver.Time, ConfigSHA256: digest})
	if err != nil {
		return nil, err
	}
	sub := *cfg
	sub.Targets = nil
	for _, t := range cfg.Targets {
		if slices.ContainsFunc(hs, func(h *handoff.Handoff) bool { return slices.Contains(h.Manifest.Targets, t.Name) }) {
			sub.Targets = append(sub.Targets, t)
		}
	}

	dist := layout.Dist(o.Root)
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(o.Out), 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(filepath.Dir(o.Out), ".release-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(work, 0o755); err != nil { // MkdirTemp makes it private
		return nil, err
	}
	defer os.RemoveAll(work) // gone after the swap, or after a failure
	pc := &pipeline.Context{
		Context: ctx, Config: &sub, Version: ver, Root: o.Root, Dist: dist,
		Release: work, Artifacts: &artifact.List{}, Log: o.Log,
	}
	fmt.Fprintf(o.Log, "%s %s (commit %.12s, %s): merging %d handoff(s)\n", cfg.Product, ver, ver.Commit, ver.Time.Format("2006-01-02T15:04:05Z"), len(hs))

	signer := &signPipe{Pipe: sign.Pipe{Options: o.Sign}}
	pinned, err := pinnedKey(o.Sign)
	if err != nil {
		return nil, err
	}
	pipes := []pipeline.Pipe{stageHandoffs{hs}}
	if o.Until >= Pack {
		pipes = append(pipes, pack.Pipe{})
	}
	if o.Until >= Doors {
		pipes = append(pipes, npm.Pipe{}, installers.Pipe{PublicKeyPEM: pinned}, sbom.Pipe{}, dotslash.Pipe{},
			linuxpkg.Pipe{Keys: o.Packages.Linux}, aptrepo.Pipe{Key: o.Packages.Apt},
			brew.Pipe{}, scoop.Pipe{}, winget.Pipe{})
	}
	if o.Until >= Sign {
		pipes = append(pipes, manifest.Pipe{}, checksum.Pipe{}, signer)
	}
	if o.Until >= Verify {
		pipes = append(pipes, verifyPipe{signer: signer})
	}
	if err := pipeline.Run(pc, pipes...); err != nil {
		return nil, err
	}
	if o.Until >= Verify {
		// Hash what is not hashed yet (SHA256SUMS and its signature, written
		// last) while the paths still lead to the files, before the swap.
		if err := checksum.Digest(pc, artifact.ReleaseFiles); err != nil {
			return nil, fmt.Errorf("hashing the release files for the summary: %w", err)
		}
	}
	if o.Until >= Pack {
		if err := swap(work, o.Out); err != nil {
			return nil, err
		}
		pc.Release = o.Out
		fmt.Fprintf(o.Log, "release written to %s\n", pc.Release)
		if o.Until >= Verify {
			summary(o.Log, pc)
		}
	}
	return pc, nil
}

// openHandoffs opens and checks every handoff, and checks them as a set,
// and returns every problem found at once. A handoff whose manifest was
// readable is checked as a member of the set even when its files were
// refused, so one run names every problem.
func openHandoffs(o MergeOptions, cfg *config.Config, want handoff.Expect) ([]*handoff.Handoff, error) {
	var readable []*handoff.Handoff
	var problems []handoff.Problem
	unreadable := false
	for _, dir := range o.Handoffs {
		h, err := handoff.Open(dir, cfg)
		var he *handoff.Error
		if err != nil && !errors.As(err, &he) {
			return nil, err
		}
		if he != nil {
			problems = append(problems, he.Problems...)
		}
		if h == nil {
			unreadable = true
			continue
		}
		readable = append(readable, h)
	}
	if err := handoff.Check(readable, want, cfg, o.AllowMissing); err != nil {
		var he *handoff.Error
		if !errors.As(err, &he) {
			return nil, err
		}
		for _, p := range he.Problems {
			// The targets of a handoff that could not be read are not missing.
			if unreadable && p.What == "targets" && strings.HasPrefix(p.Reason, "no handoff has") {
				continue
			}
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return nil, &handoff.Error{Problems: problems}
	}
	return readable, nil
}

// stageHandoffs is the merge's first step: it copies each handoff's trees
// into dist/stage with the modes the manifest records, checking every byte
// again, and registers the trees, binaries and helpers, as the build's
// stage step does on one machine.
type stageHandoffs struct{ hs []*handoff.Handoff }

func (stageHandoffs) String() string { return "stage the handoffs' trees" }

func (s stageHandoffs) Run(ctx *pipeline.Context) error {
	if err := os.RemoveAll(ctx.StageDir()); err != nil {
		return err
	}
	for _, h := range s.hs {
		for _, name := range h.Manifest.Targets {
			t, _ := ctx.Config.Target(name)
			dir := filepath.Join(ctx.StageDir(), name)
			if err := h.CopyTree(handoff.TreePath(name), dir); err != nil {
				return err
			}
			ctx.Artifacts.Add(artifact.Artifact{Name: ctx.Config.BinaryName(t), Path: filepath.Join(dir, filepath.FromSlash(layout.BinaryPath(ctx.Config, t))), Kind: artifact.Binary, Target: name})
			ctx.Artifacts.Add(artifact.Artifact{Name: name, Path: dir, Kind: artifact.Tree, Target: name})
		}
		for _, x := range h.Manifest.Helpers {
			ctx.Artifacts.Add(artifact.Artifact{
				Name: x.Name, Path: h.Path(x.Path), Kind: artifact.Helper, Target: x.Target,
				Version: x.Version, Source: x.Source, LicenseFile: h.Path(x.LicenseFile),
			})
		}
		ctx.Logf("%s: %s", h.Dir, strings.Join(h.Manifest.Targets, ", "))
	}
	return nil
}

// copyTree copies a staged tree, keeping each file's executable bit.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s is a %s; a staged tree holds only files and directories", p, info.Mode().Type())
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		return fileutil.CopyFile(p, filepath.Join(to, rel), mode)
	})
}

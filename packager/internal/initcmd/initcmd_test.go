package initcmd

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tern-agent/tern/packager/internal/config"
	"github.com/tern-agent/tern/packager/internal/release"
	"github.com/tern-agent/tern/packager/internal/sign"
	"github.com/tern-agent/tern/packager/internal/stamp"
)

const mainWithStamp = "package main\n\nvar buildStamp string\n\nfunc main() { println(buildStamp) }\n"

// gitRepo makes a git repository holding files, with origin set to remote
// when it is not empty, and commits it.
func gitRepo(t *testing.T, remote string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	if remote != "" {
		git("remote", "add", "origin", remote)
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", "-A")
	git("commit", "-qm", "fixture")
	return dir
}

func with(base map[string]string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

var widget = map[string]string{
	"go.mod":               "module github.com/acme/widget\n\ngo 1.22\n",
	"LICENSE":              "MIT\n",
	"cmd/widget/main.go":   mainWithStamp,
	"internal/lib/lib.go":  "package lib\n",
	"testdata/x/main.go":   "package main\n",
	"cmd/widget/x_test.go": "package main_test\n",
}

// theirGoReleaser is a project's own .goreleaser.yaml, which builds the
// main package but knows nothing of the packager.
const theirGoReleaser = `version: 2
project_name: widget
builds:
  - main: ./cmd/widget
    binary: widget
    ldflags:
      - -s -w -X main.version={{.Version}}
    goos: [linux, darwin]
    goarch: [amd64]
archives:
  - formats: [tar.gz]
`

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		remote  string
		files   map[string]string
		opts    Options
		wantErr []string // every line must appear; nothing is written
		// on success
		main, binary, scope, repo string
		actions                   map[string]Action
		notes                     []string
	}{
		{
			name: "cmd/<name>, GitHub remote", remote: "git@github.com:Acme/widget-repo.git", files: widget,
			main: "./cmd/widget", binary: "widget", scope: "@acme", repo: "https://github.com/Acme/widget-repo",
		},
		{
			name: "main at the root, /v2 module, no remote",
			files: map[string]string{
				"go.mod": "module github.com/acme/tool/v2\n\ngo 1.22\n", "LICENSE.md": "MIT\n", "main.go": "package main\n\nfunc main() {}\n",
			},
			main: ".", binary: "tool", scope: "@acme", repo: "https://github.com/acme/tool",
			notes: []string{"has no variable buildStamp"},
		},
		{
			name:  "two mains, none cmd/<module>",
			files: with(widget, map[string]string{"go.mod": "module github.com/acme/pair\n", "cmd/other/main.go": "package main\n"}),
			wantErr: []string{
				"github.com/acme/pair has 2 main packages, and none is cmd/pair: pass --main with one of ./cmd/other, ./cmd/widget",
			},
		},
		{
			name:  "two mains, --main picks one",
			files: with(widget, map[string]string{"go.mod": "module github.com/acme/pair\n", "cmd/other/main.go": "package main\n"}),
			opts:  Options{Main: "cmd/widget"},
			main:  "./cmd/widget", binary: "widget", scope: "@acme", repo: "https://github.com/acme/pair",
		},
		{
			name:  "two mains, one is cmd/<module>",
			files: with(widget, map[string]string{"cmd/other/main.go": "package main\n"}),
			main:  "./cmd/widget", binary: "widget", scope: "@acme", repo: "https://github.com/acme/widget",
		},
		{
			name:    "--main that is no main package",
			files:   widget,
			opts:    Options{Main: "./internal/lib"},
			wantErr: []string{"--main ./internal/lib is not a main package of github.com/acme/widget: pass one of ./cmd/widget"},
		},
		{
			name: "flags win", files: widget,
			opts: Options{Binary: "wd", Product: "widgets", NPMScope: "@tools", NPMPackage: "wd-cli", Repository: "https://github.com/other/place", Targets: []string{"linux-x64", "linux-armv7", "darwin-arm64"}},
			main: "./cmd/widget", binary: "wd", scope: "@tools", repo: "https://github.com/other/place",
		},
		{
			name:  "not on GitHub: scope and licence needed",
			files: map[string]string{"go.mod": "module example.com/w\n", "main.go": "package main\n"},
			opts:  Options{Targets: []string{"plan9-x64"}},
			wantErr: []string{
				"no npm scope: the repository is not on GitHub, so there is no owner to default to: pass --npm-scope @yourscope",
				"has no LICENSE file, and every release ships one: add LICENSE",
				"no repository URL: there is no git remote origin and the module is not github.com/…, and the installers download from it: pass --repository https://…",
				`unknown target "plan9-x64": pass --targets with some of linux-x64,`,
			},
		},
		{
			name:  "not on GitHub, with --repository and --npm-scope",
			files: map[string]string{"go.mod": "module example.com/w\n", "main.go": mainWithStamp, "COPYING": "GPL\n"},
			opts:  Options{Repository: "https://git.example.com/w/", NPMScope: "@w"},
			main:  ".", binary: "w", scope: "@w", repo: "https://git.example.com/w",
			notes: []string{"the repository is not on GitHub: release.yaml has no signing identity"},
		},
		{
			name: "their .goreleaser.yaml builds the main package: adapted", files: with(widget, map[string]string{".goreleaser.yaml": theirGoReleaser}),
			main: "./cmd/widget", binary: "widget", scope: "@acme", repo: "https://github.com/acme/widget",
			actions: map[string]Action{GoReleaserConfig: Adapted},
			notes:   []string{".goreleaser.yaml: builds[0].env: add CGO_ENABLED=0", "builds[0].flags: add -trimpath", "builds[0].mod_timestamp: set"},
		},
		{
			name:  "their .goreleaser.yaml builds another package: refused",
			files: with(widget, map[string]string{".goreleaser.yaml": strings.Replace(theirGoReleaser, "./cmd/widget", "./cmd/old", 1)}),
			wantErr: []string{
				".goreleaser.yaml cannot be adapted safely for the packager, so it is left as it is; change these keys",
				"builds[0].main: builds cmd/old, not ./cmd/widget: set main: ./cmd/widget (or pass --main ./cmd/old to init)",
			},
		},
		{
			name:  "their .goreleaser.yaml has two builds: refused",
			files: with(widget, map[string]string{".goreleaser.yaml": "version: 2\nbuilds:\n  - main: ./cmd/widget\n  - main: ./cmd/other\n"}),
			wantErr: []string{
				"builds: has 2 builds, and the packager releases one binary: keep only the build of ./cmd/widget, with dist: dist/build and the ldflags stamp -X 'main.buildStamp=@(#)version=",
			},
		},
		{
			name:    "a different release.yaml is kept without --force",
			files:   with(widget, map[string]string{"release.yaml": "product: mine\n"}),
			wantErr: []string{"release.yaml exists and differs from what init would write: edit it by hand, or pass --force to overwrite it"},
		},
		{
			name:  "--force overwrites release.yaml",
			files: with(widget, map[string]string{"release.yaml": "product: mine\n"}), opts: Options{Force: true},
			main: "./cmd/widget", binary: "widget", scope: "@acme", repo: "https://github.com/acme/widget",
			actions: map[string]Action{ReleaseConfig: Updated},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := gitRepo(t, tc.remote, tc.files)
			o := tc.opts
			o.Dir, o.PackagerPath, o.PackagerVersion = dir, "example.com/packager/cmd/packager", "v1.2.3"
			res, err := Run(o)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; want %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error\n%v\nlacks\n%s", err, w)
					}
				}
				if out, _ := exec.Command("git", "-C", dir, "status", "--porcelain").Output(); len(out) > 0 {
					t.Errorf("a refusal wrote files:\n%s", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f := res.Facts
			if f.Main != tc.main || f.Binary != tc.binary || f.NPMScope != tc.scope || f.Repository != tc.repo {
				t.Errorf("decided main %q binary %q scope %q repository %q; want %q %q %q %q", f.Main, f.Binary, f.NPMScope, f.Repository, tc.main, tc.binary, tc.scope, tc.repo)
			}
			for _, fr := range res.Files {
				want := Created
				if a, ok := tc.actions[fr.Path]; ok {
					want = a
				}
				if fr.Action != want {
					t.Errorf("%s: %s (%s), want %s", fr.Path, fr.Action, fr.Detail, want)
				}
			}
			for _, n := range tc.notes {
				if !strings.Contains(strings.Join(res.Notes, "\n"), n) {
					t.Errorf("notes %q lack %q", res.Notes, n)
				}
			}

			// What was written loads as the packager reads it.
			cfg, err := config.Load(filepath.Join(dir, ReleaseConfig))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Binary != f.Binary || cfg.NPMMetaPackage() != f.NPMScope+"/"+f.NPMPackage || len(cfg.Targets) != len(f.Targets) {
				t.Errorf("release.yaml says binary %q, npm %q, %d targets", cfg.Binary, cfg.NPMMetaPackage(), len(cfg.Targets))
			}
			if _, keys, err := Adapt(GoReleaserConfig, mustRead(t, filepath.Join(dir, GoReleaserConfig)), f); err != nil || len(keys) != 0 {
				t.Errorf("the written .goreleaser.yaml is not wired for the packager: would change %v, %v", keys, err)
			}

			if _, theirs := tc.actions[GoReleaserConfig]; !theirs {
				if a := Advise(mustRead(t, filepath.Join(dir, GoReleaserConfig))); len(a) > 0 {
					t.Errorf("the written .goreleaser.yaml draws advice: %q", a)
				}
			}

			// A second run changes nothing.
			before := snapshot(t, dir)
			o.Force = false
			again, err := Run(o)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			for _, fr := range again.Files {
				if fr.Action != Unchanged {
					t.Errorf("second run: %s %s", fr.Action, fr.Path)
				}
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("second run changed files")
			}
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// snapshot is every written file's path and bytes.
func snapshot(t *testing.T, dir string) string {
	var b bytes.Buffer
	for _, rel := range []string{ReleaseConfig, GoReleaserConfig, CIWorkflow, ReleaseWorkflow} {
		b.WriteString(rel + "\n")
		b.Write(mustRead(t, filepath.Join(dir, rel)))
	}
	return b.String()
}

// The adapted config keeps the project's own keys and names what it changed.
func TestAdaptKeepsTheirKeys(t *testing.T) {
	f := &Facts{Main: "./cmd/widget", StampVar: DefaultStampVar, Targets: KnownTargets[:2]}
	out, keys, err := Adapt(GoReleaserConfig, []byte(theirGoReleaser), f)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys, ", "); got != "dist, builds[0].ldflags, builds[0].targets" {
		t.Errorf("changed %s", got)
	}
	for _, want := range []string{"dist: dist/build", "-s -w -X main.version={{.Version}}", "main.buildStamp=@(#)version={{ .Env.RELEASE_VERSION }}", "targets: [linux_amd64, linux_arm64]", "archives:"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("adapted config lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "goos:") {
		t.Errorf("adapted config keeps goos beside targets:\n%s", out)
	}
}

func TestWorkflowsPassActionlint(t *testing.T) {
	home, _ := os.UserHomeDir()
	actionlint := filepath.Join(home, ".cache/tern/tools/actionlint-v1.7.12/actionlint")
	if _, err := os.Stat(actionlint); err != nil {
		t.Skipf("actionlint is not at %s (run `make tools`): %v", actionlint, err)
	}
	dir := gitRepo(t, "https://github.com/acme/widget.git", widget)
	if _, err := Run(Options{Dir: dir, PackagerPath: "example.com/packager/cmd/packager", PackagerVersion: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	for _, wf := range []string{CIWorkflow, ReleaseWorkflow} {
		cmd := exec.Command(actionlint, filepath.FromSlash(wf))
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("actionlint %s: %v\n%s", wf, err, out)
		}
	}
}

// init, then a snapshot release of the tiny module it was run in.
func TestInitThenSnapshotRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds six binaries")
	}
	home, _ := os.UserHomeDir()
	goreleaser := filepath.Join(home, ".cache/tern/tools/goreleaser-v2.15.0/goreleaser")
	if _, err := os.Stat(goreleaser); err != nil {
		t.Skipf("GoReleaser is not at %s (run `make tools`): %v", goreleaser, err)
	}
	dir := gitRepo(t, "https://github.com/acme/widget.git", widget)
	if _, err := Run(Options{Dir: dir, PackagerPath: "example.com/packager/cmd/packager", PackagerVersion: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	_, err := release.Run(context.Background(), release.Options{
		Root: dir, Snapshot: true, GoReleaser: goreleaser, Until: release.Verify,
		Sign: sign.Options{}, SourceCache: t.TempDir(), Log: &log,
	})
	// Whatever comes after, GoReleaser built every target from the generated
	// config, and each binary carries the packager's stamp.
	bins, _ := filepath.Glob(filepath.Join(dir, "dist", "build", "*", "widget*"))
	if len(bins) != len(DefaultTargets) {
		t.Fatalf("dist/build holds %d binaries, want %d: %v\n%s", len(bins), len(DefaultTargets), bins, log.String())
	}
	for _, b := range bins {
		st, serr := stamp.Read(mustRead(t, b))
		if serr != nil || !strings.HasPrefix(st.Version, "0.0.0-snapshot.") {
			t.Errorf("%s: stamp %+v, %v", b, st, serr)
		}
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	// The npm meta package is rendered for widget from the packager's
	// templates: its command is widget, and no file of it names tern.
	metas, _ := filepath.Glob(filepath.Join(dir, "dist", "release", "acme-widget-0.0.0-*.tgz"))
	if len(metas) != 1 {
		t.Fatalf("the release holds meta packages %v, want one", metas)
	}
	tern := regexp.MustCompile(`(?i)tern`)
	names := map[string]bool{}
	for name, data := range tgzFiles(t, metas[0]) {
		names[name] = true
		if tern.Match(data) {
			t.Errorf("the meta package's %s names tern", name)
		}
	}
	if !names["package/bin/widget.js"] {
		t.Errorf("the meta package holds %v, no package/bin/widget.js", names)
	}
}

func tgzFiles(t *testing.T, p string) map[string][]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if files[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
}

// A CLI that prints a version variable keeps it: the build sets it, and
// release.yaml declares the version check instead of the build stamp.
func TestVersionVariable(t *testing.T) {
	const mainWithVersion = "package main\n\nvar version = \"dev\"\n\nfunc main() { println(version) }\n"
	files := map[string]string{"go.mod": "module github.com/acme/tool\n\ngo 1.22\n", "LICENSE": "MIT\n", "main.go": mainWithVersion,
		"internal/v/v.go": "package v\n\nvar Version = \"dev\"\n"}
	t.Run("main.version found", func(t *testing.T) {
		dir := gitRepo(t, "", files)
		res, err := Run(Options{Dir: dir, StampVar: DefaultStampVar})
		if err != nil {
			t.Fatal(err)
		}
		rel, gr := string(mustRead(t, filepath.Join(dir, ReleaseConfig))), string(mustRead(t, filepath.Join(dir, GoReleaserConfig)))
		for _, want := range []string{"version_check:", "args: [--version]", `contains: "{{.Version}}"`} {
			if !strings.Contains(rel, want) {
				t.Errorf("release.yaml lacks %q:\n%s", want, rel)
			}
		}
		if !strings.Contains(gr, "-X 'main.version={{ .Env.RELEASE_VERSION }}'") || strings.Contains(gr, "@(#)") {
			t.Errorf(".goreleaser.yaml does not set main.version alone:\n%s", gr)
		}
		if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "the build sets main.version") }) {
			t.Errorf("notes %q", res.Notes)
		}
	})
	t.Run("an explicit --stamp-var keeps the stamp", func(t *testing.T) {
		for _, stampVar := range []string{DefaultStampVar, "stamp"} {
			dir := gitRepo(t, "", files)
			res, err := Run(Options{Dir: dir, StampVar: stampVar, StampVarExplicit: true})
			if err != nil {
				t.Fatal(err)
			}
			rel, gr := string(mustRead(t, filepath.Join(dir, ReleaseConfig))), string(mustRead(t, filepath.Join(dir, GoReleaserConfig)))
			if strings.Contains(rel, "version_check:") || strings.Contains(gr, "main.version=") || !strings.Contains(gr, "main."+stampVar+"=") {
				t.Errorf("--stamp-var %s: replaced by main.version:\n%s\n%s", stampVar, rel, gr)
			}
			if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "has no variable "+stampVar) }) {
				t.Errorf("--stamp-var %s: notes %q", stampVar, res.Notes)
			}
		}
	})
	t.Run("--version-var in another package", func(t *testing.T) {
		dir := gitRepo(t, "", files)
		if _, err := Run(Options{Dir: dir, StampVar: DefaultStampVar, VersionVar: "github.com/acme/tool/internal/v.Version"}); err != nil {
			t.Fatal(err)
		}
		if gr := string(mustRead(t, filepath.Join(dir, GoReleaserConfig))); !strings.Contains(gr, "-X 'github.com/acme/tool/internal/v.Version={{ .Env.RELEASE_VERSION }}'") {
			t.Errorf(".goreleaser.yaml:\n%s", gr)
		}
	})
	for _, tc := range []struct{ v, want string }{
		{"internal/v.Nope", "internal/v is not a package of module github.com/acme/tool"},
		{"github.com/acme/tool/internal/v.Nope", "has no package-level variable Nope"},
		{"github.com/other/x.Version", "is not a package of module github.com/acme/tool"},
		{"Version", "is not IMPORTPATH.NAME or main.NAME"},
	} {
		t.Run("refused "+tc.v, func(t *testing.T) {
			dir := gitRepo(t, "", files)
			_, err := Run(Options{Dir: dir, StampVar: DefaultStampVar, VersionVar: tc.v})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("their .goreleaser.yaml sets it already", func(t *testing.T) {
		f := &Facts{Main: "./cmd/widget", StampVar: DefaultStampVar, VersionVar: "main.version", Targets: KnownTargets[:2]}
		out, keys, err := Adapt(GoReleaserConfig, []byte(theirGoReleaser), f)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(keys, ", "); got != "dist, snapshot.version_template, builds[0].targets" {
			t.Errorf("changed %s", got)
		}
		if !strings.Contains(string(out), `version_template: "{{ .Env.RELEASE_VERSION }}"`) || strings.Contains(string(out), "@(#)") {
			t.Errorf("adapted:\n%s", out)
		}
		again, keys, err := Adapt(GoReleaserConfig, out, f)
		if err != nil || len(keys) != 0 || !bytes.Equal(again, out) {
			t.Errorf("a second adapt changed %v (%v)", keys, err)
		}
	})
}

// A .goreleaser.yml (a name GoReleaser also reads) is adapted in place; no
// second config is written beside it, which GoReleaser would not read.
func TestAdaptsTheirConfigUnderItsOwnName(t *testing.T) {
	dir := gitRepo(t, "", with(widget, map[string]string{".goreleaser.yml": theirGoReleaser}))
	res, err := Run(Options{Dir: dir, StampVar: DefaultStampVar})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, GoReleaserConfig)); !os.IsNotExist(err) {
		t.Errorf("init wrote %s beside .goreleaser.yml (%v)", GoReleaserConfig, err)
	}
	if !slices.ContainsFunc(res.Files, func(f FileResult) bool { return f.Path == ".goreleaser.yml" && f.Action == Adapted }) {
		t.Errorf("files %+v", res.Files)
	}
	if !strings.Contains(string(mustRead(t, filepath.Join(dir, ".goreleaser.yml"))), "dist: dist/build") {
		t.Error(".goreleaser.yml was not adapted")
	}
}

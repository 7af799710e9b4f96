package initcmd

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"github.com/tern-agent/tern/packager/internal/build"
)

// The files init writes, relative to the repository root.
const (
	ReleaseConfig    = "release.yaml"
	GoReleaserConfig = build.GoReleaserConfig
	CIWorkflow       = ".github/workflows/ci.yml"
	ReleaseWorkflow  = ".github/workflows/release.yml"
)

// GoReleaserVersion is the GoReleaser the generated workflows install.
const GoReleaserVersion = "v2.15.0"

// stampLDFlag is the -X flag that sets package main's stamp variable to
// the packager's build stamp (see packager/internal/stamp).
func stampLDFlag(f *Facts) string {
	return fmt.Sprintf("-X 'main.%s=@(#)version={{ .Env.%s }};commit={{ .Env.%s }};date={{ .Env.%s }}'",
		f.StampVar, build.EnvVersion, build.EnvCommit, build.EnvDate)
}

// versionLDFlag is the -X flag that sets f.VersionVar to the release version.
func versionLDFlag(f *Facts) string {
	return fmt.Sprintf("-X '%s={{ .Env.%s }}'", f.VersionVar, build.EnvVersion)
}

// goreleaserTargets are f's targets in GoReleaser's goos_goarch spelling.
func goreleaserTargets(f *Facts) []string {
	var ts []string
	for _, t := range f.Targets {
		ts = append(ts, t.GoReleaserTarget())
	}
	return ts
}

var funcs = template.FuncMap{
	"stampLDFlag":       stampLDFlag,
	"versionLDFlag":     versionLDFlag,
	"targets":           func(f *Facts) string { return "[" + strings.Join(goreleaserTargets(f), ", ") + "]" },
	"regexpQuote":       regexp.QuoteMeta,
	"goreleaserVersion": func() string { return GoReleaserVersion },
	"pad":               func(s string, n int) string { return s + strings.Repeat(" ", max(0, n-len(s))) },
	// gh writes a GitHub Actions expression, which text/template would
	// otherwise read as its own.
	"gh": func(expr string) string { return "${{ " + expr + " }}" },
}

var templates = template.Must(template.New("").Funcs(funcs).Parse(releaseYAML + goreleaserYAML + setupSteps + ciYAML + releaseWorkflowYAML))

// Render returns every file init writes, by its path.
func Render(f *Facts) (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, tmpl := range map[string]string{
		ReleaseConfig: "release", GoReleaserConfig: "goreleaser", CIWorkflow: "ci", ReleaseWorkflow: "workflow",
	} {
		var b bytes.Buffer
		if err := templates.ExecuteTemplate(&b, tmpl, f); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", name, err)
		}
		out[name] = b.Bytes()
	}
	return out, nil
}

const releaseYAML = `{{define "release"}}# The release, declared once; written by packager init. The packager reads
# everything product-specific from here. See the packager's README.
product: {{.Product}}
binary: {{.Binary}}
{{- if .Repository}}
repository: {{.Repository}}
{{- end}}
license_file: {{.License}}

# Each target: its archive name, Go's names and Node's names.
targets:
{{- range .Targets}}
  - {name: {{pad (printf "%s," .Name) 14}} goos: {{pad (printf "%s," .GOOS) 8}} goarch: {{pad (printf "%s," .GOARCH) 6}}{{if .GOARM}} goarm: "{{.GOARM}}",{{end}} npm_os: {{pad (printf "%s," .NPMOS) 7}} npm_cpu: {{.NPMCPU}}}
{{- end}}

npm:
  scope: "{{.NPMScope}}"
  package: {{.NPMPackage}}
{{- if .VersionVar}}

# How the binary reports its version; it carries no packager build stamp.
# packager verify runs it (the host's binary, others under qemu-user), and
# so do the installers before they install. {{"{{"}}.Version{{"}}"}} is the version, 1.2.3.
version_check:
  args: [--version]
  contains: "{{"{{"}}.Version{{"}}"}}"
{{- end}}

# Optional: extra files every target's tree ships (README, completions, man
# pages), and doors to switch off (npm, installers, image, sbom, dotslash).
# files:
#   - {src: README.md, dst: README.md}
# doors: {image: false}
{{- if .GitHubOwner}}

signing:
  # Keyless signatures made by the release workflow carry this identity.
  certificate_identity_regexp: ^{{regexpQuote (printf "https://github.com/%s/%s/.github/workflows/release.yml@refs/tags/v" .GitHubOwner .GitHubName)}}
  certificate_oidc_issuer: https://token.actions.githubusercontent.com
  fulcio_url: https://fulcio.sigstore.dev
  rekor_url: https://rekor.sigstore.dev
{{- end}}
{{end}}`

const goreleaserYAML = `{{define "goreleaser"}}# Written by packager init. GoReleaser compiles {{.Binary}} for every target of
# release.yaml; the packager (packager release) makes the release from what it
# built, reading dist/build/artifacts.json. The packager runs
# ` + "`goreleaser build`" + ` only, so archives, checksums and the like are its job,
# not GoReleaser's.
version: 2
project_name: {{.Product}}
# The packager reads GoReleaser's artifacts.json here. GoReleaser writes only
# into dist/build, because --clean wipes its dist directory.
dist: dist/build

builds:
  - id: {{.Binary}}
    # The main package, relative to the module root.
    main: {{.Main}}
    binary: {{.Binary}}
    # Static binaries that run on any libc.
    env:
      - CGO_ENABLED=0
    # No local paths, no VCS stamp: the same commit, the same bytes.
    flags:
      - -trimpath
      - -buildvcs=false
{{- if .VersionVar}}
    # The packager decides the version and passes it in RELEASE_VERSION; the
    # -X flag sets {{.VersionVar}} to it, which --version prints, and which
    # release.yaml's version_check asks for.
    ldflags:
      - -s -w -buildid=
      - {{versionLDFlag .}}
{{- else}}
    # The packager decides version, commit and date (the commit time) and
    # passes them in RELEASE_VERSION, RELEASE_COMMIT and RELEASE_DATE. The -X
    # flag sets package main's {{.StampVar}} variable to the build stamp,
    # "@(#)version=…;commit=…;date=…", which packager verify reads from every
    # binary. Keep ` + "`var {{.StampVar}} string`" + ` in package main, and use it
    # (print it in --version), or the linker drops it.
    ldflags:
      - -s -w -buildid=
      - {{stampLDFlag .}}
{{- end}}
    # The commit time (RELEASE_EPOCH), not the build time.
    mod_timestamp: "{{"{{"}} .Env.RELEASE_EPOCH {{"}}"}}"
    # release.yaml's targets, goos_goarch; keep the two lists the same.
    targets: {{targets .}}
{{end}}`

// setupSteps are the first steps of both workflows: the checkout with its
// history (the version comes from tags), Go from go.mod, and Node. The
// actions are pinned by commit in this one place. setup-node is given no
// registry-url: the release's trusted publishing must find no token at all.
const setupSteps = `{{define "setup"}}      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: actions/setup-go@d35c59abb061a4a6fb18e82ac0862c26744d6ab5 # v5.5.0
        with:
          go-version-file: go.mod
      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0
        with:
          # No registry-url: trusted publishing must find no token at all.
          node-version: 22
{{end}}`

const ciYAML = `{{define "ci"}}name: ci
# Written by packager init: test, then cut a snapshot release and verify it,
# as the release workflow will.
on:
  push:
  pull_request:
permissions:
  contents: read
concurrency:
  group: ci-{{gh "github.ref"}}
  cancel-in-progress: true

env:
  # The packager, run with go run; pin a version.
  PACKAGER: {{.PackagerPath}}@{{.PackagerVersion}}
  GORELEASER_VERSION: {{goreleaserVersion}}
  # setup-go sets GOTOOLCHAIN=local; the packager and GoReleaser may need a
  # newer Go than go.mod's, which auto fetches. Your own build still uses
  # go.mod's toolchain line.
  GOTOOLCHAIN: auto

jobs:
  test:
    runs-on: ubuntu-24.04
    timeout-minutes: 30
    steps:
{{template "setup"}}      - name: go vet and go test
        run: |
          go vet ./...
          go test ./...
      - name: GoReleaser
        run: GOBIN="$RUNNER_TEMP/tools" go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
      - name: a snapshot release, verified
        run: go run "$PACKAGER" release --snapshot --goreleaser "$RUNNER_TEMP/tools/goreleaser"
{{end}}`

const releaseWorkflowYAML = `{{define "workflow"}}name: release
# Written by packager init. Cut, sign keyless (the workflow's OIDC identity,
# which release.yaml's signing: names), verify and publish a release from a
# v* tag. Publishing goes from reversible to irreversible: a draft GitHub
# release, then npm, and only then is the draft made public.
on:
  push:
    tags: ["v*"]

permissions: {}

concurrency:
  group: release-{{gh "github.ref"}}
  cancel-in-progress: false

env:
  TAG: {{gh "github.ref_name"}}
  # The packager, installed with go install; pin a version.
  PACKAGER: {{.PackagerPath}}@{{.PackagerVersion}}
  GORELEASER_VERSION: {{goreleaserVersion}}
  # setup-go sets GOTOOLCHAIN=local; the packager and GoReleaser may need a
  # newer Go than go.mod's, which auto fetches.
  GOTOOLCHAIN: auto

jobs:
  release:
    runs-on: ubuntu-24.04
    timeout-minutes: 60
    permissions:
      contents: write       # the draft release and its assets
      id-token: write       # keyless signing, npm trusted publishing
    env:
      GH_TOKEN: {{gh "github.token"}}
    steps:
{{template "setup"}}      - name: npm 11.5+ for trusted publishing (OIDC) with provenance
        run: npm install -g npm@11.19.1

      - name: the packager and GoReleaser, outside the checkout
        run: |
          GOBIN="$RUNNER_TEMP/tools" go install "$PACKAGER"
          GOBIN="$RUNNER_TEMP/tools" go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"

      - name: refuse a tag that is not the version
        run: |
          version=$("$RUNNER_TEMP/tools/packager" version)
          if [ "v$version" != "$TAG" ]; then
            echo "::error::tag $TAG is not the version the packager reads ($version)"; exit 1
          fi

      - name: packager release (signs keyless, verifies)
        run: '"$RUNNER_TEMP/tools/packager" release --keyless --goreleaser "$RUNNER_TEMP/tools/goreleaser"'

      - name: packager verify, against the workflow's identity
        run: '"$RUNNER_TEMP/tools/packager" verify dist/release'

      - name: upload to a draft release
        run: |
          if gh release view "$TAG" >/dev/null 2>&1; then
            gh release upload "$TAG" dist/release/* --clobber
          else
            gh release create "$TAG" dist/release/* --draft --verify-tag --title "$TAG" --notes "{{.Product}} $TAG"
          fi

      # The irreversible door, last.
      - name: publish npm, platform packages first, with provenance
        run: '"$RUNNER_TEMP/tools/packager" publish npm --registry https://registry.npmjs.org/ --provenance'

      - name: make the release public
        run: gh release edit "$TAG" --draft=false --latest
{{end}}`

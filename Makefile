# The maintainer's entry points. A fresh machine needs only:
#   make snapshot   cut a full local release into dist/release
#   make test       everything CI runs
# Both install what they need themselves, idempotently.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO   ?= go
DIST := $(CURDIR)/dist
HOST_GOOS := $(shell $(GO) env GOOS)
# This machine's release target, as archives name it: linux-x64, darwin-arm64.
HOST_TARGET := $(HOST_GOOS)-$(subst amd64,x64,$(shell $(GO) env GOARCH))
# go install names a Windows binary *.exe; the targets must match the file,
# or make rebuilds the tool on every call.
EXE := $(if $(filter windows,$(HOST_GOOS)),.exe)

# Pinned tools, built from the Go module proxy once into a cache this
# Makefile owns, one directory per version, and reused by every clone.
TOOLS              ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/tern/tools
GORELEASER_VERSION := v2.15.0
COSIGN_VERSION     := v3.1.3
ACTIONLINT_VERSION := v1.7.12
GORELEASER         := $(TOOLS)/goreleaser-$(GORELEASER_VERSION)/goreleaser$(EXE)
COSIGN             := $(TOOLS)/cosign-$(COSIGN_VERSION)/cosign$(EXE)
ACTIONLINT         := $(TOOLS)/actionlint-$(ACTIONLINT_VERSION)/actionlint$(EXE)
PACKAGER           := $(DIST)/tools/packager
# verdaccio, pnpm 9 and 12, yarn 4, bun, deno and the MCP TypeScript SDK,
# pinned by tools/npm/package-lock.json, installed per
# lockfile digest so a change of pins installs afresh.
NPM_TOOLS          := $(TOOLS)/npm-$(shell sha256sum tools/npm/package-lock.json | cut -c1-12)
VERDACCIO          := $(NPM_TOOLS)/node_modules/.bin/verdaccio
PNPM               := $(NPM_TOOLS)/node_modules/.bin/pnpm
PNPM12             := $(NPM_TOOLS)/node_modules/pnpm12/pnpm
YARN4              := $(NPM_TOOLS)/node_modules/@yarnpkg/cli-dist/bin/yarn.js
BUN                := $(NPM_TOOLS)/node_modules/.bin/bun
DENO               := $(NPM_TOOLS)/node_modules/.bin/deno
# The MCP TypeScript SDK's package directory, for the MCP server's client test.
MCP_SDK            := $(NPM_TOOLS)/node_modules/@modelcontextprotocol/sdk
# Every npm tool, as the environment the tests read them from.
NPM_TOOL_ENV       := VERDACCIO=$(VERDACCIO) PNPM=$(PNPM) PNPM12=$(PNPM12) YARN4=$(YARN4) BUN=$(BUN) DENO=$(DENO) MCP_SDK=$(MCP_SDK)

# Debian packages: what the helpers' recipes build with (third_party/*/
# manifest.yaml lists the same per target), and what the tests drive for real.
# osslsigncode signs the windows binaries when WINDOWS_SIGN_P12 is set.
HELPER_DEBS := build-essential pkg-config libcap-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
	libcap-dev:arm64 patch xz-utils dpkg-dev osslsigncode
TEST_DEBS  := bubblewrap bash dash busybox curl wget shellcheck procps qemu-user-static binutils osslsigncode ruby gpg gpgv lintian rpm
BENCH_DEBS := time xz-utils zstd

.PHONY: help
help:
	@echo "make snapshot      build, stage, pack, checksum, sign and verify a release into dist/release"
	@echo "make test          lint and run every test (installs tools and packages it needs)"
	@echo "make unit          the unit tests alone, in seconds, on any OS: no tools, no packages"
	@echo "make tools         build GoReleaser $(GORELEASER_VERSION), cosign $(COSIGN_VERSION) and actionlint $(ACTIONLINT_VERSION) into $(TOOLS)"
	@echo "make npm-tools     install verdaccio, the package managers and the MCP SDK (tools/npm) into $(TOOLS)"
	@echo "make reproducible  cut the release from two clones at different paths and compare"
	@echo "make bench         print start-up, size, packaging and hashing figures"
	@echo "make clean         remove dist/"

# --- tools -----------------------------------------------------------------

# Every target names only the tools its own recipe runs, so that a cold
# snapshot builds GoReleaser alone: cosign and actionlint take most of a cold
# build's minutes and a snapshot never runs them (the packager signs and
# verifies in-process). `make tools` still builds them all.
.PHONY: tools
tools: $(GORELEASER) $(COSIGN) $(ACTIONLINT)

.PHONY: npm-tools
npm-tools: $(VERDACCIO)

# No file prerequisites: the directory is named after the lockfile digest,
# and a fresh clone's newer mtimes must not reinstall. npm install, not npm
# ci: it installs what the lockfile pins too, but does not refuse a lockfile
# that lacks other platforms' optional packages (bun, deno and pnpm 12 ship
# their binaries as such, and a registry mirror may not hold them all).
$(VERDACCIO):
	mkdir -p $(NPM_TOOLS)
	cp tools/npm/package.json tools/npm/package-lock.json $(NPM_TOOLS)/
	cd $(NPM_TOOLS) && npm install --no-audit --no-fund --loglevel=error
	touch $@

# Built outside the workspace (GOWORK=off) so our go.work never steers them.
$(GORELEASER):
	GOBIN=$(@D) GOWORK=off GOFLAGS= CGO_ENABLED=0 $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

$(COSIGN):
	GOBIN=$(@D) GOWORK=off GOFLAGS= CGO_ENABLED=0 $(GO) install github.com/sigstore/cosign/v3/cmd/cosign@$(COSIGN_VERSION)

$(ACTIONLINT):
	GOBIN=$(@D) GOWORK=off GOFLAGS= CGO_ENABLED=0 $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

# The packager is ours: rebuilt on every call, which costs a second when
# nothing changed.
.PHONY: packager
packager:
	$(GO) build -o $(PACKAGER) ./packager/cmd/packager

# --- helpers ---------------------------------------------------------------

.PHONY: helpers-deps
helpers-deps:
	scripts/ensure-debs.sh $(HELPER_DEBS)

# Our machines reach Debian's archive but not GitHub, so a source missing from
# the cache is primed from Debian's source package: the same upstream tarball,
# which the packager accepts only with the pinned digest.
.PHONY: helpers-source
helpers-source: packager
	@if ! $(PACKAGER) helpers fetch --cached-only >/dev/null 2>&1; then \
		tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		scripts/debian-source.sh bubblewrap "$$tmp" >/dev/null && \
		$(PACKAGER) helpers fetch --name bubblewrap --from "$$(ls "$$tmp"/bubblewrap_*.orig.tar.*)"; \
	fi

.PHONY: helpers
helpers: helpers-deps helpers-source
	$(PACKAGER) helpers build

# --- release ---------------------------------------------------------------

# A snapshot of whatever is checked out: untagged or dirty trees release as
# 0.0.0-snapshot.<sha>. Without COSIGN_KEY it is signed with a throw-away
# key whose public half lands in dist/snapshot-cosign.pub.
.PHONY: snapshot
snapshot: $(GORELEASER) packager helpers-deps helpers-source
	$(PACKAGER) release --snapshot --goreleaser $(GORELEASER)
	$(DIST)/stage/$(HOST_TARGET)/bin/tern version --json

# The release a maintainer or the release workflow cuts from a clean tag:
# the snapshot's pipeline, with the tag's version and a real signature
# (COSIGN_KEY and COSIGN_PASSWORD, or RELEASE_FLAGS=--keyless in Actions).
# Nothing is published unless PUBLISH=1: then npm (NPM_REGISTRY) and, when
# IMAGE_REPO is set, the container image.
NPM_REGISTRY ?= https://registry.npmjs.org/
# cosign runs only to sign a published image.
RELEASE_TOOLS := $(GORELEASER) $(if $(and $(filter 1,$(PUBLISH)),$(IMAGE_REPO)),$(COSIGN))
.PHONY: release
release: $(RELEASE_TOOLS) packager helpers-deps helpers-source
	$(PACKAGER) release --goreleaser $(GORELEASER) $(RELEASE_FLAGS)
ifeq ($(PUBLISH),1)
	$(PACKAGER) publish npm --registry $(NPM_REGISTRY) $(PUBLISH_NPM_FLAGS)
	$(if $(IMAGE_REPO),$(PACKAGER) image --repo $(IMAGE_REPO) --cosign $(COSIGN) $(RELEASE_FLAGS))
else
	@echo "not published (PUBLISH=1 publishes npm, and the image when IMAGE_REPO is set)"
endif

# Two clones of HEAD at different paths must give byte-identical SHA256SUMS.
.PHONY: reproducible
reproducible: $(GORELEASER) helpers-deps helpers-source
	scripts/reproducible.sh "$(CURDIR)" "$(GORELEASER)"

# --- tests -----------------------------------------------------------------

# The two end-to-end packages: they build tern or a whole release and drive
# the tools and Debian packages that `make test` installs.
E2E_PKGS := github.com/tern-agent/tern/agent/cmd/tern github.com/tern-agent/tern/packager/internal/release

# Every other package's tests, for the edit-test loop: nothing to install, and
# the same on Linux, macOS and Windows (go list names packages alike on all).
# Tests that want a missing tool skip themselves, saying so.
.PHONY: unit
unit:
	$(GO) test -short $(filter-out $(E2E_PKGS),$(shell $(GO) list ./agent/... ./packager/...))

# On Linux everything runs. Elsewhere (the macOS and Windows CI jobs) the
# parts that need Linux are skipped, each saying why.
ifeq ($(shell uname -s),Linux)
.PHONY: test
test: test-deps tools npm-tools helpers-deps lint
	COSIGN=$(COSIGN) $(NPM_TOOL_ENV) GORELEASER=$(GORELEASER) TERN_TEST_REQUIRE_TOOLS=1 \
		$(GO) test -count=1 -timeout 20m ./agent/... ./packager/...
	$(MAKE) --no-print-directory snapshot
	scripts/smoke-release.sh "$(DIST)"
	$(MAKE) --no-print-directory reproducible
else
.PHONY: test
test: $(COSIGN) lint
	@echo "skipped: the release build, its smoke test and the reproducibility check need Linux (Debian packages for the bwrap helper, qemu-user)"
	@echo "skipped: the Linux sandbox tests need Linux (bubblewrap, Landlock); they skip themselves"
	@echo "skipped: packager/internal/release, whose end-to-end tests drive Linux tools (sha256sum, dash, busybox, qemu-user, verdaccio)"
	COSIGN=$(COSIGN) $(GO) test -count=1 ./agent/... $(filter-out %/internal/release,$(shell $(GO) list ./packager/...))
endif

.PHONY: test-deps
test-deps:
	scripts/ensure-debs.sh $(TEST_DEBS)

# gofmt, and go vet for every operating system we ship, so that a darwin or
# windows file that does not compile fails here and not in a release.
.PHONY: lint
lint: $(ACTIONLINT)
	$(ACTIONLINT) .github/workflows/*.yml
	@unformatted=$$(gofmt -l agent packager bench); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted (run gofmt -w)"; exit 1; fi
	for os in linux darwin windows; do GOOS=$$os $(GO) vet ./agent/... ./packager/...; done
	GOWORK=off $(GO) vet -C bench ./...

# --- benchmarks ------------------------------------------------------------

# bench/ is one program, a module of its own outside the workspace (GOWORK=off)
# with no requirements; each table is a subcommand, run from here.
BENCH := $(DIST)/tools/bench$(EXE)
.PHONY: bench
bench: snapshot npm-tools
	scripts/ensure-debs.sh $(BENCH_DEBS)
	GOWORK=off $(GO) build -C bench -o $(BENCH) .
	$(BENCH) startup -tern $(DIST)/stage/$(HOST_TARGET)/bin/tern
	$(BENCH) packaging -root $(CURDIR) -goreleaser $(GORELEASER) -packager $(PACKAGER)
	$(NPM_TOOL_ENV) $(BENCH) npm -release $(DIST)/release
	$(BENCH) installer -release $(DIST)/release
	$(BENCH) split -root $(CURDIR) -goreleaser $(GORELEASER) -packager $(PACKAGER)
	$(BENCH) exec -tern $(DIST)/stage/$(HOST_TARGET)/bin/tern
	$(BENCH) signing -darwin $(DIST)/stage/darwin-arm64/bin/tern -windows $(DIST)/stage/windows-x64/bin/tern.exe

# For the release workflow: where make keeps cosign.
.PHONY: print-cosign
print-cosign:
	@echo $(COSIGN)

.PHONY: clean
clean:
	rm -rf $(DIST)

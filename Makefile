# The maintainer's entry points. A fresh machine needs only:
#   make snapshot   cut a local release into dist/
#   make test       everything CI runs
# Both install what they need themselves, idempotently.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO      ?= go
DIST    := $(CURDIR)/dist
# Tools the Makefile builds live here, outside any module, reused across runs.
TOOLS   := $(CURDIR)/.tools

# Debian packages the tests drive for real.
TEST_DEBS := bubblewrap bash procps

# VERSION, COMMIT and DATE (the commit time) for the checkout.
$(foreach kv,$(shell scripts/version.sh),$(eval $(kv)))

HOST_OS   := $(shell $(GO) env GOOS)
HOST_ARCH := $(shell $(GO) env GOARCH)
HOST_TARGET := $(HOST_OS)-$(subst amd64,x64,$(HOST_ARCH))

BUILDINFO := github.com/tern-agent/tern/agent/internal/buildinfo
LDFLAGS   := -s -w -buildid= -X "$(BUILDINFO).stamp=@(\#)version=$(VERSION);commit=$(COMMIT);date=$(DATE)"
# Static and reproducible: no cgo, no build paths, no VCS stamp.
GOBUILD := CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)'

.PHONY: help
help:
	@echo "make snapshot   build tern for this host into dist/ (version $(VERSION))"
	@echo "make test       lint and run every test (installs bubblewrap if missing)"
	@echo "make bench      print startup, memory and size figures for tern"
	@echo "make clean      remove dist/"

# Until the packager cuts full releases, a snapshot is the host's staged tree:
# dist/stage/<target>/{bin/tern,LICENSE}.
.PHONY: snapshot
snapshot:
	rm -rf $(DIST)/stage/$(HOST_TARGET)
	mkdir -p $(DIST)/stage/$(HOST_TARGET)/bin
	cd agent && $(GOBUILD) -o $(DIST)/stage/$(HOST_TARGET)/bin/tern ./cmd/tern
	cp LICENSE $(DIST)/stage/$(HOST_TARGET)/LICENSE
	$(DIST)/stage/$(HOST_TARGET)/bin/tern version --json

.PHONY: test
test: test-deps lint
	$(GO) test -count=1 ./agent/... ./packager/...

.PHONY: test-deps
test-deps:
	scripts/ensure-debs.sh $(TEST_DEBS)

# gofmt, and go vet for every operating system we ship, so that a darwin or
# windows file that does not compile fails here and not in a release.
.PHONY: lint
lint:
	@unformatted=$$(gofmt -l agent packager bench); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted (run gofmt -w)"; exit 1; fi
	for os in linux darwin windows; do GOOS=$$os $(GO) vet ./agent/... ./packager/...; done

.PHONY: bench
bench: snapshot
	scripts/ensure-debs.sh time
	GOWORK=off $(GO) run ./bench/startup.go -tern $(DIST)/stage/$(HOST_TARGET)/bin/tern

.PHONY: clean
clean:
	rm -rf $(DIST)

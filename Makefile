# make run   - the local PBX with the demo page and the module, on 127.0.0.1:8080
# make test  - installs what the tests need, then runs every test
# make build - the browser module and what the server embeds
SHELL := /bin/bash
GO ?= go
TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
COVER_MIN := 85

.PHONY: run test deps test-native cover vet build
run: build
	$(GO) run ./web

test: deps build vet test-native cover

# deps installs what a fresh machine lacks: Debian's Chromium for the browser
# tests and the Go tools, into .tools/bin of this repository.
deps:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -x $(TOOLS)/wasmbrowsertest || GOBIN=$(TOOLS) $(GO) install github.com/agnivade/wasmbrowsertest@v0.11.0

DIST := web/site/dist
WASM_FLAGS := -trimpath -ldflags=-s\ -w
GOROOT_WASM_EXEC := $(shell $(GO) env GOROOT)/lib/wasm/wasm_exec.js

# build: the module, the Go runtime glue beside it, and their .br/.gz, which
# the server embeds and serves precompressed.
build: wasm_exec.js
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -o $(DIST)/pbxauth.wasm ./wasm
	cp wasm_exec.js $(DIST)/wasm_exec.js
	@if [ -d web/site/precompress ]; then $(GO) run ./web/site/precompress $(DIST); fi

wasm_exec.js: $(GOROOT_WASM_EXEC)
	cp $< $@

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

test-native:
	$(GO) test -race -timeout 10m ./...

cover:
	@$(GO) test -coverprofile=cover.out ./core/... >/dev/null
	@pct=$$($(GO) tool cover -func=cover.out | awk '/^total:/ {sub("%","",$$3); print $$3}'); \
	  echo "core statement coverage: $$pct% (minimum $(COVER_MIN)%)"; \
	  awk -v p=$$pct -v m=$(COVER_MIN) 'BEGIN { exit !(p >= m) }'

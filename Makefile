# make run   - the local PBX with the demo page and the module, on 127.0.0.1:8080
# make check - the fast tier, about two minutes: gofmt, vet, every native test with -short and the race detector
# make test  - installs what the tests need, then runs every test: the fast tier, then the slow one (wasm in
#              Chromium, e2e, the main flows in Chromium, Firefox and WebKit over http and https, npm, Node,
#              Playwright, Selenium, TypeScript), fuzzing, coverage and size
# make build - the browser module and what the server embeds
# make size  - the module's raw, gzip, brotli and zstd bytes against a minimal syscall/js program
# make bench - every figure against its baseline in the same run (size, page load, login, memory, the server
#              under load); writes bench/results.json
SHELL := /bin/bash
GO ?= go
TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
COVER_MIN := 85

.PHONY: run check test deps test-native test-slow fuzz cover vet typecheck build size bench playwright selenium
run: build
	$(GO) run ./web

# check is the fast tier a developer runs while working: no browser, no
# build of the module, packages tested in parallel. Tests that need a
# browser or another tool skip under -short, saying so.
check: vet
	$(GO) test -short -race -count=1 -timeout 10m ./...

test: deps build vet typecheck test-native test-slow fuzz cover size playwright selenium

# deps installs what a fresh machine lacks: the three browser engines and
# their drivers from Debian's packages (Chromium with chromedriver, Firefox
# ESR, WebKitGTK's WebKitWebDriver with its MiniBrowser, and Xvfb, the
# display WebKit needs), and the Go tools, into .tools/bin of this repository.
ENGINE_PKGS := chromium:chromium chromedriver:chromium-driver firefox-esr:firefox-esr \
	WebKitWebDriver:webkit2gtk-driver xvfb-run:xvfb xauth:xauth
deps:
	@missing=$$(for p in $(ENGINE_PKGS); do command -v $${p%%:*} >/dev/null || echo $${p#*:}; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian's" $$missing; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; fi
	@test -x $(TOOLS)/wasmbrowsertest || GOBIN=$(TOOLS) $(GO) install github.com/agnivade/wasmbrowsertest@v0.11.0

DIST := web/internal/site/dist
WASM_FLAGS := -trimpath -ldflags=-s\ -w
GOROOT_WASM_EXEC := $(shell $(GO) env GOROOT)/lib/wasm/wasm_exec.js

# build: the module, the Go runtime glue beside it, and their .zst/.br/.gz, which
# the server embeds and serves precompressed.
build: wasm_exec.js
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -o $(DIST)/pbxauth.wasm ./wasm
	cp wasm_exec.js $(DIST)/wasm_exec.js
	@if [ -d web/internal/cmd/precompress ]; then $(GO) run ./web/internal/cmd/precompress $(DIST); fi
	$(GO) run ./web/internal/cmd/assemble out/npm

wasm_exec.js: $(GOROOT_WASM_EXEC)
	cp $< $@

# typecheck compiles a strict TypeScript page against the definitions pages
# get at /api/api.d.ts, with typescript from npm in .tools/npm.
TSC := $(CURDIR)/.tools/npm/node_modules/.bin/tsc
typecheck:
	@command -v npm >/dev/null || { \
	  echo "installing Debian's nodejs and npm"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	@test -x $(TSC) || { mkdir -p .tools/npm && cd .tools/npm && npm install --no-audit --no-fund --silent typescript@5.9.3 >/dev/null; }
	@test -f .tools/npm/node_modules/ws/package.json || { mkdir -p .tools/npm && cd .tools/npm && npm install --no-audit --no-fund --silent ws@8.23.0 >/dev/null; }
	$(TSC) --strict --noEmit --lib es2017,dom web/internal/site/api.d.ts web/internal/site/typecheck/example.ts

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./jsbridge/ ./wasm/
	GOOS=js GOARCH=wasm $(GO) build ./core/...
	cd jsbridge/safejs && $(GO) vet ./... && GOOS=js GOARCH=wasm $(GO) vet ./...

# test-native is check's tests, the core's run also writing the coverage
# that make cover reads (so the core is tested once). CI=true: a test that
# lacks a tool fails instead of skipping.
CORE_PKGS = $(shell $(GO) list ./core/...)
OTHER_PKGS = $(shell $(GO) list ./... | grep -v '/core/')
test-native:
	@mkdir -p out
	CI=$${CI:-true} $(GO) test -short -race -count=1 -timeout 10m -coverpkg=./core/... -coverprofile=out/cover.out $(CORE_PKGS)
	CI=$${CI:-true} $(GO) test -short -race -count=1 -timeout 10m $(OTHER_PKGS)

# test-slow is what -short skips: the module's tests inside Chromium, the
# end-to-end pages, the main flows in three engines (web/internal/engines),
# the npm package and Node, and the tests that run the go command. One package at a time: each starts Chromium, and two at once on a
# small machine make timing-sensitive steps (clicks) flaky. The race
# detector ran on all of their Go code in test-native; here it would only
# slow the browser's partner down.
SLOW_PKGS := ./jsbridge/ ./web/internal/e2e/ ./web/internal/engines/ ./web/internal/npmpkg/ ./core/backend/vodia/thirdparty/
test-slow:
	CI=$${CI:-true} $(GO) test -count=1 -p 1 -timeout 20m $(SLOW_PKGS)

# playwright runs web/playwright's example test (Playwright with Debian's
# Chromium; nothing downloaded) against the PBX, started with go run on a free port.
playwright: build typecheck
	GO=$(GO) web/playwright/run.sh

# selenium runs web/selenium's example test (Selenium WebDriver with Debian's
# chromedriver, and WebKitWebDriver under xvfb-run) against the PBX, started
# with go run on a free port.
selenium: build
	GO=$(GO) web/selenium/run.sh

# fuzz runs every Fuzz target of the repository briefly (FUZZTIME each,
# default 5s) from its committed corpus in testdata/fuzz; a finding fails it.
fuzz:
	scripts/fuzz.sh

# cover reads the coverage that test-native's core run wrote.
cover:
	@test -f out/cover.out || { echo "out/cover.out is missing: make test-native writes it"; exit 1; }
	@pct=$$($(GO) tool cover -func=out/cover.out | awk '/^total:/ {sub("%","",$$3); print $$3}'); \
	  echo "core statement coverage: $$pct% (minimum $(COVER_MIN)%)"; \
	  awk -v p=$$pct -v m=$(COVER_MIN) 'BEGIN { exit !(p >= m) }'

# size builds the floor (a minimal syscall/js program) in the same run and
# compares; it fails if the module's brotli size is over 1.6 times the floor.
size: build
	@mkdir -p out
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -o out/floor.wasm ./wasm/testdata/floor
	set -o pipefail; $(GO) run ./web/internal/cmd/precompress -size out/floor.wasm $(DIST)/pbxauth.wasm | tee out/size.txt

# bench measures each figure against its baseline in the same run: the size
# against the floor (make size), the wire codec against encoding/json, page
# load, login, memory and the wasm functions V8 compiles lazily before the
# first answer (against wasm/testdata/floorfetch; BenchmarkCompile also writes
# out/compile-report.txt) and what a second visit compiles once Chrome has
# written its code cache (BenchmarkCodeCache, which waits for that: a minute or
# two; see the README) in headless Chromium (web/internal/e2e), the live feed
# (web/internal/feedserver), and the server under load on loopback (bench/load); then
# bench/report writes bench/results.json and prints the table.
bench: size
	@mkdir -p out
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -count 6 ./core/backend/ipcortex/wire/ | tee out/codec.txt
	set -o pipefail; $(GO) test -run '^$$' -bench '^BenchmarkLoad$$' -benchtime 10x -timeout 30m ./web/internal/e2e/ | tee out/load.txt
	set -o pipefail; $(GO) test -run '^$$' -bench '^BenchmarkLogin$$' -benchtime 50x -timeout 30m ./web/internal/e2e/ | tee out/login.txt
	set -o pipefail; $(GO) test -run '^$$' -bench '^BenchmarkMemory$$' -benchtime 1x -timeout 30m ./web/internal/e2e/ | tee out/memory.txt
	set -o pipefail; $(GO) test -run '^$$' -bench '^BenchmarkCompile$$' -benchtime 1x -timeout 30m ./web/internal/e2e/ | tee out/compile.txt
	set -o pipefail; $(GO) test -run '^$$' -bench '^BenchmarkCodeCache$$' -benchtime 1x -timeout 30m ./web/internal/e2e/ | tee out/codecache.txt
	set -o pipefail; $(GO) test -run '^$$' -bench BenchmarkFeed -benchtime 1x ./web/internal/feedserver/ | tee out/feed.txt
	set -o pipefail; $(GO) run ./bench/load -out out/server-load.json | tee out/server-load.txt
	$(GO) run ./bench/report -in out -out bench/results.json

# make run   - the local PBX with the demo page and the module, on 127.0.0.1:8080
# make test  - installs what the tests need, then runs every test
# make build - the browser module and what the server embeds
# make size  - the module's raw, gzip, brotli and zstd bytes against a minimal syscall/js program
# make bench - the wire codec against encoding/json; page load to ready (cold, warm in the same tab, second visit
#              in a new tab, zstd against brotli) against a minimal Go wasm; the size ratios;
#              and the live feed: memory per held feed and logout to the last of N feeds told
SHELL := /bin/bash
GO ?= go
TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
COVER_MIN := 85

.PHONY: run test deps test-native cover vet typecheck build size bench
run: build
	$(GO) run ./web

test: deps build vet typecheck test-native cover size

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

# build: the module, the Go runtime glue beside it, and their .zst/.br/.gz, which
# the server embeds and serves precompressed.
build: wasm_exec.js
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -o $(DIST)/pbxauth.wasm ./wasm
	cp wasm_exec.js $(DIST)/wasm_exec.js
	@if [ -d web/site/precompress ]; then $(GO) run ./web/site/precompress $(DIST); fi

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
	$(TSC) --strict --noEmit --lib es2017,dom web/site/api.d.ts web/site/typecheck/example.ts

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./jsbridge/ ./wasm/

# One package at a time: the browser tests start Chromium, and two of them
# at once on a small machine make timing-sensitive steps (clicks) flaky.
test-native:
	$(GO) test -race -count=1 -p 1 -timeout 15m ./...

cover:
	@$(GO) test -coverpkg=./core/... -coverprofile=cover.out ./core/... >/dev/null
	@pct=$$($(GO) tool cover -func=cover.out | awk '/^total:/ {sub("%","",$$3); print $$3}'); \
	  echo "core statement coverage: $$pct% (minimum $(COVER_MIN)%)"; \
	  awk -v p=$$pct -v m=$(COVER_MIN) 'BEGIN { exit !(p >= m) }'

# size builds the floor (a minimal syscall/js program) in the same run and
# compares; it fails if the module's brotli size is over 1.8 times the floor.
size: build
	@mkdir -p out
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -o out/floor.wasm ./wasm/testdata/floor
	set -o pipefail; $(GO) run ./web/site/precompress -size out/floor.wasm $(DIST)/pbxauth.wasm | tee out/size.txt

# bench runs each benchmark against its baseline (encoding/json) in the same
# run and prints the ratio of their medians.
bench: size
	@mkdir -p out
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./core/backend/ipcortex/wire/ | tee out/bench.txt
	@awk '/^Benchmark/ { split($$1, p, "/"); sub(/-[0-9]+$$/, "", p[2]); v[p[1] "|" p[2]] = v[p[1] "|" p[2]] " " $$3; names[p[1]] = 1 } \
	  function median(s,  a, n, i, j, t) { n = split(s, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 } \
	  END { for (b in names) { w = median(v[b "|wire"]); j = median(v[b "|encoding_json"]); \
	    printf "%s: wire %.0f ns/op, encoding/json %.0f ns/op, wire takes %.2f of the baseline time\n", b, w, j, w / j } }' out/bench.txt
	set -o pipefail; $(GO) test -run '^$$' -bench BenchmarkLoad -benchtime 10x -count 1 -timeout 30m ./web/e2e/ | tee out/load.txt
	@awk '/^BenchmarkLoad/ { for (i = 4; i <= NF; i++) v[$$i] = $$(i - 1); n++ } \
	  END { if (!n || v["cold-ratio"] == "") { print "page load: no BenchmarkLoad figures in out/load.txt"; exit 1 } \
	    printf "page load, medians of 10 rounds, fresh profile per cold load, module and floor interleaved:\n"; \
	    printf "  cold to ready:       module %.1f ms, floor %.1f ms, ratio %.2f\n", v["module-cold-ms"], v["floor-cold-ms"], v["cold-ratio"]; \
	    printf "  cold to first answer (checkonly): module %.1f ms, ratio %.2f to the floor ready\n", v["module-answer-ms"], v["answer-ratio"]; \
	    printf "  warm, same tab:      module %.1f ms, ratio %.2f to the cold floor\n", v["module-warm-ms"], v["warm-ratio"]; \
	    printf "  second visit, new tab: module %.1f ms, ratio %.2f to the cold floor\n", v["module-newtab-ms"], v["newtab-ratio"]; \
	    printf "  as brotli (no zstd): module %.1f ms, floor %.1f ms, ratio %.2f; zstd against brotli for the module: %.2f\n", v["module-br-cold-ms"], v["floor-br-cold-ms"], v["br-cold-ratio"], v["zstd-vs-br"] }' out/load.txt
	@grep -h '^brotli ratio' out/size.txt | sed 's/^/size: /'
	@grep -h '^zstd ratio' out/size.txt | sed 's/^/size: /'
	set -o pipefail; $(GO) test -run '^$$' -bench BenchmarkFeed -benchtime 1x ./web/feed/ | tee out/feed.txt
	@awk '/^BenchmarkFeedLogout\// { split($$1, p, "/"); sub(/-[0-9]+$$/, "", p[2]); kb = ""; ms = ""; \
	    for (i = 4; i <= NF; i++) { if ($$i == "KB/conn") kb = $$(i - 1); if ($$i == "ms/last-told") ms = $$(i - 1) } \
	    printf "live feed, %s: the last feed told %s ms after the logout; %s KB per held feed (server and client ends, one process)\n", p[2], ms, kb; n++ } \
	  END { if (!n) { print "live feed: no BenchmarkFeedLogout lines in out/feed.txt"; exit 1 } }' out/feed.txt

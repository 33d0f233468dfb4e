#!/usr/bin/env bash
# run.sh runs the Selenium test (login.test.mjs) against the local PBX, in
# Chromium and in WebKit: it installs the packages pinned in
# package-lock.json when node_modules lacks them or is older, starts the PBX
# with `go run` ($GO, default go) on a free port, runs `node --test` with any
# arguments given (under `xvfb-run -a` when WebKit is among the engines), and
# stops the PBX at the end. Its exit code is the tests'.
#
# BROWSERS picks the engines (default chromium,webkit); CHROMIUM,
# CHROMEDRIVER, WEBKIT_WEBDRIVER and MINIBROWSER name other binaries than
# Debian's (chromium, chromium-driver, webkit2gtk-driver; xvfb for xvfb-run).
# No browser or driver is downloaded.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD

if [ ! -f ../internal/site/dist/pbxauth.wasm ]; then
  echo "web/internal/site/dist has no module: run make build first" >&2
  exit 1
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "the Selenium test needs Node.js 20 or later; this is $(node --version)" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # selenium-webdriver declares Node 22 but runs on Node 20: npm warns.
  timeout 300 npm ci --no-audit --no-fund
fi

export BROWSERS=${BROWSERS:-chromium,webkit}
export SE_OFFLINE=true # Selenium Manager, should anything call it, downloads nothing

# The PBX and the tests each run in a process group of their own (setsid), so
# that stopping one stops everything it started: `go run` and the server it
# builds, node and the drivers and browsers it started.
work=$(mktemp -d)
pbx=
# (tests stays set: cleanup stops whatever the run left in its group)
stop() { # stop PID: SIGTERM to its group, SIGKILL after 10 s
  local pid=$1 i
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
cleanup() {
  if [ -n "$tests" ]; then stop "$tests"; fi
  if [ -n "$pbx" ]; then stop "$pbx"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# `go run ./web -addr 127.0.0.1:0` listens on a free port and prints
# "listening on http://127.0.0.1:PORT" once it accepts connections. The first
# run compiles the server, hence the long limit.
(cd ../.. && exec setsid "${GO:-go}" run ./web -addr 127.0.0.1:0) >"$work/pbx.log" 2>&1 &
pbx=$!
PBX_URL=
for _ in $(seq 1500); do # 5 minutes
  PBX_URL=$(sed -n 's/^.*listening on \(http:[^ ]*\).*$/\1/p' "$work/pbx.log" | head -n 1)
  if [ -n "$PBX_URL" ]; then break; fi
  if ! kill -0 "$pbx" 2>/dev/null; then break; fi
  sleep 0.2
done
if [ -z "$PBX_URL" ]; then
  echo "the PBX did not start (go run ./web -addr 127.0.0.1:0):" >&2
  cat "$work/pbx.log" >&2
  exit 1
fi
export PBX_URL
echo "PBX on $PBX_URL; browsers: $BROWSERS"

# MiniBrowser needs a display: a virtual one from xvfb-run when WebKit runs.
run=()
case ",$BROWSERS," in
*,webkit,*)
  if command -v xvfb-run >/dev/null; then
    run=(xvfb-run -a)
  elif [ -z "${DISPLAY:-}" ]; then
    echo "WebKit needs a display: install xvfb (for xvfb-run) or set DISPLAY" >&2
    exit 1
  fi
  ;;
esac

# In the background and waited for, so that Ctrl-C reaches the trap at once.
# Every step in the test has its own time limit; the outer one is a last
# resort.
setsid timeout 600 "${run[@]}" node --test --test-reporter=spec "$@" "$here/login.test.mjs" &
tests=$!
status=0
wait "$tests" || status=$?
# (tests stays set: cleanup stops whatever the run left in its group)
if [ "$status" -ne 0 ]; then
  echo "--- the PBX's log (last 30 lines)" >&2
  tail -n 30 "$work/pbx.log" >&2
fi
exit "$status"

#!/usr/bin/env bash
# run.sh runs the Playwright test against the local PBX (what `make test`
# calls, after `make build`): it installs the packages pinned in
# package-lock.json when node_modules lacks them or is older, then runs
# `npx playwright test` with any arguments given. No browser is downloaded:
# the test runs the machine's Chromium (/usr/bin/chromium, or $CHROMIUM), and
# starts the PBX with `go run` ($GO, default go) on a free port.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -f ../internal/site/dist/pbxauth.wasm ]; then
  echo "web/internal/site/dist has no module: run make build first" >&2
  exit 1
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "Playwright needs Node.js 20 or later; this is $(node --version)" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
exec npx playwright test "$@"

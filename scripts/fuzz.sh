#!/usr/bin/env bash
# fuzz.sh runs every native Go fuzz target of the repository, one at a time
# (go test -fuzz takes one target per run), for FUZZTIME each (default 5s),
# and prints one line per target. It fails if any target finds an input that
# breaks it: go test then writes that input under the package's
# testdata/fuzz/FuzzXxx/, where it belongs as a regression test once fixed.
#
# Targets are the Fuzz functions of the test files that go list gives for
# this machine; files built only for GOOS=js (the browser module's) cannot
# be fuzzed natively and are not listed. Vet is off: make vet runs it.
#
#   scripts/fuzz.sh                 # every target, 5 s each
#   FUZZTIME=60s scripts/fuzz.sh    # longer
#   scripts/fuzz.sh ./core/...      # only these packages
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-5s}
patterns=("${@:-./...}")
start=$SECONDS

# Every fuzz target: a func FuzzXxx(f *testing.F) in a test file that
# go list gives for this machine's GOOS (go test -list '^Fuzz' says the
# same, but links every test binary to say it, some 10 s more).
targets=()
while read -r pkg files; do
	[[ -n $files ]] || continue
	# shellcheck disable=SC2086 # files is a list of paths without spaces
	while read -r name; do
		targets+=("$pkg $name")
	done < <(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\([A-Za-z_][A-Za-z0-9_]* \*testing\.F\).*/\1/p' $files | sort -u)
done < <("$GO" list -f '{{.ImportPath}}{{range .TestGoFiles}} {{$.Dir}}/{{.}}{{end}}{{range .XTestGoFiles}} {{$.Dir}}/{{.}}{{end}}' "${patterns[@]}")
if ((${#targets[@]} == 0)); then
	echo "fuzz: no fuzz targets in ${patterns[*]}" >&2
	exit 1
fi

failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# fuzz runs one target. go test -fuzz sometimes fails at the end of
# -fuzztime with nothing but "context deadline exceeded" (the coordinator
# sees its deadline before its workers' context is cancelled): no input was
# found, so such a run is retried once.
fuzz() {
	local pkg=$1 name=$2
	"$GO" test -vet=off -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg" >"$log" 2>&1 && return 0
	if grep -qx '[[:space:]]*context deadline exceeded' "$log" && ! grep -qE 'Failing input written|failure while testing seed corpus' "$log"; then
		echo "      (retried: go test -fuzz stopped on its own deadline)"
		"$GO" test -vet=off -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg" >"$log" 2>&1 && return 0
	fi
	return 1
}

for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	t0=$SECONDS
	if fuzz "$pkg" "$name"; then
		printf 'ok    %-22s %-55s %3ds\n' "$name" "$pkg" $((SECONDS - t0))
	else
		printf 'FAIL  %-22s %-55s %3ds\n' "$name" "$pkg" $((SECONDS - t0))
		grep -vE '^fuzz: elapsed' "$log" | tail -n 40 | sed 's/^/      /'
		failed=$((failed + 1))
	fi
done
echo "fuzz: ${#targets[@]} targets, ${FUZZTIME} each, ${failed} failed, $((SECONDS - start))s"
((failed == 0))

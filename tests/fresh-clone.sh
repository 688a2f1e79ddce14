#!/usr/bin/env bash
# The README's test command on a fresh clone of this repository alone: no
# ../shared beside it and no fixtures fetched. It must exit 0, and name each
# test that needs the real-repository fixtures as skipped.
#
# Compiled dependencies and the tools' venvs are reused from this checkout's
# target/ (CARGO_TARGET_DIR): what is tested is the clone's sources alone.
set -euo pipefail

checkout=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git clone --quiet "$checkout" "$scratch/clean"
cd "$scratch/clean"

status=0
started=$SECONDS
env -u TRACELAB_REALREPOS -u TRACELAB_REQUIRE_FIXTURES \
  CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$checkout/target}" \
  cargo test 2>&1 | tee "$scratch/log" || status=$?
if [ "$status" != 0 ]; then
  echo "fresh-clone: cargo test exited $status on a clone without the fixtures" >&2
  exit 1
fi

# Every test that reads the fixtures names itself when it skips.
missing=0
needed=$(bash tests/fixture-tests.sh)
[ -n "$needed" ] || { echo "fresh-clone: found no test that needs the fixtures" >&2; exit 1; }
for test in $needed; do
  if ! grep -q "^SKIPPED $test: .*get them with: tests/fixtures/fetch-realrepos.sh" "$scratch/log"; then
    echo "fresh-clone: $test was not reported as skipped" >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 1
echo "fresh-clone: cargo test passed on a clone alone in $((SECONDS - started)) s; skipped by name: $(echo "$needed" | wc -l) tests"

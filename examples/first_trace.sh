#!/usr/bin/env bash
# Time to first trace: the wall time from `tracelab new --defaults --set
# backends=local w` to the first span `tracelab run` prints for a request to
# /api/activities/home, with no Docker. Measured with each installer `run`
# can use (uv, which the wheel brings, and pip), each with its cache warm (a
# student's second workspace) and empty (the first: every package
# downloaded). Goals on the 2-core machine: under 5 s with uv warm, under 15 s
# with pip warm, under 90 s cold. Usage: examples/first_trace.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin tracelab
bin="$PWD/target/release/tracelab"
runs="${1:-3}"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# One measurement; prints the seconds. Extra environment comes from the caller.
first_trace() {
  local work port start end pid
  work="$(mktemp -d)"
  port="$(free_port)"
  start="$(date +%s.%N)"
  "$bin" new --defaults --no-check --set backends=local --set "port=$port" "$work/w" >/dev/null
  (cd "$work/w" && exec "$bin" run >"$work/out" 2>"$work/err") &
  pid=$!
  # The app answers once its venv is ready: then one request makes the trace.
  for _ in $(seq 1 3000); do
    curl -sf "http://127.0.0.1:$port/api/health-check" >/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/err" >&2; exit 1; }
    sleep 0.05
  done
  curl -sf "http://127.0.0.1:$port/api/activities/home" >/dev/null
  for _ in $(seq 1 400); do
    grep -q home-activities-mock-data "$work/out" && break
    sleep 0.025
  done
  end="$(date +%s.%N)"
  grep -q home-activities-mock-data "$work/out" || { echo "no span printed" >&2; cat "$work/err" >&2; exit 1; }
  kill -INT "$pid" && wait "$pid" || true
  rm -rf "$work"
  python3 -c "print(f'{$end - $start:.1f}')"
}

# uv as the wheel brings it: from PyPI, into a venv of its own, on PATH.
uv_venv="$(mktemp -d)"
python3 -m venv "$uv_venv" && "$uv_venv/bin/pip" install --quiet --disable-pip-version-check uv
export PATH="$uv_venv/bin:$PATH"

for installer in uv pip; do
  export TRACELAB_INSTALLER="$installer"
  # Fill the cache once, then measure warm.
  first_trace >/dev/null
  warm=()
  for _ in $(seq 1 "$runs"); do warm+=("$(first_trace)"); done
  cold_cache="$(mktemp -d)"
  cold="$(UV_CACHE_DIR="$cold_cache" PIP_CACHE_DIR="$cold_cache" first_trace)"
  rm -rf "$cold_cache"
  echo "time to first trace with $installer, warm cache: ${warm[*]} s"
  echo "time to first trace with $installer, empty cache: $cold s"
done
rm -rf "$uv_venv"

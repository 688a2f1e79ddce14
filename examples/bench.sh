#!/usr/bin/env bash
# Measures, with hyperfine, the wall time of
#   tracelab new --defaults      (budget 10 ms)
#   tracelab add / update        (budget 20 ms each, on the default workspace)
#   tracelab doctor, offline     (budget 20 ms; no external command on PATH),
#                                on a generated workspace and on the largest
#                                real student repository in ../shared/realrepos
#   tracelab doctor --deep       (budget 20 s, its venv made before)
# and fails when a mean is over its budget; then the spans per second that
#   tracelab listen
# receives, decodes and prints (as trees, to /dev/null) under examples/load.rs
# (8 exporter threads, 250 requests of 50 spans each); then `tracelab class`
# on 500 local repositories (examples/cohort.sh), and a query over 200,000
# saved spans beside reading them (examples/query_bench.sh). Usage: examples/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release --quiet --bins --examples
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A copy, as installed: the linker's own file starts slower until its page
# cache is dropped (see ratios.sh).
bin="$work/bin/tracelab"
install -D -m 755 target/release/tracelab "$bin"

hyperfine -N --warmup 20 --runs 200 --export-json "$work/new.json" \
  --prepare "rm -rf $work/ws" "$bin new --defaults $work/ws"

"$bin" new --defaults --no-check "$work/merge-ws" >/dev/null
cp -r "$work/merge-ws" "$work/merge-base"
# add: X-Ray into the default workspace, reset before every run.
hyperfine -N --warmup 20 --runs 200 --export-json "$work/add.json" \
  --prepare "sh -c 'rm -rf $work/merge-ws && cp -r $work/merge-base $work/merge-ws'" \
  "$bin add xray --yes --dir $work/merge-ws"
# update: a changed answer, merged into every file.
hyperfine -N --warmup 20 --runs 200 --export-json "$work/update.json" \
  --prepare "sh -c 'rm -rf $work/merge-ws && cp -r $work/merge-base $work/merge-ws'" \
  "$bin update --set port=5000 --yes --dir $work/merge-ws"

"$bin" new --defaults --no-check "$work/doctor-ws" >/dev/null
key=hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w
hyperfine -N --warmup 20 --runs 200 --export-json "$work/doctor.json" \
  "env -i PATH=/usr/bin:/bin HONEYCOMB_API_KEY=$key $bin doctor --dir $work/doctor-ws"

# The largest real repository (by size on disk), without its labels; it has
# problems, so the doctor exits 1 there (-i).
realrepos="${TRACELAB_REALREPOS:-../shared/realrepos}"
[ -d "$realrepos" ] || realrepos=target/realrepos   # tests/fixtures/fetch-realrepos.sh
largest="$(du -s "$realrepos"/*/ | sort -n | tail -1 | cut -f2)"
cp -r "$largest" "$work/real" && rm -f "$work/real/EXPECTED.md" "$work/real/SOURCE.txt"
echo "largest real repository: $(basename "$largest")"
hyperfine -N -i --warmup 20 --runs 200 --export-json "$work/real.json" \
  "env -i PATH=/usr/bin:/bin HONEYCOMB_API_KEY=$key AWS_DEFAULT_REGION=ca-central-1 $bin doctor --dir $work/real --builtin-resolver"

# doctor --deep on a generated workspace with X-Ray, its venv made by the
# run before (warm cache): the backend started, its three routes asked a
# second apart, its spans and segments awaited, everything stopped.
"$bin" new --defaults --no-check --set backends=honeycomb,xray "$work/deep-ws" >/dev/null
aws="AWS_ACCESS_KEY_ID=AKIAZ7Q4R5T6Y7U8I9O0 AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY AWS_DEFAULT_REGION=ca-central-1"
env HONEYCOMB_API_KEY=$key $aws "$bin" doctor --deep --dir "$work/deep-ws" >/dev/null 2>&1 || true
hyperfine -N --warmup 1 --runs 5 --export-json "$work/deep.json" \
  "env PATH=$PATH HOME=$HOME HONEYCOMB_API_KEY=$key $aws $bin doctor --deep --dir $work/deep-ws"

over_budget=0
python3 - "$work" <<'PY' || over_budget=1
import json, sys
failed = False
for name, label, budget in [("new", "tracelab new --defaults", 10), ("add", "tracelab add xray", 20), ("update", "tracelab update --set port=5000", 20), ("doctor", "tracelab doctor (offline)", 20), ("real", "tracelab doctor (offline), largest real repository", 20), ("deep", "tracelab doctor --deep (warm venv)", 20000)]:
    result = json.load(open(f"{sys.argv[1]}/{name}.json"))["results"][0]
    mean = result["mean"] * 1000
    print(f"{label}: mean {mean:.2f} ms, max {result['max'] * 1000:.2f} ms (budget {budget} ms)")
    failed |= mean >= budget
sys.exit(1 if failed else 0)
PY

# listen with its web view on, and a page's worth of list requests every
# quarter second (the page's pace under load: REFRESH_PAUSE_MS in app.js)
# while the load runs; then its peak resident memory.
"$bin" listen --port 0 --web-port 0 >/dev/null 2>"$work/listen.err" &
listen_pid=$!
for _ in $(seq 50); do grep -q "Web view" "$work/listen.err" && break; sleep 0.1; done
url="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/listen.err" | head -1)"
web="$(grep 'Web view' "$work/listen.err" | grep -o 'http://127.0.0.1:[0-9]*')"
( while kill -0 "$listen_pid" 2>/dev/null; do curl -s "$web/api/traces?sort=duration" >/dev/null || true; sleep 0.25; done ) &
target/release/examples/load "$url" 8 250 50
echo "listen peak resident memory after 100,000 spans: $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$listen_pid/status)"
# Ctrl-C is how a student ends listen: it exits 130, "interrupted".
kill -INT "$listen_pid"
wait "$listen_pid" || [ $? -eq 130 ]
tail -1 "$work/listen.err"

# A cohort of 500 local repositories through `tracelab class`.
examples/cohort.sh 500

# A Honeycomb query over 200,000 saved spans, beside reading them.
examples/query_bench.sh 200000

# A mean over its budget fails the bench, after everything was measured.
exit "$over_budget"

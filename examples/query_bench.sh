#!/usr/bin/env bash
# Measures, with hyperfine, a Honeycomb query over 200,000 saved spans
# against reading the same file with `tracelab show --json`, side by side:
# the lab's heatmap query (COUNT, P90 and HEATMAP of duration_ms by name)
# should cost less than 3x the read. Usage: examples/query_bench.sh [SPANS]
# (bench.sh runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
spans="${1:-200000}"
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
[ -x target/release/tracelab ] || cargo build --release --quiet --bins
bin="$PWD/target/release/tracelab"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Requests of 50 spans each, as a batching exporter sends them: a root and
# its children, names and durations varied, one in ten slow.
python3 - "$work/spans.jsonl" "$spans" <<'PY'
import json, random, sys, time
random.seed(2)
path, total = sys.argv[1], int(sys.argv[2])
now = int(time.time()) - 3600
names = ["GET /api/activities/home", "home-activities-mock-data", "SELECT", "GET /api/health-check"]
with open(path, "w") as out:
    for request in range(total // 50):
        spans = []
        for i in range(50):
            n = request * 50 + i
            start = (now + n // 60) * 10**9 + (n % 60) * 10**7
            slow = random.random() < 0.1
            duration = random.randint(800, 1000) if slow else random.randint(1, 40)
            spans.append({
                "traceId": f"{n // 5 + 1:032x}", "spanId": f"{n + 1:016x}",
                **({"parentSpanId": f"{n - n % 5 + 1:016x}"} if n % 5 else {}),
                "name": names[n % 4], "kind": 2 if n % 5 == 0 else 1,
                "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + duration * 10**6),
                "attributes": [{"key": "http.status_code", "value": {"intValue": "200"}}],
            })
        out.write(json.dumps({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "backend-flask"}}]},
            "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]}]}) + "\n")
PY
query='{"calculations":[{"op":"COUNT"},{"op":"P90","column":"duration_ms"},{"op":"HEATMAP","column":"duration_ms"}],"breakdowns":["name"]}'
echo "$query" >"$work/query.json"
hyperfine -N --warmup 1 --runs 5 --export-json "$work/query-bench.json" \
  "$bin show --json $work/spans.jsonl" \
  "$bin show --json --query @$work/query.json $work/spans.jsonl"
python3 - "$work/query-bench.json" "$spans" <<'PY'
import json, sys
read, query = (r["mean"] for r in json.load(open(sys.argv[1]))["results"])
print(f"{int(sys.argv[2]):,} spans: show --json {read:.2f} s, the lab's heatmap query {query:.2f} s: {query / read:.2f}x the read (goal: under 3x)")
PY

# The web view's query over what listen keeps by default (--keep 10000
# traces; here five spans each), answered while the server runs: `show
# --web` holds the first 10,000 traces of the same file.
head -n 1000 "$work/spans.jsonl" >"$work/kept.jsonl"
"$bin" show --web --web-port 0 "$work/kept.jsonl" 2>"$work/web.err" >/dev/null &
web_pid=$!
for _ in $(seq 50); do grep -q "http://" "$work/web.err" && break; sleep 0.1; done
web="$(grep -o 'http://[0-9.:]*' "$work/web.err" | head -1)"
spec="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$query")"
curl -s -o /dev/null "$web/api/query?spec=$spec"
times="$(for _ in $(seq 20); do curl -s -o /dev/null -w '%{time_total}\n' "$web/api/query?spec=$spec"; done)"
kill -INT "$web_pid"; wait "$web_pid" 2>/dev/null || true
echo "$times" | python3 -c '
import sys
times = [float(t) * 1000 for t in sys.stdin.read().split()]
print(f"the web view: the same query over 10,000 traces (50,000 spans): mean {sum(times) / len(times):.1f} ms, max {max(times):.1f} ms over {len(times)} requests (goal: under 100 ms)")'

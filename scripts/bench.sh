#!/usr/bin/env bash
# The speed benchmark (issue: a compile fast enough for a pre-commit hook).
# For each N: generate a synthetic project (scripts/gen-compose.py), then report
#   - whole-process wall time of `compose2k8s build` (hyperfine, warm cache, median),
#   - peak memory (GNU time, max RSS),
#   - time per stage and the floor (benches/stages.rs): load+merge+interpolate,
#     lower, emit, and yaml_serde parse of the input + serialise of our output.
# Usage: scripts/bench.sh [N ...]      (default: 10 100 1000 10000)
# Honours CARGO_TARGET_DIR; the projects go to a temporary directory under TMPDIR
# (TMPDIR=/dev/shm keeps disk writes out of the numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 100 1000 10000)
for tool in hyperfine /usr/bin/time bc python3; do
  command -v "$tool" >/dev/null || { echo "bench.sh needs $tool (apt-get install hyperfine time bc python3)" >&2; exit 2; }
done
cargo build --release --quiet
cargo bench --no-run --quiet --bench stages
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/compose2k8s"
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "$(nproc) cores, $(uname -m); $("$bin" --version)"
# Wall time (hyperfine median; for stdout also the fastest run, since a shared 2-core
# machine varies by tens of percent between runs) of three ways to run the same build:
#   stdout_ms  `build -f compose.yaml` with standard output to /dev/null
#   new_ms     `build -o out.yaml` where out.yaml does not exist (temp file, fsync, rename)
#   same_ms    `build -o out.yaml` where out.yaml already holds this output (left
#              untouched: the usual pre-commit case)
#   instr_M    instructions of one stdout build (valgrind --tool=callgrind; N <= 1000
#              and only when valgrind is installed): the figure that does not move with
#              the machine's load
printf '%-6s %9s %9s %16s %8s %8s %8s %8s\n' N input_B output_B stdout_ms/min new_ms same_ms rss_MB instr_M
# ms FILE FIELD: a hyperfine JSON export's FIELD (median, min) in milliseconds.
ms() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('%.1f' % (r[sys.argv[2]]*1000))" "$1" "$2"; }
for n in "${sizes[@]}"; do
  d="$work/n$n"
  python3 scripts/gen-compose.py "$n" "$d"
  out="$d/out.yaml"
  "$bin" build -f "$d/compose.yaml" -o "$out"  # fails loudly here rather than inside hyperfine
  runs=$(( n >= 10000 ? 5 : n >= 1000 ? 20 : 100 ))
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$d/stdout.json" \
    "$bin build -f $d/compose.yaml" >/dev/null
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$d/new.json" \
    --prepare "rm -f $out" "$bin build -f $d/compose.yaml -o $out" >/dev/null
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$d/same.json" \
    "$bin build -f $d/compose.yaml -o $out" >/dev/null
  rss=$( { /usr/bin/time -f '%M' "$bin" build -f "$d/compose.yaml" 2>&1 >/dev/null; } | tail -1)
  instr=-
  if [ "$n" -le 1000 ] && command -v valgrind >/dev/null; then
    instr=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" build -f "$d/compose.yaml" 2>&1 >/dev/null \
      | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' | python3 -c "import sys; print('%.1f' % (int(sys.stdin.read())/1e6))")
  fi
  printf '%-6s %9s %9s %16s %8s %8s %8.1f %8s\n' "$n" "$(stat -c %s "$d/compose.yaml")" \
    "$(stat -c %s "$out")" "$(ms "$d/stdout.json" median)/$(ms "$d/stdout.json" min)" "$(ms "$d/new.json" median)" \
    "$(ms "$d/same.json" median)" "$(echo "$rss/1024" | bc -l)" "$instr"
done
echo
echo "stages (in process, median of repeated runs):"
for n in "${sizes[@]}"; do
  cargo bench --quiet --bench stages -- "$work/n$n/compose.yaml"
done

#!/usr/bin/env bash
# The speed benchmark (issue: a compile fast enough for a pre-commit hook).
# For each N: generate a synthetic project (scripts/gen-compose.py), then report
#   - whole-process wall time of `compose2k8s build` (hyperfine, warm cache),
#   - peak memory (GNU time, max RSS),
#   - time per stage and the floor (benches/stages.rs): load+merge+interpolate,
#     lower, emit, and yaml_serde parse of the input + serialise of our output.
# Usage: scripts/bench.sh [N ...]      (default: 10 100 1000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 100 1000 10000)
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine; }
cargo build --release --quiet
cargo bench --no-run --quiet --bench stages 2>/dev/null || true
bin="$PWD/target/release/compose2k8s"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-7s %10s %10s %12s %10s\n' N input wall_ms peak_rss_MB out_bytes
for n in "${sizes[@]}"; do
  d="$work/n$n"
  python3 scripts/gen-compose.py "$n" "$d"
  runs=$(( n >= 10000 ? 5 : 20 ))
  hyperfine -N --warmup 2 --runs "$runs" --export-json "$d/h.json" \
    "$bin build -f $d/compose.yaml -o $d/out.yaml" >/dev/null 2>&1
  wall=$(python3 -c "import json,sys; r=json.load(open('$d/h.json'))['results'][0]; print('%.1f' % (r['median']*1000))")
  rss=$( { /usr/bin/time -f '%M' "$bin" build -f "$d/compose.yaml" -o "$d/out.yaml" 2>&1 >/dev/null; } | tail -1)
  printf '%-7s %10s %10s %12.1f %10s\n' "$n" "$(stat -c %s "$d/compose.yaml")" "$wall" "$(echo "$rss/1024" | bc -l)" "$(stat -c %s "$d/out.yaml")"
done
echo
echo "stages (median of repeated in-process runs):"
for n in "${sizes[@]}"; do
  cargo bench --quiet --bench stages -- "$work/n$n/compose.yaml" 2>/dev/null
done

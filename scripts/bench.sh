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
printf '%-7s %10s %10s %12s %10s\n' N input_B wall_ms peak_rss_MB output_B
for n in "${sizes[@]}"; do
  d="$work/n$n"
  python3 scripts/gen-compose.py "$n" "$d"
  cmd=("$bin" build -f "$d/compose.yaml" -o "$d/out.yaml")
  "${cmd[@]}"  # fails loudly here rather than inside hyperfine
  runs=$(( n >= 10000 ? 5 : 20 ))
  hyperfine -N --warmup 2 --runs "$runs" --export-json "$d/h.json" "${cmd[*]}" >/dev/null
  wall=$(python3 -c "import json; r=json.load(open('$d/h.json'))['results'][0]; print('%.1f' % (r['median']*1000))")
  rss=$( { /usr/bin/time -f '%M' "${cmd[@]}" 2>&1 >/dev/null; } | tail -1)
  printf '%-7s %10s %10s %12.1f %10s\n' "$n" "$(stat -c %s "$d/compose.yaml")" "$wall" \
    "$(echo "$rss/1024" | bc -l)" "$(stat -c %s "$d/out.yaml")"
done
echo
echo "stages (in process, median of repeated runs):"
for n in "${sizes[@]}"; do
  cargo bench --quiet --bench stages -- "$work/n$n/compose.yaml"
done

#!/usr/bin/env bash
# Runs the simulator's benchmarks (bench/*.cpp) and writes their results as
# Google Benchmark JSON.
#   scripts/bench.sh                      all cases -> results/bench/<date>.json
#   scripts/bench.sh -o out.json          ... to out.json
#   scripts/bench.sh -f 'BM_Gups|BM_Workload/gups'   only the cases matching a regex
#   scripts/bench.sh -b build-mine        use that build directory's vtmm_bench
# Builds vtmm_bench in build/ (Release) first unless -b is given. Speeds are
# per core: the benchmarks are single-threaded. Compare numbers only between
# runs on an otherwise idle machine (the JSON's "context" records the host,
# its CPU count, scaling and load average).
set -euo pipefail
cd "$(dirname "$0")/.."
out="" filter="" dir=""
while getopts "o:f:b:h" opt; do
  case "$opt" in
    o) out="$OPTARG" ;;
    f) filter="$OPTARG" ;;
    b) dir="$OPTARG" ;;
    *) sed -n '2,11p' "$0" >&2; exit 2 ;;
  esac
done
if [ -z "$dir" ]; then
  dir=build
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVTMM_WERROR=ON >/dev/null
  ninja -C "$dir" vtmm_bench
fi
[ -x "$dir/vtmm_bench" ] || { echo "bench.sh: no $dir/vtmm_bench (build it, or pass -b DIR)" >&2; exit 2; }
if [ -z "$out" ]; then
  mkdir -p results/bench
  out="results/bench/$(date -u +%Y%m%dT%H%M%SZ).json"
fi
args=(--benchmark_out="$out" --benchmark_out_format=json --benchmark_counters_tabular=true)
[ -n "$filter" ] && args+=(--benchmark_filter="$filter")
"$dir/vtmm_bench" "${args[@]}"
echo "bench.sh: wrote $out" >&2

#!/usr/bin/env bash
# Coverage-guided fuzzing of the untrusted readers with libFuzzer (clang):
# builds build-fuzz/ (every object with -fsanitize=fuzzer-no-link,address,undefined)
# and runs each target from its committed corpus (tests/fuzz/corpus/<target>/).
#   scripts/fuzz.sh [RUNS]      RUNS executions per target (default 1000000)
# New inputs libFuzzer finds go to build-fuzz/corpus/<target>/ (not the
# committed corpus); a crash leaves build-fuzz/crash-* and exits non-zero.
# Not part of CI (minutes to hours); the deterministic mutation test in ctest
# (tests/fuzz_mutation_test.cpp) runs the same targets on every change.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-1000000}"
command -v clang++ >/dev/null || { echo "fuzz.sh: needs clang (apt-get install clang)" >&2; exit 2; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only" \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 -DVTMM_FUZZ=ON \
  -DVTMM_TESTS=OFF -DVTMM_BENCH=OFF -DVTMM_HEADER_CHECK=OFF >/dev/null
ninja -C build-fuzz vtmm_fuzz_spec vtmm_fuzz_trace vtmm_fuzz_agent_stream
for t in spec trace agent_stream; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "fuzz.sh: $t, $runs runs"
  (cd build-fuzz && UBSAN_OPTIONS=halt_on_error=1 ./"vtmm_fuzz_$t" -runs="$runs" -max_len=65536 -timeout=10 \
     -rss_limit_mb=4096 -print_final_stats=1 "corpus/$t" "../tests/fuzz/corpus/$t" 2>&1 | tail -12)
done

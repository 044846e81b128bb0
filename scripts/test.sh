#!/usr/bin/env bash
# Installs, builds and runs every test: the Release build, then the ASan+UBSan
# build. Tests labelled "slow" run only with --slow.
set -euo pipefail
cd "$(dirname "$0")/.."
slow=0
for a in "$@"; do
  case "$a" in
    --slow) slow=1 ;;
    *) echo "test.sh: unknown option '$a' (--slow)" >&2; exit 2 ;;
  esac
done
select=(-LE 'slow|slurm')
[ "$slow" -eq 1 ] && select=(-LE slurm)
scripts/setup.sh
# Every C++ file follows .clang-format (docs/ci.md "Format").
if ! git ls-files -z '*.cpp' '*.hpp' | xargs -0 clang-format --dry-run -Werror; then
  echo "test.sh: files above are not clang-formatted: run scripts/format.sh" >&2
  exit 1
fi
# No function longer than 80 lines (docs/ci.md "Function length").
scripts/long-functions.py --max 80
scripts/build.sh release
ctest --test-dir build --output-on-failure -j "$(nproc)" "${select[@]}"
# The sim performance gate (docs/ci.md): vTMM and first-touch against the committed baseline.
gate_dir="$(mktemp -d)"
build/vtmm run experiments/gate.json --out "$gate_dir" --fresh --jobs "$(nproc)" >/dev/null 2>"$gate_dir/run.log" ||
  { cat "$gate_dir/run.log" >&2; exit 1; }
build/vtmm compare ci/baseline/gate.jsonl "$gate_dir" --threshold 5% --fail-on-unmatched
rm -rf "$gate_dir"
# The Slurm executor on a one-node cluster the test starts and stops (~30 s; once, not under ASan).
VTMM_SLURM_REQUIRED=1 ctest --test-dir build --output-on-failure -L slurm
# The real-VM end-to-end tests (a TCG guest through libvirt per run, about 2 min in all; once, not
# under ASan): the vm platform's runs, and the daemon's migrations on a two-node guest kernel.
[ "$slow" -eq 1 ] || ctest --test-dir build --output-on-failure -R '^(vm_smoke|vm_numa_migration)$'
build/vtmm_bench --benchmark_filter=BM_Gups --benchmark_min_time=0.05 >/dev/null  # the benchmarks still run (no speed is asserted)
scripts/build.sh sanitize
# The plotting and gate scripts (Python and shell; ctest Report.* and
# gate_script) run in the Release phase only: the sanitizers have nothing of
# ours to check in them. Every C++ test runs under ASan+UBSan.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)" "${select[@]}" -E '^Report[.]|^gate_script$'
echo "test.sh: all tests passed"

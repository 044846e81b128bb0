#!/usr/bin/env bash
# Configures and builds one flavour of vtmm.
#   scripts/build.sh            -> build/        (Release, warnings are errors)
#   scripts/build.sh sanitize   -> build-asan/   (Debug + ASan + UBSan; -g1: line tables for the
#                                                 sanitizers' stack traces, a lighter compile than -g)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-release}" in
  release)  dir=build;      flags=(-DCMAKE_BUILD_TYPE=Release -DVTMM_WERROR=ON) ;;
  sanitize) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DVTMM_WERROR=ON -DVTMM_SANITIZE=ON -DVTMM_BENCH=OFF) ;;
  *) echo "build.sh: unknown flavour '$1' (release|sanitize)" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$dir"

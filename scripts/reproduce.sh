#!/usr/bin/env bash
# Installs, builds, and runs the main job: every experiment in experiments/ on
# the simulated host at quick scale, with figures and results/REPORT.md.
# Extra arguments go to `vtmm reproduce` (e.g. --full, --only smoke).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
SECONDS=0
build/vtmm reproduce "$@"
echo "vtmm reproduce $*: ${SECONDS} s wall" >&2

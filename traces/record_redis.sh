#!/usr/bin/env bash
# Records traces/redis.vtrace: redis-server under a short load from
# redis-benchmark, with phase markers, through `vtmm trace record`.
#   traces/record_redis.sh [OUT] [--native]
# --native runs the same load without the recorder instead, to compare the
# requests/s that redis-benchmark reports (the recorder's slowdown).
# Needs: a build with the pagecount tool (build/vtmm, or VTMM=path),
# redis-server and redis-tools (Debian). Uses 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
VTMM=${VTMM:-build/vtmm}
PORT=${PORT:-6399}
OUT=${1:-traces/redis.vtrace}
MODE=${2:-record}
KEYS=${KEYS:-10000}
LOAD_N=${LOAD_N:-10000}
RUN_N=${RUN_N:-20000}
# 20,000 counted accesses per window: about 150 windows over the run, so the
# replay's in-window shuffle blurs the order of a few dozen requests at most.
WINDOW=${WINDOW:-20000}
MARK=$(mktemp)
trap 'rm -f "$MARK"' EXIT

if [ "$MODE" = "--native" ]; then
  redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
else
  "$VTMM" trace record --window "$WINDOW" --marker-file "$MARK" --out "$OUT" -- \
    redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null &
fi
REC=$!
for _ in $(seq 1 600); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
# Load: KEYS keys of 1 KiB values (SET), then the measured mix: GET and SET
# over the same keys (redis-benchmark runs the two tests one after the other;
# keys uniformly random).
echo warmup > "$MARK"
redis-benchmark -p "$PORT" -t set -n "$LOAD_N" -r "$KEYS" -d 1024 -c 4 -q
echo measured > "$MARK"
redis-benchmark -p "$PORT" -t get,set -n "$RUN_N" -r "$KEYS" -d 1024 -c 4 -q
echo end > "$MARK"
redis-benchmark -p "$PORT" -t ping -n 2000 -c 1 -q >/dev/null  # makes a window boundary pass the end marker
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$REC"

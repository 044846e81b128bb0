#!/usr/bin/env bash
# The Slurm executor against a real single-node Slurm cluster on this machine
# (scripts/slurm-local.sh): a small sim sweep submitted as an array job gives
# the same records as the local executor (apart from wall_s and cpu_s); a cancelled
# array task is reported missing by `vtmm collect`, `--resubmit` completes it,
# and nothing is duplicated. ctest label "slurm".
#   usage: tests/slurm_test.sh PATH/TO/vtmm
# Exits 77 (skipped) when slurm-wlm/munge are not installed or not root,
# unless VTMM_SLURM_REQUIRED=1 (scripts/test.sh sets it), then it fails.
set -euo pipefail
VTMM=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export VTMM_SLURM_DIR=${VTMM_SLURM_DIR:-/tmp/vtmm-slurm-test-$$}
export VTMM_SLURM_PORT=${VTMM_SLURM_PORT:-16837}
WORK=$(mktemp -d /tmp/vtmm-slurm-work.XXXXXX)
T0=$(date +%s)

say() { echo "slurm_test [$(($(date +%s) - T0))s]: $*"; }
fail() { echo "slurm_test: FAIL: $*" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || [ "$(id -u)" -ne 0 ]; then
  [ "${VTMM_SLURM_REQUIRED:-0}" = 1 ] && fail "slurm-wlm and munge must be installed and the test run as root"
  echo "slurm_test: skipped (needs root and Debian packages slurm-wlm, munge: scripts/setup.sh)"
  exit 77
fi

cleanup() {
  [ -n "${WATCH_PID:-}" ] && kill "$WATCH_PID" 2>/dev/null || true
  "$ROOT/scripts/slurm-local.sh" stop >/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$ROOT/scripts/slurm-local.sh" start
export SLURM_CONF=$VTMM_SLURM_DIR/etc/slurm.conf
sinfo -N -o '%N %c %m %f %T'

# 6 runs: 3 placements x 2 seeds of a small GUPS (a fraction of a second each).
cat >"$WORK/spec.json" <<'EOF'
{"name": "slurm-check",
 "run": {"host": "optane", "vm": {"vcpus": 1}, "ratio": "1:4",
         "workload": {"impl": "gups", "footprint": "32MiB", "updates": 200000, "warmup_updates": 20000}},
 "sweep": {"policy": ["dram-only", "first-touch", "oracle"], "seed": [1, 2]}}
EOF

# Records without their timing fields (cpu_s, wall_s), byte for byte (keys are sorted).
strip_wall() { sed -E 's/,"(wall|cpu)_s":[-0-9.e+]+//g; s/"(wall|cpu)_s":[-0-9.e+]+,//g' "$1"; }

# Every line a complete record; run_index 0..N-1 each exactly once.
check_unique() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
text = open(path).read()
assert text.endswith("\n"), "last line not terminated"
idx = [json.loads(l)["run_index"] for l in text.splitlines()]
assert sorted(idx) == list(range(n)), f"run indices {idx}, expected each of 0..{n-1} once"
EOF
}

say "local executor"
"$VTMM" run "$WORK/spec.json" --out "$WORK/local" --jobs 2 >/dev/null
N=$(wc -l <"$WORK/local/runs.jsonl")
[ "$N" -eq 6 ] || fail "local executor wrote $N records, expected 6"

say "slurm executor: submit, wait, collect"
# Show the array tasks as Slurm runs them.
(while :; do squeue -r -h -o '%i %j %T %M %N %R' 2>/dev/null | sed 's/^/squeue: /'; sleep 1; done) &
WATCH_PID=$!
"$VTMM" run "$WORK/spec.json" --executor slurm --out "$WORK/slurm" --constraint local --time 5 --wait \
  >"$WORK/run.out" 2>"$WORK/run.err" || { cat "$WORK/run.err"; fail "vtmm run --executor slurm --wait failed"; }
kill "$WATCH_PID"; WATCH_PID=""
cat "$WORK/run.err"
JOB=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["job_id"])' \
  "$WORK/slurm/slurm/jobs.jsonl")
echo "--- scontrol show job $JOB (one entry per array task)"
scontrol show job "$JOB" | grep -E 'JobId=|JobState=|NodeList=' | sed 's/^ */  /'
check_unique "$WORK/slurm/runs.jsonl" 6
cmp <(strip_wall "$WORK/local/runs.jsonl") <(strip_wall "$WORK/slurm/runs.jsonl") ||
  fail "slurm records differ from local ones (apart from wall_s and cpu_s)"
ls "$WORK/slurm/slurm/logs" | grep -q "^${JOB}_5.out$" || fail "no Slurm log for task ${JOB}_5"
say "slurm records == local records (apart from wall_s and cpu_s)"

say "cancel one array task, collect, resubmit"
"$VTMM" run "$WORK/spec.json" --executor slurm --out "$WORK/cancel" --max-parallel 1 >"$WORK/jobs.out" 2>"$WORK/c.err" ||
  { cat "$WORK/c.err"; fail "submission failed"; }
JOB=$(head -1 "$WORK/jobs.out")
squeue -r -o '%i %j %T %R' -j "$JOB" | sed 's/^/squeue: /'
scancel "${JOB}_5"
say "scancel ${JOB}_5"
for _ in $(seq 1 120); do
  [ -z "$(squeue -h -j "$JOB" 2>/dev/null)" ] && break
  sleep 0.5
done
[ -z "$(squeue -h -j "$JOB")" ] || fail "job $JOB still queued after 60 s"
scontrol show job "$JOB" | grep -E 'JobId=|JobState=' | sed 's/^ */  /'
set +e
"$VTMM" collect "$WORK/cancel" >/dev/null 2>"$WORK/collect1.err"
rc=$?
set -e
cat "$WORK/collect1.err"
[ "$rc" -eq 1 ] || fail "collect with a cancelled task exited $rc, expected 1"
grep -q "5 ok, 0 failed, 1 missing" "$WORK/collect1.err" || fail "collect did not report one missing run"
grep -q "missing: run 5 " "$WORK/collect1.err" || fail "collect did not name run 5 as missing"
[ "$(wc -l <"$WORK/cancel/runs.jsonl")" -eq 5 ] || fail "partial runs.jsonl should hold the 5 finished runs"
"$VTMM" collect "$WORK/cancel" --resubmit --wait >/dev/null 2>"$WORK/collect2.err" ||
  { cat "$WORK/collect2.err"; fail "collect --resubmit --wait failed"; }
cat "$WORK/collect2.err"
grep -q "6 ok, 0 failed, 0 missing" "$WORK/collect2.err" || fail "resubmission did not complete the sweep"
grep -q "as array job(s) [0-9]* (tasks 5)" "$WORK/collect2.err" || fail "resubmission should hold only task 5"
check_unique "$WORK/cancel/runs.jsonl" 6
cmp <(strip_wall "$WORK/local/runs.jsonl") <(strip_wall "$WORK/cancel/runs.jsonl") ||
  fail "resumed slurm records differ from local ones (apart from wall_s and cpu_s)"
echo "--- job completion log (what ran where, as Slurm recorded it)"
sed -E 's/.*JobId=([0-9]+).*JobState=([A-Z]+).*NodeList=([^ ]+).*ArrayJobId=([0-9]+) ArrayTaskId=([0-9]+).*/jobcomp: job \1 = array \4_\5 \2 on \3/' \
  "$VTMM_SLURM_DIR/log/jobcomp.log"
say "PASS"

#!/usr/bin/env bash
# ci/gate.sh's decisions (docs/ci.md), fast: a stand-in vtmm answers `doctor`
# as told (missing, garbage, no slow node, slow node 1) and `run` with canned
# records; `compare` is the real vtmm's. Checks every exit code and message:
# no doctor or no slow node => sim gate still passes, exit 3; a slow node
# and no vm baseline => the vm gate records one, exit 5; a vm baseline =>
# compared (0, or 1 on a regression); a sim regression wins over a skip (1);
# a failed vm run fails the gate (1).
#   usage: tests/gate_script_test.sh PATH/TO/vtmm
set -euo pipefail
REAL=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vtmm-gate-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "gate_script_test: FAIL: $*" >&2; exit 1; }

# Canned records: the committed sim baseline as is, and with one metric scaled.
scaled() {  # scaled FIELD FACTOR OUT
  /usr/bin/python3 - "$ROOT/ci/baseline/gate.jsonl" "$@" <<'EOF'
import json, sys
src, field, factor, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
with open(out, "w") as f:
    for line in open(src):
        r = json.loads(line)
        r[field] = r[field] * factor
        f.write(json.dumps(r) + "\n")
EOF
}
cp "$ROOT/ci/baseline/gate.jsonl" "$WORK/same.jsonl"
scaled sim_time_s 1.2 "$WORK/sim_slower.jsonl"
scaled throughput 0.8 "$WORK/vm_slower.jsonl"

cat >"$WORK/vtmm" <<EOF
#!/usr/bin/env bash
# Stand-in for vtmm in gate_script_test.sh.
cmd=\$1; shift
case \$cmd in
  doctor)
    case \$FAKE_DOCTOR in
      missing) echo "The following argument was not expected: doctor" >&2; exit 109 ;;
      garbage) echo "not json"; exit 0 ;;
      none) echo '{"numa": {"fast_node": 0, "slow_node": null}}' ;;
      slow) echo '{"numa": {"fast_node": 0, "slow_node": 1}}' ;;
    esac ;;
  run)
    spec=\$1; shift
    while [ \$# -gt 0 ]; do [ "\$1" = --out ] && out=\$2; shift; done
    mkdir -p "\$out"
    echo "\$spec" >>"$WORK/runs.log"
    case \$spec in
      *gate_vm.json) [ "\$FAKE_VM_RUN" = fail ] && { echo "vtmm: 1 of 30 runs failed" >&2; exit 1; }
                     cp "\$FAKE_VM_RECORDS" "\$out/runs.jsonl" ;;
      *) cp "\$FAKE_SIM_RECORDS" "\$out/runs.jsonl" ;;
    esac ;;
  plot) exit 0 ;;
  compare) exec "$REAL" compare "\$@" ;;
  *) echo "fake vtmm: unexpected \$cmd" >&2; exit 2 ;;
esac
EOF
chmod +x "$WORK/vtmm"

n=0
# expect NAME EXIT PATTERN... -- GATE_ARGS: runs the gate with the FAKE_* set by the caller.
expect() {
  local name=$1 want=$2; shift 2
  local pats=()
  while [ "$1" != -- ]; do pats+=("$1"); shift; done
  shift
  n=$((n + 1))
  rm -rf "$WORK/out" "$WORK/runs.log"
  local rc=0
  "$ROOT/ci/gate.sh" --vtmm "$WORK/vtmm" --out "$WORK/out" --jobs 1 "$@" >"$WORK/gate.log" 2>&1 || rc=$?
  [ "$rc" -eq "$want" ] || { cat "$WORK/gate.log" >&2; fail "$name: exit $rc, expected $want"; }
  for p in "${pats[@]}"; do
    grep -q -- "$p" "$WORK/gate.log" || { cat "$WORK/gate.log" >&2; fail "$name: output lacks '$p'"; }
  done
  echo "gate_script_test: $name: exit $rc ok"
}

export FAKE_SIM_RECORDS="$WORK/same.jsonl" FAKE_VM_RECORDS="$WORK/same.jsonl" FAKE_VM_RUN=ok
nobase="$WORK/no-vm-baseline.jsonl"

FAKE_DOCTOR=missing expect "doctor missing" 3 "vtmm doctor is not available" "\[sim\] PASS" "no slow node (exit 3)" -- \
  --vm-baseline "$nobase"
FAKE_DOCTOR=garbage expect "doctor prints no JSON" 3 "printed no readable JSON" "\[sim\] PASS" -- --vm-baseline "$nobase"
FAKE_DOCTOR=none expect "no slow node" 3 "vtmm doctor: no slow node" "vm gate skipped: no slow node" -- \
  --vm-baseline "$nobase"
! grep -q gate_vm "$WORK/runs.log" || fail "no slow node: the vm gate ran"
[ -f "$WORK/out/sim-summary.md" ] || fail "no slow node: no sim-summary.md"

FAKE_DOCTOR=slow expect "slow node, no vm baseline" 5 "no baseline $nobase yet" "recorded a first baseline" -- \
  --vm-baseline "$nobase"
[ -f "$WORK/out/vm/runs.jsonl" ] && [ ! -e "$nobase" ] || fail "first vm run: records not kept, or a baseline was written"
grep -q "No vm baseline" "$WORK/out/vm-summary.md" || fail "first vm run: summary does not say so"

FAKE_DOCTOR=slow expect "slow node, vm baseline" 0 "\[vm\] PASS" "PASS (sim and vm gates)" -- \
  --vm-baseline "$WORK/same.jsonl"
FAKE_DOCTOR=slow FAKE_VM_RECORDS="$WORK/vm_slower.jsonl" expect "vm regression" 1 "\[vm\] FAIL" "regressed" -- \
  --vm-baseline "$WORK/same.jsonl"
FAKE_DOCTOR=slow FAKE_VM_RUN=fail expect "vm run fails" 1 "\[vm\] FAIL: some runs failed" -- \
  --vm-baseline "$WORK/same.jsonl"
FAKE_DOCTOR=none FAKE_SIM_RECORDS="$WORK/sim_slower.jsonl" expect "sim regression wins over the skip" 1 \
  "\[sim\] FAIL" "gate: FAIL" -- --vm-baseline "$nobase"
FAKE_DOCTOR=none expect "bad flag" 2 "unknown option" -- --no-such-flag

echo "gate_script_test: ok ($n cases)"

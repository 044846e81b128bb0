#!/usr/bin/env bash
# The performance gate for a change to vtmm or to a policy (docs/ci.md).
#
#   ci/gate.sh [--vtmm PATH] [--out DIR] [--threshold 5%] [--jobs N] [--update-baseline]
#              [--vm-baseline FILE]
#
# 1. `vtmm doctor --json`: which host NUMA node is slow (numa.slow_node).
# 2. sim gate, always: runs experiments/gate.json on the simulated host and
#    compares it with ci/baseline/gate.jsonl (`vtmm compare`, Mann-Whitney over
#    the spec's repeats). Summary in OUT/sim-summary.md, figures in OUT/sim/.
# 3. vm gate, only on a host with a slow node: experiments/gate_vm.json on real
#    VMs, guest-measured throughput against the runner's baseline
#    (ci/baseline/gate_vm.jsonl, or --vm-baseline FILE). With no vm baseline
#    yet, the gate records one and says so (exit 5): commit it deliberately.
#
# Exit status (a regression wins over a skip):
#   0  every gate that ran passed, and the vm gate ran
#   1  a gate failed: a configuration regressed beyond the threshold, a
#      configuration of the baseline is missing, or a run failed
#   2  usage or setup error (no vtmm binary, bad flag, bad spec or baseline)
#   3  sim gate passed; vm gate skipped: no slow node on this host
#   4  sim gate passed; vm gate skipped: a slow node exists but
#      experiments/gate_vm.json is missing from this checkout
#   5  sim gate passed; vm gate ran but had no baseline to compare with: its
#      records are in OUT/vm/runs.jsonl, to be committed as the vm baseline
set -uo pipefail
cd "$(dirname "$0")/.."

vtmm=build/vtmm
vm_baseline=ci/baseline/gate_vm.jsonl
out=""
threshold="5%"
jobs="$(nproc)"
update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --vtmm) vtmm="${2:?--vtmm needs a path}"; shift 2 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --threshold) threshold="${2:?--threshold needs a percentage}"; shift 2 ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift 2 ;;
    --update-baseline) update=1; shift ;;
    --vm-baseline) vm_baseline="${2:?--vm-baseline needs a file}"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "gate: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$vtmm" ] || { echo "gate: no vtmm binary at $vtmm (build with scripts/build.sh, or pass --vtmm)" >&2; exit 2; }
[ -n "$out" ] || out="$(mktemp -d "${TMPDIR:-/tmp}/vtmm-gate.XXXXXX")"
mkdir -p "$out"
echo "gate: artefacts in $out"

# --- 1. what the host offers --------------------------------------------------
slow_node=""
if "$vtmm" doctor --json >"$out/doctor.json" 2>"$out/doctor.err"; then
  slow_node="$(/usr/bin/python3 -c '
import json, sys
n = json.load(open(sys.argv[1])).get("numa", {}).get("slow_node")
print("" if n is None else n)' "$out/doctor.json" 2>/dev/null)" || {
    echo "gate: vtmm doctor --json printed no readable JSON; treating the host as having no slow node"
    slow_node=""
  }
  if [ -n "$slow_node" ]; then echo "gate: vtmm doctor: slow node $slow_node"; else echo "gate: vtmm doctor: no slow node"; fi
else
  echo "gate: vtmm doctor is not available in this build ($(head -c 200 "$out/doctor.err" | head -n 1)); treating the host as having no slow node"
fi

# --- 2. sim gate --------------------------------------------------------------
# run_gate NAME SPEC BASELINE METRIC: runs SPEC into OUT/NAME and compares
# METRIC with BASELINE. Prints the report; returns 0 pass, 1 fail, 2 setup
# error, 5 no baseline yet (only for the vm gate: the records become one).
run_gate() {
  local name="$1" spec="$2" baseline="$3" metric="$4" rc
  local cmp=(--metric "$metric" --threshold "$threshold")
  echo "gate: [$name] running $spec"
  "$vtmm" run "$spec" --out "$out/$name" --fresh --jobs "$jobs" >/dev/null 2>"$out/$name.run.log"
  rc=$?
  if [ $rc -ne 0 ]; then
    tail -n 5 "$out/$name.run.log" >&2
    [ $rc -eq 2 ] && return 2
    echo "gate: [$name] FAIL: some runs failed (see $out/$name.run.log)"
    return 1
  fi
  "$vtmm" plot "$out/$name" "$spec" >/dev/null 2>>"$out/$name.run.log" ||
    echo "gate: [$name] note: figures not drawn (see $out/$name.run.log)"
  if [ "$update" -eq 1 ]; then
    [ -f "$baseline" ] && "$vtmm" compare "$baseline" "$out/$name" "${cmp[@]}" || true
    mkdir -p "$(dirname "$baseline")"
    cp "$out/$name/runs.jsonl" "$baseline"
    echo "gate: [$name] baseline $baseline refreshed; review the comparison above and commit it deliberately"
    return 0
  fi
  if [ ! -f "$baseline" ]; then
    # The sim baseline ships with the repository: its absence is a broken checkout.
    [ "$name" = vm ] || { echo "gate: [$name] no baseline $baseline (create it with --update-baseline)" >&2; return 2; }
    # A vm baseline belongs to one host and cannot be made anywhere else: the
    # first run on the tiered runner records it. Nothing is compared.
    echo "gate: [$name] no baseline $baseline yet: nothing compared; this run's records are the candidate"
    echo "gate: [$name]   $out/$name/runs.jsonl -- review them, then commit them as $baseline (docs/ci.md)"
    printf '### vtmm gate: vm\n\nNo vm baseline (`%s`) on this runner yet: this run recorded one (`%s`) and compared nothing.\n' \
      "$baseline" "$name/runs.jsonl" >"$out/$name-summary.md"
    return 5
  fi
  "$vtmm" compare "$baseline" "$out/$name" "${cmp[@]}" --fail-on-unmatched --format markdown >"$out/$name-summary.md"
  "$vtmm" compare "$baseline" "$out/$name" "${cmp[@]}" --fail-on-unmatched --format json >"$out/$name-compare.json"
  "$vtmm" compare "$baseline" "$out/$name" "${cmp[@]}" --fail-on-unmatched
  rc=$?
  if [ $rc -eq 0 ]; then echo "gate: [$name] PASS"; elif [ $rc -eq 1 ]; then echo "gate: [$name] FAIL"; fi
  return $rc
}

run_gate sim experiments/gate.json ci/baseline/gate.jsonl sim_time_s
sim_rc=$?
[ $sim_rc -eq 2 ] && exit 2

# --- 3. vm gate ---------------------------------------------------------------
if [ -z "$slow_node" ]; then
  echo "gate: vm gate skipped: no slow node (a tiered-memory host needs a second, slower NUMA node; see vtmm doctor)"
  vm_rc=3
elif [ ! -f experiments/gate_vm.json ]; then
  echo "gate: vm gate skipped: slow node $slow_node found, but this checkout has no experiments/gate_vm.json"
  vm_rc=4
else
  run_gate vm experiments/gate_vm.json "$vm_baseline" throughput
  vm_rc=$?
  [ $vm_rc -eq 2 ] && exit 2
fi

if [ $sim_rc -ne 0 ] || [ $vm_rc -eq 1 ]; then
  echo "gate: FAIL (sim gate: $([ $sim_rc -eq 0 ] && echo pass || echo fail))"
  exit 1
fi
case $vm_rc in
  0) echo "gate: PASS (sim and vm gates)"; exit 0 ;;
  3) echo "gate: sim gate PASS; vm gate skipped: no slow node (exit 3)"; exit 3 ;;
  4) echo "gate: sim gate PASS; vm gate skipped: no experiments/gate_vm.json (exit 4)"; exit 4 ;;
  5) echo "gate: sim gate PASS; vm gate recorded a first baseline, compared nothing (exit 5)"; exit 5 ;;
esac

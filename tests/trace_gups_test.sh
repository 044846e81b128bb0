#!/usr/bin/env bash
# Record and replay against the built-in workload: the project's own
# gups generator, built as a native program (tools/gups_native), is recorded
# with `vtmm trace record` (the pagecount Valgrind tool, default L1 filter) and
# replayed with the `trace` workload under slow-only and dram-only; the
# slowdown (slow-only / dram-only simulated time) must be within 20 % of the
# built-in `gups` workload's with the same parameters.
#
# Second check, tighter: with the core work per update charged the same on
# both sides (the built-in's compute_ns set to what the replay derives from
# the recorded instructions), the memory-side slowdown (slowdown - 1) of the
# replay must be within 10 % of the built-in's. This is what catches a
# recorder or replay that loses, doubles or misplaces accesses.
#
# The parameters make the run memory-bound (updates uniform over 64 MiB, more
# than the 27.5 MiB LLC), so the slowdown is well above 1 and the bounds mean
# something; a guard fails the test if it is not. About 10 s here (2 cores).
#   usage: tests/trace_gups_test.sh PATH/TO/vtmm PATH/TO/gups_native
# Not registered in sanitizer builds: Valgrind cannot run an ASan binary.
set -euo pipefail
VTMM=$(realpath "$1")
GUPS=$(realpath "$2")
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vtmm-trace-gups.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "trace_gups_test: FAIL: $*" >&2; exit 1; }

FOOT=67108864 UPDATES=1500000 WARMUP=300000 HOT=1 SEED=1
GUPS_PARAMS=(--wl footprint=$FOOT --wl updates=$UPDATES --wl warmup_updates=$WARMUP --wl hot_fraction=$HOT)

"$VTMM" trace record --window 50000 --marker-file "$WORK/marker" --out "$WORK/gups.vtrace" -- \
  "$GUPS" --footprint $FOOT --updates $UPDATES --warmup-updates $WARMUP --hot-fraction $HOT --seed $SEED \
  --marker-file "$WORK/marker" >"$WORK/record.out" 2>&1 || { cat "$WORK/record.out" >&2; fail "trace record failed"; }
grep -q "check ok" "$WORK/record.out" || { cat "$WORK/record.out" >&2; fail "gups_native's table check failed"; }
"$VTMM" trace info --json "$WORK/gups.vtrace" >"$WORK/info.json"

for p in dram-only slow-only; do
  "$VTMM" sim -w trace --wl trace="$WORK/gups.vtrace" -p $p --seed $SEED --no-wall >"$WORK/trace-$p.json"
  "$VTMM" sim -w gups "${GUPS_PARAMS[@]}" -p $p --seed $SEED --no-wall >"$WORK/gups-$p.json"
done
# Core work per update as the replay charges it: the measured phase's
# instructions x ns_per_instruction / the measured accesses it issued (one
# read-modify-write per update).
compute_ns=$($PY - "$WORK" <<'EOF'
import json, sys
w = sys.argv[1]
info = json.load(open(f"{w}/info.json"))
rec = json.load(open(f"{w}/trace-dram-only.json"))
measured = [p for p in info["phases"] if p["name"] == "measured"]
if len(measured) != 1: sys.exit("trace has no single 'measured' phase: %s" % info["phases"])
ns = rec["config"]["run"]["workload"]["ns_per_instruction"]
print("%.4f" % (measured[0]["instructions"] * ns / rec["ops"]))
EOF
)
for p in dram-only slow-only; do
  "$VTMM" sim -w gups "${GUPS_PARAMS[@]}" --wl compute_ns="$compute_ns" -p $p --seed $SEED --no-wall \
    >"$WORK/gupsc-$p.json"
done

$PY - "$WORK" "$compute_ns" <<'EOF'
import json, sys
w, compute_ns = sys.argv[1], float(sys.argv[2])
def slowdown(kind):
    r = {p: json.load(open(f"{w}/{kind}-{p}.json")) for p in ("dram-only", "slow-only")}
    return r["slow-only"]["sim_time_s"] / r["dram-only"]["sim_time_s"], r["dram-only"]
st, tr = slowdown("trace")
sg, gr = slowdown("gups")
sc, _ = slowdown("gupsc")
print(f"trace_gups_test: replayed trace: slowdown {st:.4f} ({tr['ops']} measured accesses, "
      f"LLC misses/access {tr['llc_misses'] / tr['ops']:.4f})")
print(f"trace_gups_test: built-in gups:  slowdown {sg:.4f} ({gr['ops']} updates, "
      f"LLC misses/update {gr['llc_misses'] / gr['ops']:.4f}); trace/gups {st / sg:.4f} (bound 0.8..1.2)")
print(f"trace_gups_test: built-in gups with compute_ns={compute_ns} (the replay's core work per update): "
      f"slowdown {sc:.4f}; memory-side slowdown trace/gups {(st - 1) / (sc - 1):.4f} (bound 0.9..1.1)")
bad = []
if sg < 1.25: bad.append(f"the built-in slowdown {sg:.3f} is too small for the bounds to mean anything")
if abs(st / sg - 1) > 0.20: bad.append(f"replayed slowdown {st:.3f} is not within 20 % of the built-in {sg:.3f}")
if sc <= 1.1 or abs((st - 1) / (sc - 1) - 1) > 0.10:
    bad.append(f"with equal core work, replayed slowdown {st:.3f} vs built-in {sc:.3f}: memory side beyond 10 %")
if abs(tr["ops"] / gr["ops"] - 1) > 0.05: bad.append(f"measured accesses {tr['ops']} vs updates {gr['ops']}: beyond 5 %")
for b in bad: print("trace_gups_test: FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
echo "trace_gups_test: ok"

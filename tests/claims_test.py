#!/usr/bin/python3
"""plots/claims.py: a spec's checks evaluated on records whose verdicts are known."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plots"))
from claims import check_lines, evaluate  # noqa: E402


def rec(policy, t, ratio="1:4", workload="gups", mib=256, **extra):
    r = {"policy": policy, "sim_time_s": t, "ratio": ratio, "workload": workload,
         "footprint_bytes": mib << 20, "status": "ok"}
    r.update(extra)
    return r


FASTER = {"says": "a beats b", "policy": "a", "than": "b"}
# (name, check, records, expected (ratio, holds) pairs)
CASES = [
    ("lower is better by default", FASTER, [rec("a", 1.0), rec("b", 2.0)], [("1:4", True)]),
    ("a slower fails", FASTER, [rec("a", 3.0), rec("b", 2.0)], [("1:4", False)]),
    ("a tie does not hold", FASTER, [rec("a", 2.0), rec("b", 2.0)], [("1:4", False)]),
    ("higher is better", dict(FASTER, metric="fast_hit_ratio", better="higher"),
     [rec("a", 9, fast_hit_ratio=0.9), rec("b", 1, fast_hit_ratio=0.5)], [("1:4", True)]),
    ("nested metric", dict(FASTER, metric="counters.migration_traps"),
     [rec("a", 9, counters={"migration_traps": 5}), rec("b", 1, counters={"migration_traps": 50})],
     [("1:4", True)]),
    ("each ratio on its own", FASTER,
     [rec("a", 1.0, "1:1"), rec("b", 2.0, "1:1"), rec("a", 3.0, "1:8"), rec("b", 2.0, "1:8")],
     [("1:1", True), ("1:8", False)]),
    ("a design without a ratio pairs with every ratio", dict(FASTER, than="dram-only"),
     [rec("a", 1.0, "1:1"), rec("a", 3.0, "1:8"), rec("dram-only", 2.0, None)],
     [("1:1", True), ("1:8", False)]),
    ("repeats are averaged", FASTER, [rec("a", 1.0), rec("a", 4.0), rec("b", 2.0)], [("1:4", False)]),
    ("other workloads and sizes are not mixed", FASTER,
     [rec("a", 1.0), rec("b", 2.0, workload="mcf"), rec("b", 0.5, mib=512)], []),
    ("not lower: a tie holds", dict(FASTER, metric="recall", better="not lower"),
     [rec("a", 1, recall=1.0), rec("b", 1, recall=1.0)], [("1:4", True)]),
    ("not lower within a tolerance", dict(FASTER, metric="recall", better="not lower", tolerance=0.01),
     [rec("a", 1, recall=0.995), rec("b", 1, recall=1.0)], [("1:4", True)]),
    ("beyond the tolerance fails", dict(FASTER, metric="recall", better="not lower", tolerance=0.001),
     [rec("a", 1, recall=0.995), rec("b", 1, recall=1.0)], [("1:4", False)]),
    ("not higher: more fails", dict(FASTER, better="not higher"), [rec("a", 2.5), rec("b", 2.0)],
     [("1:4", False)]),
    ("workloads limits the check", dict(FASTER, workloads=["mcf"]),
     [rec("a", 1.0), rec("b", 2.0), rec("a", 3.0, workload="mcf"), rec("b", 2.0, workload="mcf")],
     [("1:4", False)]),
    ("axis compares another field's values",
     dict(FASTER, axis="fast_memory_sharing", policy="pool", than="static", metric="nt", better="higher"),
     [rec("vtmm", 1, fast_memory_sharing="pool", nt=3.6), rec("vtmm", 1, fast_memory_sharing="static", nt=3.4)],
     [("1:4", True)]),
    ("hosts and overcommit are not mixed",
     dict(FASTER, axis="fast_memory_sharing", policy="pool", than="static", metric="nt", better="higher"),
     [rec("v", 1, fast_memory_sharing="pool", nt=3.6, host="x", fast_overcommit=1.0),
      rec("v", 1, fast_memory_sharing="static", nt=3.4, host="x", fast_overcommit=1.0),
      rec("v", 1, fast_memory_sharing="pool", nt=3.0, host="y", fast_overcommit=1.0),
      rec("v", 1, fast_memory_sharing="static", nt=3.1, host="y", fast_overcommit=1.0),
      rec("v", 1, fast_memory_sharing="pool", nt=3.3, host="x", fast_overcommit=2.0),
      rec("v", 1, fast_memory_sharing="static", nt=3.2, host="x", fast_overcommit=2.0)],
     [("1:4", True), ("1:4", True), ("1:4", False)]),
    ("a missing metric is skipped", dict(FASTER, metric="tracking_cpu_s"),
     [rec("a", 1.0), rec("b", 2.0, tracking_cpu_s=1.0)], []),
]


def main():
    failures = 0
    for name, check, records, want in CASES:
        got = [(p[2], p[5]) for p in evaluate(check, records)]
        if got != want:
            print(f"FAIL {name}: got {got}, want {want}")
            failures += 1
    text = "\n".join(check_lines({"checks": [dict(FASTER, why_not="because")]},
                                 [rec("a", 1.0, "1:1"), rec("b", 2.0, "1:1"), rec("a", 3.0, "1:8"),
                                  rec("b", 2.0, "1:8")]))
    for want in ("holds in part", "in 1 of 2", "gups 256 MiB 1:8: 3 against 2", "because"):
        if want not in text:
            print(f"FAIL report text lacks {want!r}:\n{text}")
            failures += 1
    if "not checked" not in "\n".join(check_lines({"checks": [FASTER]}, [rec("a", 1.0)])):
        print("FAIL a check with no pairs must say it was not checked")
        failures += 1
    if check_lines({}, [rec("a", 1.0)]):
        print("FAIL a spec without checks adds no lines")
        failures += 1
    print(f"{len(CASES) + 3 - failures} of {len(CASES) + 3} cases pass")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

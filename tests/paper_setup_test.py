#!/usr/bin/python3
"""plots/paper_setup.py: the docs table's rows reach REPORT.md per experiment."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "plots"))
from paper_setup import parse, setup_lines  # noqa: E402

DOC = """# x
## Per experiment

| experiment | paper | ours, quick | ours, full | differences and why |
|---|---|---|---|---|
| `a` | the paper's a | q | f | size |
| `b`, `c` | shared | q | f | threads |
| `d` | (not a paper figure) | q | f | - |

## Baselines

| `e` | not this table | q | f | x |
"""


def main():
    rows = parse(DOC)
    want = {"a": ("the paper's a", "size"), "b": ("shared", "threads"), "c": ("shared", "threads")}
    failures = []
    if rows != want:
        failures.append(f"parse: got {rows}, want {want}")
    # The real doc: every paper-figure experiment has a row, and the report line names it.
    exp_dir = os.path.join(ROOT, "experiments")
    for name in ("motivation", "ablation", "migration_methods", "ratio_sensitivity", "multi-vm-pool"):
        lines = setup_lines(name, exp_dir)
        if not lines or not lines[0].startswith("**Paper's setup:** "):
            failures.append(f"{name}: no paper setup from docs/paper-setup.md")
    if setup_lines("smoke", exp_dir):
        failures.append("smoke is not a paper figure: no setup lines")
    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

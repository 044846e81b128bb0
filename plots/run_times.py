#!/usr/bin/python3
"""What a results folder's runs cost this machine, per experiment, from the records.

usage: plots/run_times.py RESULTS_DIR

Prints a Markdown table: per experiment, the runs recorded ok, the sum of
their `wall_s` and the sum of their `cpu_s` (the CPU time of the thread that ran each run; records
written before that field existed lack it, and the table says how many have
it). A sum of `wall_s` is an upper bound on a sweep's time when other work
shared the cores; the sum of `cpu_s` divided by the jobs is what the sweep
needs of idle cores.
"""
import argparse
import os
import sys

from records import load_records, ok_records, run_costs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    args = ap.parse_args()
    if not os.path.isdir(args.results):
        print(f"run_times.py: no such folder: {args.results}", file=sys.stderr)
        return 2
    rows, tot = [], {"runs": 0, "wall": 0.0, "cpu": 0.0, "timed": 0}
    for name in sorted(os.listdir(args.results)):
        path = os.path.join(args.results, name, "runs.jsonl")
        if not os.path.isfile(path):
            continue
        ok = ok_records(load_records(path))
        wall, cpu, timed = run_costs(ok)
        rows.append((name, len(ok), wall, cpu, timed))
        tot["runs"] += len(ok)
        tot["wall"] += wall
        tot["cpu"] += cpu
        tot["timed"] += timed
    print("| experiment | runs ok | sum of `wall_s` | sum of `cpu_s` (runs with it) |")
    print("|---|---|---|---|")
    for name, n, wall, cpu, timed in rows:
        print(f"| `{name}` | {n} | {wall:.0f} s | " + (f"{cpu:.0f} s ({timed})" if timed else "-") + " |")
    print(f"| all | {tot['runs']} | {tot['wall']:.0f} s | " +
          (f"{tot['cpu']:.0f} s ({tot['timed']})" if tot["timed"] else "-") + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

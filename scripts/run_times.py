#!/usr/bin/python3
"""What a results folder's runs cost this machine, per experiment, from the records.

usage: scripts/run_times.py RESULTS_DIR

Prints a Markdown table: per experiment, the runs recorded ok, the sum of
their `wall_s` and the
sum of their `cpu_s` (the CPU time of the thread that ran each run; records
written before that field existed lack it, and the table says how many have
it). A sum of `wall_s` is an upper bound on a sweep's time when other work
shared the cores; the sum of `cpu_s` divided by the jobs is what the sweep
needs of idle cores.
"""
import argparse
import json
import os
import sys


def read_records(path):
    recs = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                print(f"run_times.py: {path}:{n}: not a JSON record (skipped)", file=sys.stderr)
                continue
            recs[r.get("run_key", n)] = r  # a later line for the same run wins, as the runner reads it
    return list(recs.values())


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
        ok = [r for r in read_records(path) if r.get("status") == "ok"]
        timed = [r for r in ok if "cpu_s" in r]
        wall = sum(r.get("wall_s") or 0.0 for r in ok)
        cpu = sum(r["cpu_s"] for r in timed)
        rows.append((name, len(ok), wall, cpu, len(timed)))
        tot["runs"] += len(ok)
        tot["wall"] += wall
        tot["cpu"] += cpu
        tot["timed"] += len(timed)
    print("| experiment | runs ok | sum of `wall_s` | sum of `cpu_s` (runs with it) |")
    print("|---|---|---|---|")
    for name, n, wall, cpu, timed in rows:
        print(f"| `{name}` | {n} | {wall:.0f} s | " + (f"{cpu:.0f} s ({timed})" if timed else "-") + " |")
    print(f"| all | {tot['runs']} | {tot['wall']:.0f} s | " +
          (f"{tot['cpu']:.0f} s ({tot['timed']})" if tot["timed"] else "-") + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

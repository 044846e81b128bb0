"""Reading runs.jsonl as the runner does, a record's fields, and what runs
cost: shared by report.py, claims.py, plot_experiment.py and run_times.py."""
import json
import sys


def load_records(path):
    """Every record of runs.jsonl, one per run: a later line for the same
    run_key wins and a line cut short by a kill is skipped with a note, as
    the runner reads the file (vtmm/runner/records.hpp)."""
    recs = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                print(f"{path}:{n}: not a whole JSON record (skipped)", file=sys.stderr)
                continue
            recs[r.get("run_key", n)] = r
    return list(recs.values())


def metric(r, path):
    """A record field by dotted path ("counters.migration_traps"); None where absent."""
    v = r
    for part in path.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return v


def size_of(r):
    """A run's footprint as the tables and checks name it."""
    return f"{r['footprint_bytes'] / 2**20:.0f} MiB" if r.get("footprint_bytes") else "-"


def ok_records(recs):
    return [r for r in recs if r.get("status", "ok") == "ok"]


def run_costs(ok):
    """(sum of wall_s, sum of cpu_s, how many records have cpu_s): records
    written before cpu_s existed lack it."""
    timed = [r for r in ok if "cpu_s" in r]
    return sum(r.get("wall_s") or 0.0 for r in ok), sum(r["cpu_s"] for r in timed), len(timed)

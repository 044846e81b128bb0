#!/usr/bin/python3
"""Write RESULTS_ROOT/report.md: each experiment's figure next to what the paper claims.

usage: report.py RESULTS_ROOT EXPERIMENTS_DIR

Numbers in the tables are copied from run records (means over seeds).
"""
import json
import os
import sys
from collections import defaultdict


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RESULTS_ROOT EXPERIMENTS_DIR")
    root, exp_dir = sys.argv[1], sys.argv[2]
    lines = ["# vtmm reproduction report", "",
             "Every number below comes from a run record in `<experiment>/runs.jsonl`; "
             "slowdown is simulated time relative to the experiment's baseline run of the same workload and seed.", ""]
    for name in sorted(os.listdir(root)):
        jsonl = os.path.join(root, name, "runs.jsonl")
        spec_path = os.path.join(exp_dir, name + ".json")
        if not (os.path.isfile(jsonl) and os.path.isfile(spec_path)):
            continue
        with open(spec_path) as f:
            spec = json.load(f)
        with open(jsonl) as f:
            recs = [json.loads(line) for line in f if line.strip()]
        recs = [r for r in recs if r.get("status", "ok") == "ok"]  # failed runs have no metrics
        lines += [f"## {spec.get('title', name)}", ""]
        if spec.get("reproduces"):
            lines += [f"**Reproduces:** {spec['reproduces']}", ""]
        if spec.get("paper_claim"):
            lines += [f"**Paper's claim:** {spec['paper_claim']}", ""]
        if spec.get("scale"):
            lines += [f"**Scale:** {spec['scale']}", ""]
        if os.path.isfile(os.path.join(root, name, name + ".png")):
            lines += [f"![{name}]({name}/{name}.png)", ""]
        groups = defaultdict(list)
        for r in recs:
            groups[(r["workload"], r["policy"], r["ratio"] or "-")].append(r)
        lines += ["| workload | policy | ratio | runs | sim time (s) | slowdown | fast hit ratio | promoted | demoted |",
                  "|---|---|---|---|---|---|---|---|---|"]

        def mean(key, rs):
            vals = [r[key] for r in rs if r.get(key) is not None]
            return sum(vals) / len(vals) if vals else None

        def fmt(v, f="{:.3f}"):
            return "-" if v is None else f.format(v)

        for (wl, pol, ratio), rs in sorted(groups.items()):
            lines.append(f"| {wl} | {pol} | {ratio} | {len(rs)} | {fmt(mean('sim_time_s', rs), '{:.4f}')} | "
                         f"{fmt(mean('slowdown', rs))} | {fmt(mean('fast_hit_ratio', rs))} | "
                         f"{fmt(mean('promoted_pages', rs), '{:.0f}')} | {fmt(mean('demoted_pages', rs), '{:.0f}')} |")
        lines.append("")
    out = os.path.join(root, "report.md")
    with open(out + ".tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()

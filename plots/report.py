#!/usr/bin/python3
"""Write RESULTS_ROOT/REPORT.md: each experiment's figure next to what the paper claims.

usage: report.py RESULTS_ROOT EXPERIMENTS_DIR

Numbers in the tables are copied from run records (means over repeats/seeds);
the only arithmetic is that mean and, where a figure shows speedup, 1/slowdown.
"""
import json
import os
import sys
from collections import defaultdict

from claims import check_lines
from paper_setup import setup_lines
from records import load_records, metric, ok_records, run_costs, size_of

# The paper's evaluation in its order; experiments not listed follow by name.
PAPER_ORDER = ["motivation", "workloads", "write_bandwidth", "tracking_accuracy", "tracking_overhead",
               "migration_methods", "ablation", "classification", "ratio_sensitivity", "multi-vm-pool",
               "fast-overcommit", "huge_pages", "vtmm_gups", "smoke"]

# Columns every table has, then the figure's own metrics.
BASE_COLUMNS = [("sim_time_s", "sim time (s)", "{:.4f}"), ("slowdown", "slowdown", "{:.3f}"),
                ("fast_hit_ratio", "fast hit ratio", "{:.3f}"), ("promoted_pages", "promoted", "{:.0f}"),
                ("demoted_pages", "demoted", "{:.0f}")]
LABELS = {"tracking_cpu_s": ("tracking CPU (s)", "{:.4f}"), "vm_exits": ("VM exits", "{:.0f}"),
          "counters.migration_traps": ("migration traps", "{:.0f}"), "pml_entries": ("PML entries", "{:.0f}"),
          "policy_metrics.hotset_precision": ("hot-set precision", "{:.3f}"),
          "policy_metrics.hotset_recall": ("hot-set recall", "{:.3f}"),
          "policy_metrics.ad_clears": ("A/D clears", "{:.0f}"), "counters.hint_faults": ("hint faults", "{:.0f}"),
          "counters.tlb_misses": ("TLB misses", "{:.0f}"),
          "counters.huge_mappings_live": ("2 MiB mappings at end", "{:.0f}"),
          "policy_metrics.huge_splits": ("2 MiB splits (whole run)", "{:.0f}")}
EXTRA = {"tracking_accuracy": ["policy_metrics.hotset_precision", "policy_metrics.hotset_recall",
                               "policy_metrics.ad_clears", "pml_entries", "tracking_cpu_s"],
         "tracking_overhead": ["tracking_cpu_s", "vm_exits", "counters.hint_faults"],
         "motivation": ["vm_exits", "counters.hint_faults"],
         "ablation": ["tracking_cpu_s", "counters.migration_traps"],
         "huge_pages": ["counters.tlb_misses", "counters.huge_mappings_live", "policy_metrics.huge_splits"]}


def mean(vals):
    vals = [v for v in vals if v is not None]
    return sum(vals) / len(vals) if vals else None


def fmt(v, f):
    return "-" if v is None else f.format(v)


def columns_for(name, spec):
    extra = list(EXTRA.get(name, []))
    plot = spec.get("plot", {})
    for m in plot.get("metrics", []):
        if m not in {c[0] for c in BASE_COLUMNS} and m not in extra:
            extra.append(m)
    return BASE_COLUMNS + [(m, LABELS.get(m, (m, "{:.4g}"))[0], LABELS.get(m, (m, "{:.4g}"))[1]) for m in extra]


def section(name, spec, recs, root, exp_dir):
    ok = ok_records(recs)  # failed runs have no metrics
    failed = len(recs) - len(ok)
    lines = [f"## {spec.get('title', name)}", "", f"Experiment `{name}` (`experiments/{name}.json`).", ""]
    if spec.get("reproduces"):
        lines += [f"**What it shows:** {spec['reproduces']}", ""]
    if spec.get("paper_claim"):
        lines += [f"**Paper's claim:** {spec['paper_claim']}", ""]
    lines += check_lines(spec, ok)
    if spec.get("scale"):
        lines += [f"**Scale:** {spec['scale']}", ""]
    lines += setup_lines(name, exp_dir)
    hosts = sorted({r["host"] for r in ok})
    wall, cpu_sum, timed = run_costs(ok)
    cpu = ""
    if timed:
        which = "" if timed == len(ok) else f" in the {timed} runs that record it"
        cpu = f" ({cpu_sum:.0f} s of CPU{which})"
    lines += [f"**Host profile:** {', '.join(f'`{h}` (experiments/hosts/{h}.json)' for h in hosts) or '-'}; "
              f"{len(ok)} runs recorded ok" + (f", **{failed} failed** (see runs.jsonl)" if failed else "") +
              f"; {wall:.0f} s of run wall time in total{cpu}; slowdowns are against `{spec.get('baseline', 'dram-only')}`.", ""]
    fig = os.path.join(name, name + ".png")
    if os.path.isfile(os.path.join(root, fig)):
        lines += [f"![{name}]({fig})", "", f"(vector: [{name}.svg]({name}/{name}.svg))", ""]
    else:
        lines += ["*No figure: plotting did not produce one (see the command's output).*", ""]
    if any(r.get("vms") for r in ok):
        return lines + multi_vm_table(ok)
    cols = columns_for(name, spec)
    groups = defaultdict(list)
    for r in ok:
        groups[(r["workload"], size_of(r), r["policy"], r["ratio"] or "-")].append(r)
    lines += ["| workload | size | policy | ratio | runs | " + " | ".join(c[1] for c in cols) + " |",
              "|---|---|---|---|---|" + "---|" * len(cols)]
    for (wl, sz, pol, ratio), rs in groups.items():
        vals = [fmt(mean([metric(r, key) for r in rs]), f) for key, _, f in cols]
        lines.append(f"| {wl} | {sz} | {pol} | {ratio} | {len(rs)} | " + " | ".join(vals) + " |")
    lines.append("")
    return lines


def multi_vm_table(recs):
    """One row per multi-VM run: how the fast tier was shared and what each VM got."""
    lines = ["| host | policy | sharing | host fast tier | normalized throughput | total throughput (ops/s) | "
             "per VM: slowdown, mean fast MiB (share MiB) |", "|---|---|---|---|---|---|---|"]
    for r in recs:
        per_vm = "; ".join(f"{v['name']} {fmt(v.get('slowdown'), '{:.3f}')}, {v['fast_bytes_mean'] / 2**20:.0f} "
                           f"({v['fast_share_bytes'] / 2**20:.0f})" for v in r["vms"])
        fast = r.get("host_fast_bytes")
        lines.append(f"| {r['host']} | {r['policy']} | {r.get('fast_memory_sharing') or '-'} | "
                     f"{fmt(fast / 2**20 if fast else None, '{:.0f} MiB')} | {fmt(r.get('normalized_throughput'), '{:.3f}')} | "
                     f"{fmt(r.get('throughput'), '{:.4g}')} | {per_vm} |")
    lines.append("")
    return lines


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RESULTS_ROOT EXPERIMENTS_DIR")
    root, exp_dir = sys.argv[1], sys.argv[2]
    names = [n for n in sorted(os.listdir(root))
             if os.path.isfile(os.path.join(root, n, "runs.jsonl")) and os.path.isfile(os.path.join(exp_dir, n + ".json"))]
    names.sort(key=lambda n: (PAPER_ORDER.index(n) if n in PAPER_ORDER else len(PAPER_ORDER), n))
    lines = ["# vtmm reproduction report", "",
             "Every number below comes from a run record in `<experiment>/runs.jsonl` (means over repeated runs "
             "where a spec repeats). Slowdown is simulated time relative to the experiment's baseline run of the "
             "same workload, seed and host; every run is on the simulated tiered host (`sim`), whose constants and "
             "their sources are in the host profile named per experiment. The paper ran on real hardware (2x 24-core "
             "Cascade Lake-SP at 2.2 GHz, Optane DC PMM in App Direct mode as a NUMA node, Linux 5.4.142, QEMU "
             "3.1.0, VMs of 8 or 16 vCPUs); each section below gives the paper's setup for its figure and ours "
             "against it, from docs/paper-setup.md, which also has the testbed row by row.", "",
             "Experiments: " + ", ".join(f"[{n}](#{n})" for n in names), ""]
    for name in names:
        with open(os.path.join(exp_dir, name + ".json")) as f:
            spec = json.load(f)
        lines += [f'<a id="{name}"></a>', ""]
        lines += section(name, spec, load_records(os.path.join(root, name, "runs.jsonl")), root, exp_dir)
    out = os.path.join(root, "REPORT.md")
    with open(out + ".tmp", "w") as f:
        f.write("\n".join(lines))
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Draw an experiment's figure from its runs.jsonl.

usage: plot_experiment.py RESULTS_DIR SPEC.json

Every number drawn is read from a run record; nothing is computed here but
means over repeated seeds. The spec's "plot" block names the figure kind.
Writes RESULTS_DIR/<name>.png and .svg, and prints their paths.
"""
import json
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Stable colours per design, so a policy looks the same in every figure.
COLOURS = {
    "dram-only": "#4d4d4d", "slow-only": "#bdbdbd", "first-touch": "#e08214",
    "oracle": "#1b7837", "vtmm": "#2166ac", "autonuma": "#b2182b", "tpp": "#d6604d",
    "memory-mode": "#8073ac", "nimble": "#fdb863", "ept-scanner": "#92c5de",
    "hemem": "#5aae61", "memtis": "#c2a5cf", "damon": "#a6611a",
}


def load(path):
    """The ok records (a failed run's record has no metrics to draw)."""
    with open(path) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    return [r for r in recs if r.get("status", "ok") == "ok"]


def mean(xs):
    return sum(xs) / len(xs)


def ratio_key(r):
    fast, slow = r.split(":")
    return -float(fast) / (float(fast) + float(slow))


def slowdown_bars(records, spec, ax_for):
    """Bars of slowdown vs the baseline per ratio; ratio-free references as lines."""
    by_wl = defaultdict(list)
    for r in records:
        by_wl[r["workload"]].append(r)
    for wl, recs in sorted(by_wl.items()):
        ax = ax_for(wl)
        ratios = sorted({r["ratio"] for r in recs if r["ratio"]}, key=ratio_key)
        policies = []
        for r in recs:
            if r["ratio"] and r["policy"] not in policies:
                policies.append(r["policy"])
        width = 0.8 / max(1, len(policies))
        for i, pol in enumerate(policies):
            ys = []
            for ratio in ratios:
                vals = [r["slowdown"] for r in recs if r["policy"] == pol and r["ratio"] == ratio and r["slowdown"] is not None]
                ys.append(mean(vals) if vals else float("nan"))
            xs = [j + (i - (len(policies) - 1) / 2) * width for j in range(len(ratios))]
            bars = ax.bar(xs, ys, width, label=pol, color=COLOURS.get(pol))
            for b, y in zip(bars, ys):
                if y == y:
                    ax.annotate(f"{y:.2f}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
        for pol in sorted({r["policy"] for r in recs if not r["ratio"]}):
            vals = [r["slowdown"] for r in recs if r["policy"] == pol and not r["ratio"] and r["slowdown"] is not None]
            if vals:
                ax.axhline(mean(vals), linestyle="--", linewidth=1, color=COLOURS.get(pol, "k"), label=f"{pol} ({mean(vals):.2f})")
        ax.set_xticks(range(len(ratios)))
        ax.set_xticklabels([f"fast:slow {r}" for r in ratios])
        ax.set_ylabel(f"slowdown vs {spec.get('baseline', 'dram-only')} (sim time)")
        ax.set_title(wl)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def metric(r, path):
    """A record field by dotted path ("counters.migration_traps")."""
    v = r
    for part in path.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    return v


def metric_bars(records, spec, ax_for):
    """One bar per policy (in spec order), one panel per metric and workload."""
    plot = spec["plot"]
    metrics = plot.get("metrics", ["slowdown"])
    logs = plot.get("log", [False] * len(metrics))
    for wl in sorted({r["workload"] for r in records}):
        recs = [r for r in records if r["workload"] == wl]
        policies = []
        for r in recs:
            if r["policy"] not in policies:
                policies.append(r["policy"])
        for m, log in zip(metrics, logs):
            ax = ax_for((wl, m))
            ys = []
            for pol in policies:
                vals = [metric(r, m) for r in recs if r["policy"] == pol and metric(r, m) is not None]
                ys.append(mean(vals) if vals else float("nan"))
            bars = ax.bar(range(len(policies)), ys,
                          color=[COLOURS.get(p, "#777777") for p in policies])
            for b, y in zip(bars, ys):
                if y == y:
                    label = f"{y:.3g}" if abs(y) < 1e4 else f"{y:.2e}"
                    ax.annotate(label, (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=7)
            ax.set_xticks(range(len(policies)))
            ax.set_xticklabels(policies, rotation=30, ha="right", fontsize=8)
            if log:
                ax.set_yscale("symlog", linthresh=1)  # zero stays visible
            ax.set_ylabel(m)
            ax.set_title(f"{wl}: {m}", fontsize=9)


def tier_sensitivity(records, spec, ax_for):
    """Per workload: the policy's slowdown, and the extra time per LLC miss it
    pays over the baseline run of the same workload and seed:
    (sim_time - baseline sim_time) / baseline llc_misses, in ns."""
    pol, base = spec["plot"].get("policy", "slow-only"), spec.get("baseline", "dram-only")
    wls, slow, per_miss = [], [], []
    for wl in [r["workload"] for r in records if r["policy"] == pol]:
        a = [r for r in records if r["workload"] == wl and r["policy"] == pol]
        b = [r for r in records if r["workload"] == wl and r["policy"] == base]
        if not a or not b or wl in wls:
            continue
        wls.append(wl)
        slow.append(mean([r["slowdown"] for r in a]))
        dt = mean([r["sim_time_s"] for r in a]) - mean([r["sim_time_s"] for r in b])
        per_miss.append(dt / max(1, mean([r["llc_misses"] for r in b])) * 1e9)
    for ax, ys, label in ((ax_for("slowdown"), slow, f"{pol} slowdown vs {base}"),
                          (ax_for("per_miss"), per_miss, f"extra ns per LLC miss on {pol}")):
        bars = ax.bar(range(len(wls)), ys, color="#4393c3")
        for b_, y in zip(bars, ys):
            ax.annotate(f"{y:.2f}", (b_.get_x() + b_.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(wls)))
        ax.set_xticklabels(wls, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(label)


KINDS = {"slowdown_bars": slowdown_bars, "metric_bars": metric_bars, "tier_sensitivity": tier_sensitivity}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_experiment.py RESULTS_DIR SPEC.json")
    results, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    plot = spec.get("plot", {"kind": "slowdown_bars"})
    kind = plot.get("kind", "slowdown_bars")
    if kind not in KINDS:
        sys.exit(f"plot: unknown plot kind '{kind}' in {spec_path}")
    records = load(os.path.join(results, "runs.jsonl"))
    if not records:
        sys.exit(f"plot: no records in {results}/runs.jsonl")
    workloads = sorted({r["workload"] for r in records})
    if kind == "tier_sensitivity":
        fig, axes = plt.subplots(1, 2, figsize=(12, 4), squeeze=False)
        ax_of = {"slowdown": axes[0][0], "per_miss": axes[0][1]}
    elif kind == "metric_bars":
        metrics = plot.get("metrics", ["slowdown"])
        fig, axes = plt.subplots(len(workloads), len(metrics), figsize=(5 * len(metrics), 4 * len(workloads)), squeeze=False)
        ax_of = {(wl, m): axes[i][j] for i, wl in enumerate(workloads) for j, m in enumerate(metrics)}
    else:
        fig, axes = plt.subplots(1, len(workloads), figsize=(7 * len(workloads), 4), squeeze=False)
        ax_of = {wl: axes[0][i] for i, wl in enumerate(workloads)}
    KINDS[kind](records, spec, lambda key: ax_of[key])
    fig.suptitle(spec.get("title", spec["name"]), fontsize=10)
    fig.tight_layout()
    for ext in ("png", "svg"):
        out = os.path.join(results, f"{spec['name']}.{ext}")
        # A fixed date in the SVG keeps the file identical for identical records.
        fig.savefig(out, dpi=150, metadata={"Date": None} if ext == "svg" else {"Software": None})
        print(out)


if __name__ == "__main__":
    main()

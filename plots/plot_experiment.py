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
import textwrap
from collections import defaultdict

from records import load_records, metric, ok_records

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Stable colours per design, so a policy looks the same in every figure.
COLOURS = {
    "dram-only": "#4d4d4d", "slow-only": "#bdbdbd", "first-touch": "#e08214",
    "oracle": "#1b7837", "vtmm": "#2166ac", "autonuma": "#b2182b", "tpp": "#d6604d",
    "memory-mode": "#8073ac", "nimble": "#fdb863", "ept-scanner": "#92c5de",
    "hemem": "#5aae61", "memtis": "#c2a5cf", "damon": "#a6611a", "tpp-host": "#f4a582",
    "autonuma-5.4": "#67001f",
}
# Labelled variants (e.g. "vtmm 600ms") get the next colour of this cycle, in first-seen order.
# Disjoint from COLOURS, so a variant never looks like another design.
_CYCLE = ["#762a83", "#35978f", "#c51b7d", "#01665e", "#fdae61", "#4d9221", "#9970ab", "#80cdc1", "#de77ae",
          "#b35806", "#313695", "#8c510a"]
_ASSIGNED = {}


def colour(policy):
    if policy in COLOURS:
        return COLOURS[policy]
    if policy not in _ASSIGNED:
        _ASSIGNED[policy] = _CYCLE[len(_ASSIGNED) % len(_CYCLE)]
    return _ASSIGNED[policy]


def load(path):
    """The ok records (a failed run's record has no metrics to draw)."""
    return ok_records(load_records(path))


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
            bars = ax.bar(xs, ys, width, label=pol, color=colour(pol))
            for b, y in zip(bars, ys):
                if y == y:
                    ax.annotate(f"{y:.2f}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=7)
        for pol in sorted({r["policy"] for r in recs if not r["ratio"]}):
            vals = [r["slowdown"] for r in recs if r["policy"] == pol and not r["ratio"] and r["slowdown"] is not None]
            if vals:
                ax.axhline(mean(vals), linestyle="--", linewidth=1, color=colour(pol), label=f"{pol} ({mean(vals):.2f})")
        ax.set_xticks(range(len(ratios)))
        ax.set_xticklabels([f"fast:slow {r}" for r in ratios])
        ax.set_ylabel(f"slowdown vs {spec.get('baseline', 'dram-only')} (sim time)")
        ax.set_title(wl)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


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
                          color=[colour(p) for p in policies])
            for b, y in zip(bars, ys):
                if y == y:
                    label = f"{y:.3g}" if abs(y) < 1e4 else f"{y:.2e}"
                    ax.annotate(label, (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=7)
            ax.set_xticks(range(len(policies)))
            ax.set_xticklabels(policies, rotation=30, ha="right", fontsize=8)
            if log:
                ax.set_yscale("symlog", linthresh=1)  # zero stays visible
            ax.set_ylim(bottom=0)
            ax.set_ylabel(plot.get("ylabels", {}).get(m, m))
            ax.set_title(f"{wl}: {plot.get('ylabels', {}).get(m, m)}", fontsize=9)


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


def in_order(values):
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def workload_label(r):
    """A workload and its size, for figures whose runs differ only in parameters."""
    return f"{r['workload']} ({r['footprint_bytes'] / 2**20:.0f} MiB)"


def normalised_bars(records, spec):
    """Paper-style grouped bars: per workload, each design's run time relative to
    the reference design (the spec's baseline), as slowdown (lower is better) or
    speedup = 1 / slowdown (higher is better)."""
    plot = spec["plot"]
    ref, what = plot.get("reference", spec.get("baseline", "dram-only")), plot.get("metric", "slowdown")
    wls = in_order(workload_label(r) for r in records)
    pols = in_order(r["policy"] for r in records)
    fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(wls) * max(1, len(pols)) / 2.5), 4.2))
    width = 0.8 / max(1, len(pols))
    for i, pol in enumerate(pols):
        ys = []
        for wl in wls:
            vals = [r["slowdown"] for r in records if r["policy"] == pol and workload_label(r) == wl and r["slowdown"]]
            v = mean(vals) if vals else float("nan")
            ys.append(1.0 / v if what == "speedup" and v == v else v)
        xs = [j + (i - (len(pols) - 1) / 2) * width for j in range(len(wls))]
        bars = ax.bar(xs, ys, width, label=pol, color=colour(pol))
        for b, y in zip(bars, ys):
            if y == y:
                ax.annotate(f"{y:.2f}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=6)
    ax.axhline(1.0, color="k", linewidth=0.8)
    if plot.get("claim_line"):
        ax.axhline(plot["claim_line"], color="#b2182b", linestyle=":", linewidth=1,
                   label=f"paper: up to {plot['claim_line']:g}x")
    ax.set_xticks(range(len(wls)))
    ax.set_xticklabels(wls, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(plot.get("ylabel", f"{what} vs {ref}"))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


def fast_share(ratio):
    fast, slow = (float(x) for x in ratio.split(":"))
    return fast / (fast + slow)


def ratio_lines(records, spec):
    """Sensitivity sweep: slowdown vs the fast share of guest memory, one line per
    design, one panel per workload; ratio-free references as dashed lines."""
    wls = in_order(workload_label(r) for r in records)
    # At most four panels a row: --full sweeps every workload (twelve panels).
    cols = min(4, len(wls))
    rows = (len(wls) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.5 * cols, 4.5 * rows), squeeze=False)
    for ax in axes.flat[len(wls):]:
        ax.set_visible(False)
    for ax, wl in zip(axes.flat, wls):
        recs = [r for r in records if workload_label(r) == wl and r["slowdown"] is not None]
        for pol in in_order(r["policy"] for r in recs if r["ratio"]):
            pts = sorted((fast_share(r["ratio"]), r["slowdown"]) for r in recs if r["policy"] == pol and r["ratio"])
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, label=pol, color=colour(pol))
        for pol in in_order(r["policy"] for r in recs if not r["ratio"]):
            vals = [r["slowdown"] for r in recs if r["policy"] == pol and not r["ratio"]]
            ax.axhline(mean(vals), linestyle="--", linewidth=1, color=colour(pol), label=f"{pol} ({mean(vals):.2f})")
        ratios = sorted({r["ratio"] for r in recs if r["ratio"]}, key=fast_share)
        ax.set_xscale("log", base=2)
        ax.set_xticks([fast_share(x) for x in ratios])
        ax.set_xticklabels(ratios, fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel("fast:slow ratio (fast share of guest memory, log scale)")
        ax.set_ylabel(f"slowdown vs {spec.get('baseline', 'dram-only')} (x)")
        ax.set_title(wl, fontsize=9)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0][cols - 1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


def rss_lines(records, spec):
    """Per workload and metric: the metric against the RSS, one line per design."""
    plot = spec["plot"]
    metrics, logs = plot.get("metrics", ["slowdown"]), plot.get("log", [])
    wls = in_order(r["workload"] for r in records)
    fig, axes = plt.subplots(len(wls), len(metrics), figsize=(6 * len(metrics), 4 * len(wls)), squeeze=False)
    for i, wl in enumerate(wls):
        recs = [r for r in records if r["workload"] == wl]
        sizes = sorted({r["footprint_bytes"] for r in recs})
        for j, m in enumerate(metrics):
            ax = axes[i][j]
            for pol in in_order(r["policy"] for r in recs):
                pts = []
                for sz in sizes:
                    vals = [metric(r, m) for r in recs if r["policy"] == pol and r["footprint_bytes"] == sz
                            and metric(r, m) is not None]
                    if vals:
                        pts.append((sz / 2**20, mean(vals)))
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, label=pol, color=colour(pol))
            ax.set_xscale("log", base=2)
            ax.set_xticks([sz / 2**20 for sz in sizes])
            ax.set_xticklabels([f"{sz / 2**20:.0f}" for sz in sizes])
            ax.minorticks_off()
            if j < len(logs) and logs[j]:
                ax.set_yscale("symlog", linthresh=1)
            ax.set_ylim(bottom=0)
            ax.set_xlabel("RSS (MiB)")
            ax.set_ylabel(plot.get("ylabels", {}).get(m, m))
            ax.set_title(wl, fontsize=9)
            ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


def tracking_accuracy(records, spec):
    """Window length and MLQ: hot-set precision/recall against ground truth, A/D
    resets, and the two per-page distributions (true access counts per window,
    and the tracker's temperature after the last window)."""
    recs = [r for r in records if r.get("policy_metrics", {}).get("key_histogram_last") is not None]
    pols = in_order(r["policy"] for r in recs)
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    ax = axes[0][0]
    width = 0.4
    for k, (key, name) in enumerate((("hotset_precision", "precision"), ("hotset_recall", "recall"))):
        ys = [mean([r["policy_metrics"][key] for r in recs if r["policy"] == p and r["policy_metrics"][key] is not None]
                   or [float("nan")]) for p in pols]
        bars = ax.bar([x + (k - 0.5) * width for x in range(len(pols))], ys, width, label=name,
                      color=["#2166ac", "#b2182b"][k])
        for b, y in zip(bars, ys):
            if y == y:
                ax.annotate(f"{y:.2f}", (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=6)
    ax.set_xticks(range(len(pols)))
    ax.set_xticklabels(pols, rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("hot set vs ground truth (fraction)")
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=7)
    ax.set_title("hot-set precision / recall (mean over measured windows)", fontsize=9)
    ax = axes[0][1]
    for k, (key, name) in enumerate((("policy_metrics.ad_clears", "A/D bits cleared"), ("pml_entries", "PML entries"))):
        ys = [mean([metric(r, key) for r in recs if r["policy"] == p]) for p in pols]
        ax.bar([x + (k - 0.5) * width for x in range(len(pols))], ys, width, label=name, color=["#4393c3", "#d6604d"][k])
    ax.set_yscale("log")
    ax.set_xticks(range(len(pols)))
    ax.set_xticklabels(pols, rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("count over the measured phase (log)")
    ax.legend(fontsize=7)
    ax.set_title("tracking work", fontsize=9)
    ax = axes[1][0]
    for p in pols:
        r = next(r for r in recs if r["policy"] == p)
        if "no-MLQ" in p:
            continue  # the truth does not depend on the MLQ: one line per window length
        h = r["policy_metrics"]["true_access_histogram_log2"]
        last = max((i for i, v in enumerate(h) if v), default=0)
        tot = sum(h) or 1
        ax.plot(range(last + 1), [v / tot for v in h[:last + 1]], marker="o", markersize=3, label=p, color=colour(p))
    ax.set_xlabel("true accesses to a page in one window (log2 bin: 0 = none, b = 2^(b-1)..2^b-1)")
    ax.set_ylabel("fraction of page-windows")
    ax.set_title("per-page access frequency (ground truth)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = axes[1][1]
    for p in pols:
        r = next(r for r in recs if r["policy"] == p)
        h = r["policy_metrics"]["key_histogram_last"]
        tot = sum(h) or 1
        pts = [(k, v / tot) for k, v in enumerate(h) if v]  # empty temperatures (e.g. no reads) are skipped
        ax.plot([q[0] for q in pts], [q[1] for q in pts], marker=".", label=p, color=colour(p),
                linestyle="--" if "no-MLQ" in p else "-")
    ax.set_yscale("log")
    ax.set_xlabel("page temperature after the last window (1 per read window + 3 per written window)")
    ax.set_ylabel("fraction of backed pages (log)")
    ax.set_title("temperature distribution seen by the tracker", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def multi_vm_bars(records, spec):
    """Multi-VM runs: per VM, its slowdown against the same VM in the baseline
    run, and the fast memory it held on average, one bar per way of sharing the
    fast tier (and host fast-tier size, when the spec sweeps it); the legend
    gives each run's normalized throughput (sum over VMs of 1 / slowdown)."""
    recs = [r for r in records if r.get("vms") and r.get("fast_memory_sharing")]
    if not recs:
        sys.exit("plot: multi_vm_bars needs multi-VM records with a fast_memory_sharing")
    sizes = {r["host_fast_bytes"] for r in recs}
    hosts = {r["host"] for r in recs}

    def series(r):
        name = (f"{r['host']}: " if len(hosts) > 1 else "") + f"{r['policy']} {r['fast_memory_sharing']}"
        return name + (f", fast tier {r['host_fast_bytes'] / 2**20:.0f} MiB" if len(sizes) > 1 else "")

    keys = in_order(series(r) for r in recs)
    names = in_order(v["name"] for r in recs for v in r["vms"])
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    width = 0.8 / len(keys)
    for i, key in enumerate(keys):
        rs = [r for r in recs if series(r) == key]
        norm = [r["normalized_throughput"] for r in rs if r.get("normalized_throughput") is not None]
        label = key + (f" (normalized throughput {mean(norm):.3f})" if norm else "")
        sd, mib = [], []
        for n in names:
            vs = [v for r in rs for v in r["vms"] if v["name"] == n]
            s = [v["slowdown"] for v in vs if v.get("slowdown") is not None]
            sd.append(mean(s) if s else float("nan"))
            mib.append(mean([v["fast_bytes_mean"] / 2**20 for v in vs]) if vs else float("nan"))
        xs = [j + (i - (len(keys) - 1) / 2) * width for j in range(len(names))]
        c = _CYCLE[i % len(_CYCLE)]
        for ax, ys, fmt in ((axes[0], sd, "{:.2f}"), (axes[1], mib, "{:.0f}")):
            bars = ax.bar(xs, ys, width, label=label, color=c)
            for b, y in zip(bars, ys):
                if y == y:
                    ax.annotate(fmt.format(y), (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=6)
    share = {v["name"]: v["fast_share_bytes"] / 2**20 for r in recs for v in r["vms"]}
    for j, n in enumerate(names):
        axes[1].hlines(share[n], j - 0.45, j + 0.45, colors="k", linestyles="--", linewidth=1,
                       label="default share" if j == 0 else None)
    axes[0].axhline(1.0, color="k", linewidth=0.8)
    axes[0].set_ylabel(f"slowdown vs the same VM under {spec.get('baseline', 'dram-only')} (x)")
    axes[1].set_ylabel("fast memory held, time-weighted mean (MiB)")
    for ax in axes:
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3, axis="y")
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


# Figure kinds that lay out their own figure.
FIGURES = {"normalised_bars": normalised_bars, "ratio_lines": ratio_lines, "rss_lines": rss_lines,
           "tracking_accuracy": tracking_accuracy, "multi_vm_bars": multi_vm_bars}

KINDS = {"slowdown_bars": slowdown_bars, "metric_bars": metric_bars, "tier_sensitivity": tier_sensitivity}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_experiment.py RESULTS_DIR SPEC.json")
    results, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    plot = spec.get("plot", {"kind": "slowdown_bars"})
    kind = plot.get("kind", "slowdown_bars")
    if kind not in KINDS and kind not in FIGURES:
        sys.exit(f"plot: unknown plot kind '{kind}' in {spec_path}")
    records = load(os.path.join(results, "runs.jsonl"))
    if not records:
        sys.exit(f"plot: no records in {results}/runs.jsonl")
    workloads = sorted({r["workload"] for r in records})
    if kind in FIGURES:
        fig = FIGURES[kind](records, spec)
    elif kind == "tier_sensitivity":
        fig, axes = plt.subplots(1, 2, figsize=(12, 4), squeeze=False)
        ax_of = {"slowdown": axes[0][0], "per_miss": axes[0][1]}
    elif kind == "metric_bars":
        metrics = plot.get("metrics", ["slowdown"])
        fig, axes = plt.subplots(len(workloads), len(metrics), figsize=(5 * len(metrics), 4 * len(workloads)), squeeze=False)
        ax_of = {(wl, m): axes[i][j] for i, wl in enumerate(workloads) for j, m in enumerate(metrics)}
    else:
        fig, axes = plt.subplots(1, len(workloads), figsize=(7 * len(workloads), 4), squeeze=False)
        ax_of = {wl: axes[0][i] for i, wl in enumerate(workloads)}
    if kind in KINDS:
        KINDS[kind](records, spec, lambda key: ax_of[key])
    # Wrapped to the figure's width (about 12 characters per inch at 10 pt),
    # so a long title is not cut at the edges of a narrow figure.
    title = textwrap.fill(spec.get("title", spec["name"]), max(40, int(fig.get_size_inches()[0] * 12)))
    fig.suptitle(title, fontsize=10)
    # Leave room for the (wrapped) title above the panels' own titles.
    lines = title.count("\n") + 1
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.25 + 0.18 * lines) / fig.get_size_inches()[1]))
    for ext in ("png", "svg"):
        out = os.path.join(results, f"{spec['name']}.{ext}")
        # A fixed date in the SVG keeps the file identical for identical records.
        fig.savefig(out, dpi=150, metadata={"Date": None} if ext == "svg" else {"Software": None})
        print(out)


if __name__ == "__main__":
    main()

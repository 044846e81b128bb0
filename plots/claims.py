"""A spec's paper claims checked against its run records, for REPORT.md.

A spec may list, under "checks", comparisons the paper's claim implies:

    {"says": "full vTMM is faster than NUMA balancing",
     "policy": "vtmm", "than": "autonuma-5.4",
     "metric": "sim_time_s", "better": "lower",
     "why_not": "the mechanism we believe makes it fail where it does"}

`policy` and `than` are the records' policy names (labels where the spec
gives them), or with `axis` the values of that record field (e.g.
"fast_memory_sharing": "pool" against "static"); `metric` is a record path
(default sim_time_s); `better` says what `policy`'s value must be against
`than`'s: "lower" (default), "higher", "not higher" or "not lower" (a tie
holds: "without losing ..."; with `tolerance`, a fraction of `than`'s
value, a loss that small holds too); an optional `workloads` list limits the
check to those workloads (a claim about writes is not checked on a read
workload). Each check is evaluated on every workload, size and ratio (and
host, where a spec sweeps hosts, and fast overcommit) where both designs
ran (a design run without a ratio, such as dram-only, pairs with every ratio
of the same workload and size), using the mean over repeated runs. The
verdict is computed here, never written in the spec: a number in REPORT.md
comes from a record.
"""
from collections import defaultdict

from records import metric, size_of


BETTER = {"lower": lambda a, b, tol: a < b, "higher": lambda a, b, tol: a > b,
          "not higher": lambda a, b, tol: a <= b + tol * abs(b),
          "not lower": lambda a, b, tol: a >= b - tol * abs(b)}


def _value(r, path):
    v = metric(r, path)
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _where(r, many_hosts):
    """Size, and what else tells comparable runs apart: the host where a spec
    sweeps hosts, the fast tier's overcommit in multi-VM runs."""
    w = size_of(r)
    if many_hosts:
        w += f" on {r.get('host')}"
    if r.get("fast_overcommit") is not None:
        w += f" at {r['fast_overcommit']:.3g}x fast overcommit"
    return w


def _means(records, path, axis):
    """(workload, where) -> axis value -> ratio -> mean of the metric."""
    many_hosts = len({r.get("host") for r in records}) > 1
    sums = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in records:
        v = _value(r, path)
        if v is not None:
            sums[(r.get("workload"), _where(r, many_hosts))][r.get(axis)][r.get("ratio")].append(v)
    return {k: {p: {ratio: sum(vs) / len(vs) for ratio, vs in by_ratio.items()}
                for p, by_ratio in by_policy.items()}
            for k, by_policy in sums.items()}


def evaluate(check, records):
    """The pairs the check compares: (workload, size, ratio, a, b, holds)."""
    path = check.get("metric", "sim_time_s")
    holds = BETTER[check.get("better", "lower")]
    tol = float(check.get("tolerance", 0))
    only = check.get("workloads")
    pairs = []
    for (wl, size), by_policy in _means(records, path, check.get("axis", "policy")).items():
        if only is not None and wl not in only:
            continue
        a_runs, b_runs = by_policy.get(check["policy"], {}), by_policy.get(check["than"], {})
        for ratio, a in a_runs.items():
            b = b_runs.get(ratio, b_runs.get(None))
            if b is None:
                continue
            pairs.append((wl, size, ratio, a, b, holds(a, b, tol)))
    return sorted(pairs, key=lambda p: (str(p[0]), p[1], str(p[2])))


def _case(p):
    wl, size, ratio, a, b, _ = p
    where = f"{wl} {size}" + (f" {ratio}" if ratio else "")
    return f"{where}: {a:.6g} against {b:.6g}"


def check_lines(spec, records):
    """REPORT.md lines for the spec's checks (none when it has no checks)."""
    checks = spec.get("checks", [])
    if not checks:
        return []
    lines = ["**The claim against these records:**", ""]
    for c in checks:
        pairs = evaluate(c, records)
        how = (f"{c.get('metric', 'sim_time_s')}: `{c['policy']}` {c.get('better', 'lower')} than "
               f"`{c['than']}`" + (f", within {c['tolerance']:g} of it" if c.get("tolerance") else ""))
        if not pairs:
            lines.append(f"- {c['says']} ({how}): not checked, no run has both designs.")
            continue
        held = [p for p in pairs if p[5]]
        failed = [p for p in pairs if not p[5]]
        verdict = "holds" if not failed else ("does not hold" if not held else "holds in part")
        text = f"- {c['says']} ({how}): **{verdict}**, in {len(held)} of {len(pairs)}"
        if failed:
            text += "; not in " + "; ".join(_case(p) for p in failed)
            if c.get("why_not"):
                text += f". Why, as we understand it: {c['why_not']}"
        lines.append(text + ".")
    return lines + [""]

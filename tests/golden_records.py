#!/usr/bin/python3
"""Golden records: the simulator's output for a set of configurations, pinned.

    tests/golden_records.py VTMM              check every configuration (ctest golden_records)
    tests/golden_records.py VTMM --threads 3  the same, each run on 3 host threads (ctest
                                              golden_records_threads: records must not change)
    tests/golden_records.py VTMM --update     rewrite tests/golden/<name>.json from VTMM

Each configuration in tests/golden/configs.txt is run with `vtmm sim --no-wall`
(or `vtmm run SPEC`), and its record compared with the committed one, every
field but those that name the build (git_commit, vtmm_version, build_type)
or time the run (wall_s, cpu_s). A change meant to leave results alone (speed
work, refactors) must pass unchanged; a change meant to move them updates the
records in the same commit and says why.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOLDEN = os.path.join(HERE, "golden")
VOLATILE = ("git_commit", "vtmm_version", "build_type", "wall_s", "cpu_s")


def configs():
    out = []
    with open(os.path.join(GOLDEN, "configs.txt")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, args = line.split(None, 1)
            out.append((name, args.split()))
    return out


def record(vtmm, args, threads):
    if args[0] == "run":
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([vtmm, "run", args[1], "--out", d, "--fresh", "--jobs", "1",
                                "--threads", str(threads)], cwd=ROOT,
                               capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "exit %d" % p.returncode)
            with open(os.path.join(d, "runs.jsonl")) as f:
                lines = [l for l in f if l.strip()]
            if len(lines) != 1:
                raise RuntimeError("expected one record, got %d" % len(lines))
            r = json.loads(lines[0])
    else:
        p = subprocess.run([vtmm, "sim", "--no-wall", "--threads", str(threads)] + args, cwd=ROOT,
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "exit %d" % p.returncode)
        r = json.loads(p.stdout)
    for k in VOLATILE:
        r.pop(k, None)
    return r


def differences(a, b, path=""):
    """The first few paths at which two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(path + "." + k + (" (new)" if k in b else " (gone)"))
            else:
                out += differences(a[k], b[k], path + "." + k)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, "%s[%d]" % (path, i))
        return out
    return [] if a == b else ["%s: %s -> %s" % (path or ".", json.dumps(a)[:60], json.dumps(b)[:60])]


def main():
    rest = sys.argv[2:]
    threads_ok = len(rest) == 2 and rest[0] == "--threads" and rest[1].isdigit() and int(rest[1]) >= 1
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK) or not (rest in ([], ["--update"]) or threads_ok):
        print("golden_records.py: usage: tests/golden_records.py VTMM [--update | --threads N]", file=sys.stderr)
        return 2
    vtmm, update = os.path.abspath(sys.argv[1]), rest == ["--update"]
    threads = int(rest[1]) if threads_ok else 1
    failed = 0
    for name, args in configs():
        path = os.path.join(GOLDEN, name + ".json")
        try:
            got = record(vtmm, args, threads)
        except (RuntimeError, ValueError) as e:
            print("ERROR    %s: %s" % (name, e))
            failed += 1
            continue
        if update:
            with open(path, "w") as f:
                json.dump(got, f, sort_keys=True, indent=1)
                f.write("\n")
            print("written  %s" % name)
            continue
        if not os.path.exists(path):
            print("MISSING  %s: no %s (run with --update)" % (name, os.path.relpath(path, ROOT)))
            failed += 1
            continue
        with open(path) as f:
            want = json.load(f)
        diff = differences(want, got)
        if diff:
            failed += 1
            print("DIFFERS  %s: %s" % (name, "; ".join(diff[:6]) + (" ..." if len(diff) > 6 else "")))
        else:
            print("same     %s" % name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

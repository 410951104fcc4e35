#!/usr/bin/env python3
"""report.py - turns the results.tsv of bench/fs/run.sh into the printed
table (pmemfs, each reference, and pmemfs's speed relative to each), the
PASS/MISS verdict of each target, and the data file gnuplot draws.

    report.py RESULTS_TSV PLOT_DAT

results.tsv lines: WORKLOAD <tab> SYSTEM <tab> VALUE-or-"FAILED: why".
Only what the run measured is printed; nothing here is a number of its own.
"""
import statistics
import sys

# (system key, column title)
SYSTEMS = [("pmemfs", "pmemfs"), ("null", "R0 null"), ("pt", "R1 pt_ll"),
           ("ptwb", "R2 pt_ll wb"), ("tmpfs", "R3 tmpfs")]
REFS = SYSTEMS[1:]

# (workload key, label, unit, higher is better)
ROWS = [
    ("seqwrite", "seq write 1M fio, end fsync", "MiB/s", True),
    ("seqwritewo", "seq write 1M O_WRONLY, dd", "MiB/s", True),
    ("seqread", "seq read 1M, cold cache", "MiB/s", True),
    ("randwrite", "rand write 4k + fsync", "IOPS", True),
    ("randread", "rand read 4k, cold start", "IOPS", True),
    ("create", "create empty files", "ops/s", True),
    ("stat", "stat files", "ops/s", True),
    ("unlink", "unlink files", "ops/s", True),
    ("tarx", "tar x /usr/include", "s", False),
    ("tarc", "tar c (cold cache)", "s", False),
    ("w1", "1 writer, 1M seq", "MiB/s", True),
    ("w2", "2 writers, 2 files", "MiB/s", True),
    ("scaling", "2 writers / 1 writer", "x", True),
    ("cpu", "daemon CPU per GiB written", "s/GiB", False),
]

# (workload, reference, least pmemfs/reference speed ratio)
TARGETS = [
    ("seqwrite", "pt", 5.0), ("seqwrite", "ptwb", 1.0), ("seqwrite", "null", 0.7),
    ("seqread", "pt", 3.0), ("seqread", "null", 0.7),
    ("randwrite", "pt", 1.3),
    ("randread", "pt", 1.2), ("randread", "null", 0.8),
    ("create", "pt", 1.5), ("stat", "pt", 1.5), ("unlink", "pt", 1.5),
    ("tarx", "pt", 1.5), ("tarc", "pt", 1.5),
    ("scaling", "self", 1.6),
]


def load(path):
    """Median of each (workload, system) over the rounds; failures apart."""
    runs, fails = {}, {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) != 3:
                continue
            wl, sys_, v = parts
            if v.startswith("FAILED"):
                fails[(wl, sys_)] = v
            else:
                runs.setdefault((wl, sys_), []).append(float(v))
    vals = {k: statistics.median(v) for k, v in runs.items()}
    # a value measured in another round wins over a failure: keep the
    # failure's reason in the list below, not in the table
    failed_cells = {k: v for k, v in fails.items() if k not in vals}
    # the scaling row is derived from two measured rows: the median of the
    # per-round ratios when every round has both (a ratio of two medians
    # could pair a fast round with a slow one), else the ratio of medians
    for s, _ in SYSTEMS:
        w1, w2 = runs.get(("w1", s), []), runs.get(("w2", s), [])
        if w1 and len(w1) == len(w2) and min(w1) > 0:
            vals[("scaling", s)] = statistics.median(b / a for a, b in zip(w1, w2))
        elif (("w1", s) in vals and ("w2", s) in vals and vals[("w1", s)] > 0):
            vals[("scaling", s)] = vals[("w2", s)] / vals[("w1", s)]
        elif ("w1", s) in failed_cells or ("w2", s) in failed_cells:
            failed_cells[("scaling", s)] = "FAILED"
    return vals, failed_cells, fails, max((len(v) for v in runs.values()), default=0)


def speedup(vals, wl, ref, higher):
    """pmemfs's speed over ref's (>1: pmemfs is faster), or None."""
    a, b = vals.get((wl, "pmemfs")), vals.get((wl, ref))
    if a is None or b is None or a <= 0 or b <= 0:
        return None
    return a / b if higher else b / a


def cell(vals, fails, wl, s, unit):
    if (wl, s) in vals:
        v = vals[(wl, s)]
        return f"{v:.2f}" if unit in ("s", "s/GiB", "x") else f"{v:.0f}"
    return "FAILED" if (wl, s) in fails else "-"


def main():
    vals, fails, all_fails, rounds = load(sys.argv[1])
    if rounds > 1:
        print(f"each value: the median of {rounds} rounds")
    head = f"{'workload':<27} {'unit':<6}" + "".join(f"{t:>12}" for _, t in SYSTEMS)
    head += "".join(f"{'pm/' + t.split()[0]:>8}" for _, t in REFS)
    print(head)
    print("-" * len(head))
    for wl, label, unit, higher in ROWS:
        if not any((wl, s) in vals or (wl, s) in fails for s, _ in SYSTEMS):
            continue
        line = f"{label:<27} {unit:<6}"
        line += "".join(f"{cell(vals, fails, wl, s, unit):>12}" for s, _ in SYSTEMS)
        for r, _ in REFS:
            x = None if wl == "scaling" else speedup(vals, wl, r, higher)
            line += f"{x:>8.2f}" if x is not None else f"{'-':>8}"
        print(line)
    print("pm/Rn: pmemfs's speed over the reference's (>1: pmemfs faster; for "
          "times and CPU, Rn/pmemfs)")

    print("\ntargets (pmemfs, same run):")
    for wl, ref, least in TARGETS:
        higher = next(r[3] for r in ROWS if r[0] == wl)
        if ref == "self":
            x, what = vals.get(("scaling", "pmemfs")), "2 writers / 1 writer"
        else:
            x = speedup(vals, wl, ref, higher)
            what = f"{wl} vs {dict(SYSTEMS)[ref]}"
        cells = [("w1" if wl == "scaling" else wl, s)
                 for s in ("pmemfs", "pmemfs" if ref == "self" else ref)]
        if x is None and not all(c in vals or c in fails for c in cells):
            continue  # a workload or reference this run left out
        got = f"{x:.2f}x" if x is not None else "n/a"
        if ref == "null" and x is not None:
            got = f"{x * 100:.0f}% of R0"
        verdict = "PASS" if x is not None and x >= least else "MISS"
        if x is None:
            verdict = "FAILED"
        want = f"{least * 100:.0f}% of R0" if ref == "null" else f"{least}x"
        print(f"  {what:<28} >= {want:<10}  measured {got:>10}  {verdict}")

    if all_fails:
        print("\nfailures:")
        for (wl, s), why in sorted(all_fails.items()):
            if why != "FAILED":
                print(f"  {wl} on {dict(SYSTEMS).get(s, s)}: {why}")

    # gnuplot: one line per workload, pmemfs over each reference
    with open(sys.argv[2], "w") as out:
        out.write("# workload " + " ".join(t.replace(" ", "_") for _, t in REFS) + "\n")
        for wl, label, unit, higher in ROWS:
            if wl in ("scaling", "cpu"):
                continue
            xs = [speedup(vals, wl, r, higher) for r, _ in REFS]
            if all(x is None for x in xs):
                continue
            out.write('"%s" %s\n' % (label.split(",")[0],
                      " ".join(f"{x:.4f}" if x else "NaN" for x in xs)))


if __name__ == "__main__":
    main()

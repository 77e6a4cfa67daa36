#!/usr/bin/env python3
"""Prints, per mode and epochs, each schedule's analogy accuracy and Spearman correlations with
its difference from gensim (workers=2), and which schedule wins on all three sets. A schedule
run with several seeds (the `seed` column) shows the median of each score, and its runs count;
without that column, the last run of a schedule counts. Several files pool their runs (runs of
the same seed in two files both count: they are repeats, not replacements)."""
import csv
import statistics
import sys
from collections import defaultdict

files = sys.argv[1:] or ["work/results.tsv"]
seeded = defaultdict(lambda: defaultdict(dict))
for i, f in enumerate(files):
    for r in csv.DictReader(open(f), delimiter="\t"):
        seeded[(r["mode"], int(r["epochs"]), r["schedule"])][(i, r.get("seed") or "1")] = r
by = defaultdict(dict)
for (mode, epochs, schedule), runs in seeded.items():
    median = {k: statistics.median(float(r[k]) for r in runs.values()) for k in ("analogy", "ws353", "simlex")}
    by[(mode, epochs)][schedule if len(runs) == 1 else f"{schedule} (median of {len(runs)})"] = median
print("| mode | epochs | schedule | analogy | WS-353 | SimLex | Δ analogy vs gensim | Δ WS | Δ SimLex | ≥ gensim on all |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (mode, epochs), runs in sorted(by.items()):
    g = next((r for name, r in runs.items() if name.startswith("gensim-w2")), None)
    for name, r in sorted(runs.items()):
        vals = [float(r[k]) for k in ("analogy", "ws353", "simlex")]
        if g and not name.startswith("gensim-w2"):
            d = [v - float(g[k]) for v, k in zip(vals, ("analogy", "ws353", "simlex"))]
            delta = f"{100 * d[0]:+.2f} | {d[1]:+.3f} | {d[2]:+.3f} | {'yes' if min(d) >= 0 else 'no'}"
        else:
            delta = " |  |  | "
        print(f"| {mode} | {epochs} | {name} | {100 * vals[0]:.2f} | {vals[1]:.3f} | {vals[2]:.3f} | {delta} |")

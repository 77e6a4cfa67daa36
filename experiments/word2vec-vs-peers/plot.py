#!/usr/bin/env python3
"""Quality against wall-clock time, from work/raw.csv and the runs' eval JSON files: one panel per
(architecture, measure), one line per tool through its 1..N-epoch runs, written as a PNG, and the
same numbers as a markdown table on stdout.

usage: plot.py work/raw.csv [--work work/] --png quality-vs-time.png
"""
import argparse
import csv
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter  # noqa: E402

from summarize import TOOL_NAMES, eval_numbers, fnum, load_json, median  # noqa: E402

ARCHS = [("sg-ns", "skip-gram"), ("cbow-ns", "CBOW")]
MEASURES = [(0, "analogy accuracy (%)", 100.0), (2, "WS-353 Spearman ρ", 1.0)]
STYLE = {"ours": ("tab:red", "o"), "gensim": ("tab:blue", "s"), "w2v": ("tab:green", "^"),
         "fasttext": ("tab:purple", "D")}


def points(rows, work):
    """{(arch, tool): [(epochs, wall s, (analogy, coverage, ws353, simlex))]}, medians over runs."""
    groups = {}
    for r in rows:
        m = re.fullmatch(r"(sg-ns|cbow-ns)-e(\d+)", r["config"])
        if m and r["status"] == "ok":
            groups.setdefault((m.group(1), r["tool"], int(m.group(2))), []).append(r)
    out = {}
    for (arch, tool, epochs), rs in sorted(groups.items()):
        wall = median([fnum(r["wall_s"]) for r in rs])
        evs = [eval_numbers(load_json(work, r["eval_json"])) for r in rs]
        quality = tuple(median([e[i] for e in evs]) for i in range(4))
        out.setdefault((arch, tool), []).append((epochs, wall, quality))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("raw")
    p.add_argument("--work", default=None)
    p.add_argument("--png", required=True)
    a = p.parse_args()
    work = a.work or os.path.dirname(os.path.abspath(a.raw))
    with open(a.raw, newline="", encoding="utf8") as f:
        pts = points(list(csv.DictReader(f)), work)
    if not pts:
        print("(no sg-ns-eN or cbow-ns-eN runs to plot)")
        return 1
    tools = [t for t in STYLE if any(t == tool for (_, tool) in pts)]

    fig, axes = plt.subplots(len(ARCHS), len(MEASURES), figsize=(11, 8.5), squeeze=False)
    for row, (arch, arch_name) in enumerate(ARCHS):
        for col, (index, label, scale) in enumerate(MEASURES):
            ax = axes[row][col]
            for tool in tools:
                series = [(w, q[index]) for (_, w, q) in pts.get((arch, tool), []) if w and q[index] is not None]
                if not series:
                    continue
                color, marker = STYLE[tool]
                xs, ys = zip(*series)
                ax.plot(xs, [y * scale for y in ys], marker=marker, color=color, label=TOOL_NAMES.get(tool, tool))
                for (e, w, q) in pts[(arch, tool)]:
                    if w and q[index] is not None:
                        ax.annotate(str(e), (w, q[index] * scale), textcoords="offset points", xytext=(4, -10),
                                    fontsize=7, color=color)
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(FixedLocator([2, 5, 10, 20, 50, 100, 200, 500]))
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel("wall-clock seconds, whole process (log scale)")
            ax.set_ylabel(label)
            ax.set_title("%s: %s" % (arch_name, label.split(" (")[0]))
            ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle("enwiki-10M, dim 100, window 5, negative 5, sample 1e-4, 2 threads; numbers = epochs", fontsize=10)
    fig.tight_layout()
    tmp = a.png + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, a.png)

    print("\nQuality against time (the plot's numbers; wall s of the whole process, analogy % restricted "
          "to the 30,000 most frequent words):\n")
    print("| architecture | tool | epochs | wall s | analogy % | WS353 ρ | SimLex ρ |")
    print("|---|---|---|---|---|---|---|")
    for arch, arch_name in ARCHS:
        for tool in tools:
            for (e, w, q) in pts.get((arch, tool), []):
                print("| %s | %s | %d | %s | %s | %s | %s |" % (
                    arch_name, TOOL_NAMES.get(tool, tool), e, "–" if w is None else "%.1f" % w,
                    "–" if q[0] is None else "%.1f" % (q[0] * 100),
                    "–" if q[2] is None else "%.3f" % q[2], "–" if q[3] is None else "%.3f" % q[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

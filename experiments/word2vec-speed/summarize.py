#!/usr/bin/env python3
"""Medians of work/raw.csv (run.sh): words/s per binary, mode and thread count, the 1 -> N thread
scaling, and the ratio to the base binary where there is one (stdlib only).

usage: summarize.py work/raw.csv TOKENS
"""
import csv
import statistics
import sys

NAMES = {"sg": "skip-gram", "cbow": "CBOW", "hs": "skip-gram + HS"}


def main():
    raw, tokens = sys.argv[1], int(sys.argv[2])
    groups = {}
    with open(raw, newline="", encoding="utf8") as f:
        for r in csv.DictReader(f):
            key = (r["binary"], r["mode"], int(r["threads"]))
            groups.setdefault(key, []).append((float(r["wall_s"]), float(r["epoch_s"])))
    med = {k: (statistics.median(w for w, _ in v), statistics.median(e for _, e in v), len(v))
           for k, v in groups.items()}
    print("Words/s = %d tokens / seconds (one epoch; medians of interleaved runs). 'Loop' counts "
          "the training loop alone (the run's own epoch time), 'process' the whole run "
          "(vocabulary pass and writing the vectors too).\n" % tokens)
    print("| binary | mode | threads | runs | loop words/s | process words/s | scaling from 1 thread (loop) |")
    print("|---|---|---|---|---|---|---|")
    for (b, m, t), (wall, epoch, n) in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        one = med.get((b, m, 1))
        scale = "%.2f×" % (one[1] / epoch) if one and t != 1 else ""
        print("| %s | %s | %d | %d | %s | %s | %s |" % (
            b, NAMES.get(m, m), t, n, format(round(tokens / epoch), ","), format(round(tokens / wall), ","), scale))
    if any(b == "base" for (b, _, _) in med):
        print("\n| mode | threads | loop: ours ÷ base | process: ours ÷ base |")
        print("|---|---|---|---|")
        for (b, m, t), (wall, epoch, _) in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][2])):
            base = med.get(("base", m, t))
            if b == "ours" and base:
                print("| %s | %d | %.2f | %.2f |" % (NAMES.get(m, m), t, base[1] / epoch, base[0] / wall))


if __name__ == "__main__":
    sys.exit(main())

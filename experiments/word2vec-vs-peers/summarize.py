#!/usr/bin/env python3
"""Build the markdown results tables from work/raw.csv and the per-run eval JSON files (stdlib only).

usage: summarize.py work/raw.csv [--work work/]
"""
import argparse
import csv
import json
import os
import statistics
import sys

TOOL_NAMES = {"ours": "ours", "ours_init05": "ours, init_scale = 0.5 (word2vec.c's init)",
              "ours_exact": "ours, share_negatives = false, init_scale = 0.5",
              "w2v": "word2vec.c", "gensim": "gensim 4.4.0",
              "gensim1w": "gensim 4.4.0, 1 worker (control)",
              "fasttext": "fastText 0.9.2, no subwords"}
TOOL_ORDER = ["ours", "ours_init05", "ours_exact", "w2v", "gensim", "gensim1w", "fasttext"]


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec, scale=1.0):
    return "–" if x is None else format(x * scale, spec)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def load_json(work, rel):
    if not rel:
        return None
    path = rel if os.path.isabs(rel) else os.path.join(work, rel)
    try:
        with open(path, encoding="utf8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def eval_numbers(ev):
    """(analogy accuracy, analogy coverage, ws353 rho, simlex rho) from an eval JSON, None where absent."""
    if not ev:
        return (None, None, None, None)
    an = (ev.get("analogy") or {}).get("questions-words") or {}
    sim = ev.get("similarity") or {}
    return (
        fnum(an.get("accuracy")),
        fnum(an.get("coverage")),
        fnum((sim.get("ws353") or {}).get("spearman")),
        fnum((sim.get("simlex999") or {}).get("spearman")),
    )


def compute_accuracy(path):
    """(accuracy, coverage) from word2vec.c's compute-accuracy output, None where absent."""
    acc = cov = None
    try:
        with open(path, encoding="utf8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return (None, None)
    for line in lines:
        if line.startswith("Total accuracy:"):
            acc = fnum(line.split()[2]) / 100 if fnum(line.split()[2]) is not None else None
        elif line.startswith("Questions seen / total:"):
            parts = line.split(":")[1].split()
            if len(parts) >= 2 and fnum(parts[1]):
                cov = fnum(parts[0]) / fnum(parts[1])
    return (acc, cov)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("raw")
    p.add_argument("--work", default=None, help="directory that the paths in raw.csv are relative to")
    a = p.parse_args()
    work = a.work or os.path.dirname(os.path.abspath(a.raw))
    with open(a.raw, newline="", encoding="utf8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print("(no runs in %s)" % a.raw)
        return

    configs = []
    groups = {}
    for r in rows:
        if r["config"] not in configs:
            configs.append(r["config"])
        groups.setdefault((r["config"], r["tool"]), []).append(r)
    tools = [t for t in TOOL_ORDER if any(t == r["tool"] for r in rows)]

    corpus = rows[0]["corpus"]
    tokens = rows[0]["tokens"]
    print("Corpus enwiki-%s (%s tokens by `wc -w`). Medians over runs; words/s = tokens × epochs / wall s "
          "(whole process: vocabulary scan, training, saving), peak RSS from `/usr/bin/time -v`.\n"
          % (corpus, tokens))
    print("| config | tool | runs ok | wall s | words/s | CPU % | peak RSS MiB | vocab | analogy % (coverage) | WS353 ρ | SimLex ρ |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for c in configs:
        for t in tools:
            rs = groups.get((c, t))
            if not rs:
                continue
            ok = [r for r in rs if r["status"] in ("ok", "eval-failed")]
            wall = median([fnum(r["wall_s"]) for r in ok])
            wps = median([fnum(r["words_per_s"]) for r in ok])
            rss = median([fnum(r["max_rss_kib"]) for r in ok])
            cpu = median([
                (fnum(r["user_s"]) + fnum(r["sys_s"])) / fnum(r["wall_s"])
                for r in ok
                if fnum(r["user_s"]) is not None and fnum(r["sys_s"]) is not None and fnum(r["wall_s"])
            ])
            vocab = median([fnum(r["vocab"]) for r in ok])
            evs = [eval_numbers(load_json(work, r["eval_json"])) for r in ok]
            acc, cov, ws, sl = (median([e[i] for e in evs]) for i in range(4))
            summary[(c, t)] = {"wps": wps, "rss": rss}
            acc_s = "–" if acc is None else "%.1f (%.0f%%)" % (acc * 100, (cov or 0) * 100)
            print("| %s | %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                c, TOOL_NAMES.get(t, t), len(ok), len(rs), fmt(wall, ".1f"), fmt(wps, ",.0f"),
                fmt(cpu, ".0f", 100), fmt(rss, ",.0f", 1 / 1024), fmt(vocab, ".0f"), acc_s,
                fmt(ws, ".3f"), fmt(sl, ".3f")))

    if "ours" in tools:
        print("\nRatios of medians (ours ÷ peer; words/s > 1 means ours is faster, RSS < 1 means ours uses less memory):\n")
        print("| config | words/s ours÷gensim | words/s ours÷word2vec.c | words/s ours÷fastText | RSS ours÷gensim | RSS ours÷word2vec.c |")
        print("|---|---|---|---|---|---|")
        for c in configs:
            o = summary.get((c, "ours"), {})
            g = summary.get((c, "gensim"), {})
            w = summary.get((c, "w2v"), {})
            ft = summary.get((c, "fasttext"), {})
            print("| %s | %s | %s | %s | %s | %s |" % (
                c,
                fmt(ratio(o.get("wps"), g.get("wps")), ".2f"),
                fmt(ratio(o.get("wps"), w.get("wps")), ".2f"),
                fmt(ratio(o.get("wps"), ft.get("wps")), ".2f"),
                fmt(ratio(o.get("rss"), g.get("rss")), ".2f"),
                fmt(ratio(o.get("rss"), w.get("rss")), ".2f")))

    # Evaluator cross-check on run 1 of each (config, tool): our `train eval`, gensim_eval.py and
    # word2vec.c's compute-accuracy (analogy only) on the same vectors.
    cross = []
    for r in rows:
        if r["run"] != "1" or not r["eval_json"]:
            continue
        rundir = os.path.dirname(r["eval_json"])
        main_ev = eval_numbers(load_json(work, r["eval_json"]))
        if r.get("evaluator") == "ours":
            ours, gen = main_ev, eval_numbers(load_json(work, os.path.join(rundir, "eval-gensim.json")))
        else:
            ours, gen = (None, None, None, None), main_ev
        ca = compute_accuracy(os.path.join(work, rundir, "compute-accuracy.txt"))
        if sum(x is not None for x in (ours[0], gen[0], ca[0])) >= 2:
            cross.append((r, ours, gen, ca))
    if cross:
        print("\nEvaluator cross-check, run 1 (analogy % and coverage %: ours / gensim / compute-accuracy; "
              "ρ: ours / gensim):\n")
        print("| config | tool | analogy % | coverage % | WS353 ρ | SimLex ρ |")
        print("|---|---|---|---|---|---|")
        worst = {}
        for r, o, g, ca in cross:
            for name, i, vals in (("analogy", 0, (o[0], g[0], ca[0])), ("coverage", 1, (o[1], g[1], ca[1])),
                                  ("WS353", 2, (o[2], g[2])), ("SimLex", 3, (o[3], g[3]))):
                v = [x for x in vals if x is not None]
                if len(v) >= 2:
                    worst[name] = max(worst.get(name, 0.0), max(v) - min(v))
            print("| %s | %s | %s / %s / %s | %s / %s / %s | %s / %s | %s / %s |" % (
                r["config"], TOOL_NAMES.get(r["tool"], r["tool"]),
                fmt(o[0], ".2f", 100), fmt(g[0], ".2f", 100), fmt(ca[0], ".2f", 100),
                fmt(o[1], ".1f", 100), fmt(g[1], ".1f", 100), fmt(ca[1], ".1f", 100),
                fmt(o[2], ".4f"), fmt(g[2], ".4f"), fmt(o[3], ".4f"), fmt(g[3], ".4f")))
        print("\nLargest spread between evaluators: " + ", ".join(
            "%s %s" % (k, ("%.3f points" % (v * 100)) if k in ("analogy", "coverage") else "%.4f" % v)
            for k, v in worst.items()))

    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        print("\nFailed runs:\n")
        for r in failed:
            print("- %s %s run %s: %s" % (r["config"], TOOL_NAMES.get(r["tool"], r["tool"]), r["run"], r["status"]))


if __name__ == "__main__":
    sys.exit(main())

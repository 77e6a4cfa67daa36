#!/usr/bin/env python3
"""Markdown results tables and the loss-curve plot from work/raw.csv and the per-run metrics JSON
files (torch_mlm.py's, and ours_metrics.py's for ours).

usage: summarize.py work/raw.csv [--work work/] [--plot work/loss-curves.png]
"""
import argparse
import csv
import json
import os
import statistics
import sys

TOOL_NAMES = {
    "ours": "ours (burn flex)",
    "ours_base": "ours, base binary (A/B)",
    "ours_ndarray": "ours (burn ndarray)",
    "ours_bert": "ours (burn flex), BERT's initialisation",
    "torch": "PyTorch BertForMaskedLM",
    "torch_full": "PyTorch BertForMaskedLM, all-position logits",
}
TOOL_ORDER = ["ours", "ours_base", "ours_bert", "ours_ndarray", "torch", "torch_full"]
REFERENCE = "torch"
TARGET_SPEED = 1.2   # ours ≥ 1.2 × the masked-head PyTorch variant's tokens/s (#14)
TARGET_SPEED_FULL = 0.8   # ours ≥ 0.8 × HF's standard forward (the first encoder issue)
TARGET_LOSS = 0.1    # |eval loss ours − PyTorch| ≤ 0.1 nats at equal steps


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


def diff(a, b):
    return None if a is None or b is None else a - b


def load(work, rel):
    if not rel:
        return None
    path = rel if os.path.isabs(rel) else os.path.join(work, rel)
    try:
        with open(path, encoding="utf8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def sampled_train_loss(m, every=10):
    """(steps, losses) at the multiples of `every`: ours logs the loss of those steps only, so
    PyTorch's per-step losses are sampled the same way before smoothing."""
    pts = [(t["step"], t["loss"]) for t in m["train"] if t["step"] % every == 0]
    return [p[0] for p in pts], [p[1] for p in pts]


def smooth(ys, k=5):
    """Centred moving average over k points (fewer at the ends)."""
    h = k // 2
    return [statistics.fmean(ys[max(0, i - h): i + h + 1]) for i in range(len(ys))]


def plot(path, tools, runs):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\n(matplotlib missing: no plot)")
        return
    fig, ax = plt.subplots(figsize=(8, 5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, t in enumerate(tools):
        ms = runs[t]
        if not ms:
            continue
        k = TOOL_ORDER.index(t) if t in TOOL_ORDER else len(TOOL_ORDER) + i
        c = colors[k % len(colors)]  # one colour per tool, whichever tools ran
        for j, m in enumerate(ms):
            xs, ys = sampled_train_loss(m)
            if xs:
                ax.plot(xs, smooth(ys), color=c, alpha=0.45 if j else 0.6, lw=1,
                        label="%s, train (smoothed)" % TOOL_NAMES.get(t, t) if j == 0 else None)
        steps = sorted({e["step"] for m in ms for e in m["eval"]})
        ev = [median([e["loss"] for m in ms for e in m["eval"] if e["step"] == s]) for s in steps]
        if steps:
            ax.plot(steps, ev, color=c, lw=2, marker="o", label="%s, eval" % TOOL_NAMES.get(t, t))
    ax.set_xlabel("step (batch 32 × 128 tokens)")
    ax.set_ylabel("MLM cross-entropy (nats)")
    ax.set_title("MLM pretraining on enwiki, eval on enwiki-valid")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print("\nLoss curves: `%s` (train loss sampled every 10 steps, 5-point moving average; "
          "eval loss median over runs)." % os.path.basename(path))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("raw")
    p.add_argument("--work", default=None, help="directory that the paths in raw.csv are relative to")
    p.add_argument("--plot", default=None, help="PNG to write (default: WORK/loss-curves.png)")
    a = p.parse_args()
    work = a.work or os.path.dirname(os.path.abspath(a.raw))
    with open(a.raw, newline="", encoding="utf8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print("(no runs in %s)" % a.raw)
        return

    tools = [t for t in TOOL_ORDER if any(r["tool"] == t for r in rows)]
    tools += [t for t in dict.fromkeys(r["tool"] for r in rows) if t not in tools]
    runs, stats = {}, {}
    for t in tools:
        rs = [r for r in rows if r["tool"] == t]
        ok = [(r, load(work, r["metrics"])) for r in rs if r["status"] == "ok"]
        ok = [(r, m) for r, m in ok if m]
        runs[t] = [m for _, m in ok]
        finals = [m["eval"][-1] for _, m in ok if m["eval"]]
        stats[t] = {
            "n": len(ok), "of": len(rs),
            "steps": median([fnum(r["steps"]) for r, _ in ok]),
            "tps": median([m["steady"]["tokens_per_s"] for _, m in ok]),
            "rss": median([fnum(r["max_rss_kib"]) for r, _ in ok]),
            "wall": median([fnum(r["wall_s"]) for r, _ in ok]),
            "cpu": median([(fnum(r["user_s"]) + fnum(r["sys_s"])) / fnum(r["wall_s"])
                           for r, _ in ok if fnum(r["user_s"]) is not None
                           and fnum(r["sys_s"]) is not None and fnum(r["wall_s"])]),
            "loss": median([e["loss"] for e in finals]),
            "acc": median([e.get("accuracy") for e in finals]),
            "final_step": median([e["step"] for e in finals]),
            "tps_per_step": median([m.get("tokens_per_step") for _, m in ok]),
            "rss_imports": median([m.get("rss_after_imports_mib") for _, m in ok]),
        }
    ref = stats.get(REFERENCE, {})

    print("Medians over runs. Steady tokens/s = tokens of the steps after step 10 ÷ their training "
          "time (evaluation excluded); peak RSS from `/usr/bin/time -v` (whole process); eval loss "
          "= mean MLM cross-entropy over the masked tokens of enwiki-valid (fixed masks) at the "
          "last step; Δ = tool − PyTorch.\n")
    print("| tool | runs ok | steps | steady tokens/s | s/step | ÷ PyTorch | peak RSS MiB | RSS ÷ PyTorch "
          "| wall s | CPU % | eval loss | Δ nats | MLM acc % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t in tools:
        s = stats[t]
        sps = ratio(s["tps_per_step"], s["tps"])
        print("| %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            TOOL_NAMES.get(t, t), s["n"], s["of"], fmt(s["steps"], ".0f"), fmt(s["tps"], ",.0f"),
            fmt(sps, ".3f"), fmt(ratio(s["tps"], ref.get("tps")), ".2f"),
            fmt(s["rss"], ",.0f", 1 / 1024), fmt(ratio(s["rss"], ref.get("rss")), ".2f"),
            fmt(s["wall"], ".0f"), fmt(s["cpu"], ".0f", 100), fmt(s["loss"], ".4f"),
            fmt(diff(s["loss"], ref.get("loss")), "+.4f"), fmt(s["acc"], ".1f", 100)))

    base = [(t, stats[t]["rss_imports"]) for t in tools if stats[t]["rss_imports"] is not None]
    if base:
        print("\nResident memory right after `import torch, transformers` (included in the peak RSS "
              "above; PyPI's torch wheel is the CUDA build, whose libraries are resident although no "
              "GPU is used): " + ", ".join("%s %s MiB" % (TOOL_NAMES.get(t, t), fmt(v, ",.0f"))
                                         for t, v in base) + ".")

    # Eval loss at every evaluation step.
    steps = sorted({e["step"] for t in tools for m in runs[t] for e in m["eval"]})
    if steps:
        def at(t, step):
            return median([e["loss"] for m in runs[t] for e in m["eval"] if e["step"] == step])
        print("\nEval loss (nats) at every evaluation, median over runs (Δ vs PyTorch in brackets):\n")
        print("| step | " + " | ".join(TOOL_NAMES.get(t, t) for t in tools) + " |")
        print("|---|" + "---|" * len(tools))
        for st in steps:
            cells = []
            for t in tools:
                v = at(t, st)
                # No PyTorch run in this table (e.g. a backend comparison): no Δ column.
                has_ref = REFERENCE in runs and t != REFERENCE
                d = diff(v, at(REFERENCE, st)) if has_ref else None
                cells.append(fmt(v, ".4f") + ("" if d is None else " (%+.3f)" % d))
            print("| %d | %s |" % (st, " | ".join(cells)))

    # Targets of the issue.
    if REFERENCE in stats and stats[REFERENCE]["n"]:
        lines = []
        for t in tools:
            if not t.startswith("ours") or not stats[t]["n"]:
                continue
            s = stats[t]
            sp = ratio(s["tps"], ref.get("tps"))
            # The baseline is HF's standard forward (logits at every position).
            full = stats.get("torch_full", {})
            sp_full = ratio(s["tps"], full.get("tps")) if full.get("n") else None
            dl = diff(s["loss"], ref.get("loss"))
            same_steps = s["final_step"] == ref.get("final_step")
            lines.append("- %s: speed %s× PyTorch (target ≥ %.1f: %s)%s; final eval loss Δ %s nats "
                         "(target |Δ| ≤ %.1f: %s)%s" % (
                             TOOL_NAMES.get(t, t), fmt(sp, ".2f"), TARGET_SPEED,
                             "–" if sp is None else ("met" if sp >= TARGET_SPEED else "missed"),
                             "" if sp_full is None else ", %s× HF's standard forward (target ≥ %.1f: %s)" % (
                                 fmt(sp_full, ".2f"), TARGET_SPEED_FULL,
                                 "met" if sp_full >= TARGET_SPEED_FULL else "missed"),
                             fmt(dl, "+.3f"), TARGET_LOSS,
                             "–" if dl is None else ("met" if abs(dl) <= TARGET_LOSS else "missed"),
                             "" if same_steps else " (not at equal steps!)"))
        if lines:
            print("\nTargets:\n")
            print("\n".join(lines))

    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        print("\nFailed runs:\n")
        for r in failed:
            print("- %s run %s: %s" % (TOOL_NAMES.get(r["tool"], r["tool"]), r["run"], r["status"]))

    plot(a.plot or os.path.join(work, "loss-curves.png"), tools, runs)


if __name__ == "__main__":
    sys.exit(main())

"""Summarises the runs of run.sh: eval loss, perplexity and MLM accuracy against tokens seen and
training minutes, the two frequency baselines of baseline.py, and the fill-mask probes.

usage: summarize.py WORK_DIR [--png pretraining.png] [--title TITLE] > results.md

Training minutes are the sum over train/tokens_per_sec's logging intervals of tokens / rate: the
time of the training steps alone, without evaluations, checkpoints, probes or pauses between a
stopped run and its resumption (which the wall clock of a resumed run would count).
A logging interval whose rate is under a quarter of the run's median rate held a pause (the
process stopped with SIGSTOP while a benchmark needed the cores): it counts at the median rate.
A run has "left the plateau" at the first evaluation whose loss is LEFT_BY nats below the
frequency + copy baseline.

PyTorch runs (torch_curve.sh) are read from WORK_DIR/torch/*.json, the metrics that
../encoder-vs-pytorch/torch_mlm.py writes: their minutes are the sum of their step times.
"""
import argparse
import glob
import json
import math
import os
import statistics
import tomllib

from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

LEFT_BY = 0.5


def scalars(run):
    merged = {}
    for path in sorted(glob.glob(os.path.join(run, "events.out.tfevents.*"))):
        ea = EventAccumulator(path, size_guidance={SCALARS: 0})
        ea.Reload()
        for tag in ea.Tags().get("scalars", []):
            merged.setdefault(tag, {}).update({e.step: e.value for e in ea.Scalars(tag)})
    return merged


def probes(run):
    by_step = {}
    path = os.path.join(run, "probes.tsv")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                step, text, expected, answers = line.rstrip("\n").split("\t")
                by_step.setdefault(int(step), []).append((text, expected, answers.split()))
    return by_step


def summarise(run):
    with open(os.path.join(run, "config.toml"), "rb") as f:
        config = tomllib.load(f)
    t, d = config["train"], config["data"]
    per_step = t["batch_size"] * t.get("grad_accum", 1) * d["seq_len"]
    s = scalars(run)
    rate, log_every = s.get("train/tokens_per_sec", {}), t.get("log_every", 10)
    seconds, elapsed, prev = {}, 0.0, 0
    usual = statistics.median(r for r in rate.values() if r > 0) if rate else 0.0
    for step in sorted(rate):
        if rate[step] > 0:
            elapsed += (step - prev) * per_step / max(rate[step], usual / 4)
        prev = step
        seconds[step] = elapsed
    points = []
    for step in sorted(s.get("eval/loss", {})):
        logged = [x for x in seconds if x <= step]
        points.append({
            "step": step,
            "tokens": step * per_step,
            "minutes": seconds[max(logged)] / 60 if logged else 0.0,
            "loss": s["eval/loss"][step],
            "perplexity": s.get("eval/perplexity", {}).get(step, float("nan")),
            "accuracy": s.get("eval/mlm_accuracy", {}).get(step, float("nan")),
        })
    return config, points, probes(run)


def summarise_torch(path):
    """A PyTorch run's metrics as (config, points, probes), probes and config empty."""
    with open(path, encoding="utf8") as f:
        m = json.load(f)
    per_step = m["tokens_per_step"]
    spent, elapsed = {}, 0.0
    for row in m["train"]:
        elapsed += row["seconds"]
        spent[row["step"]] = elapsed
    points = [{"step": e["step"], "tokens": e["step"] * per_step,
               "minutes": spent.get(e["step"], elapsed) / 60, "loss": e["loss"],
               "perplexity": math.exp(min(e["loss"], 50)), "accuracy": e["accuracy"]}
              for e in m["eval"]]
    return None, points, {}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("work")
    p.add_argument("--png")
    p.add_argument("--title", default="Masked-language-model pretraining on enwiki-10M, "
                   "held-out enwiki-valid")
    a = p.parse_args()
    with open(os.path.join(a.work, "baseline.json")) as f:
        base = json.load(f)
    runs = sorted(r for r in glob.glob(os.path.join(a.work, "runs", "*"))
                  if os.path.isdir(r) and os.path.exists(os.path.join(r, "config.toml")))
    results = {os.path.basename(r): summarise(r) for r in runs}
    for path in sorted(glob.glob(os.path.join(a.work, "torch", "*.json"))):
        name = "pytorch-" + os.path.basename(path)[: -len(".json")]
        results[name] = summarise_torch(path)
    target = base["frequency_copy_loss"] - LEFT_BY
    print("# Encoder pretraining runs\n")
    print(f"Held-out targets: {base['valid_tokens']:,} tokens of "
          f"{base.get('valid', 'enwiki-valid.txt')}, WordPiece "
          f"{base['vocab_size']:,}. Baselines (baseline.py): unigram loss "
          f"{base['unigram_loss']:.3f} (accuracy {100 * base['unigram_accuracy']:.1f}%, "
          f"always {base['most_frequent']!r}); frequency + copy loss "
          f"{base['frequency_copy_loss']:.3f} (accuracy "
          f"{100 * base['frequency_copy_accuracy']:.1f}%). Left the plateau: eval loss below "
          f"{target:.3f} ({LEFT_BY} nats under frequency + copy).\n")
    print("| run | steps run | left the plateau at | tokens | training minutes | best eval loss "
          "| its accuracy | probes right (best) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (config, points, probe) in results.items():
        if not points:
            continue
        left = next((q for q in points if q["loss"] < target), None)
        best = min(points, key=lambda q: q["loss"])
        right = max((sum(e == ans[0] for _, e, ans in v if ans) for v in probe.values()), default=0)
        at = (f"step {left['step']}", f"{left['tokens'] / 1e6:.1f}M", f"{left['minutes']:.0f}") \
            if left else ("not yet", "", "")
        probed = f"{right}/{len(next(iter(probe.values()), []))}" if probe else "not probed"
        print(f"| {name} | {points[-1]['step']} | {' | '.join(at)} | {best['loss']:.3f} | "
              f"{100 * best['accuracy']:.1f}% | {probed} |")
    for name, (config, points, probe) in results.items():
        print(f"\n## {name}\n")
        if config is None:
            print("PyTorch (transformers' BertForMaskedLM), see torch_curve.sh.\n")
            print("| step | tokens | training minutes | eval loss | perplexity | MLM accuracy |")
            print("|---|---|---|---|---|---|")
            for q in points:
                print(f"| {q['step']} | {q['tokens'] / 1e6:.1f}M | {q['minutes']:.1f} | "
                      f"{q['loss']:.3f} | {q['perplexity']:.0f} | {100 * q['accuracy']:.1f}% |")
            continue
        m, t, d = config["model"], config["train"], config["data"]
        print(f"{m['layers']} layers x {m['hidden']}, {m['heads']} heads, FFN {m['ffn']}, "
              f"{m['norm']}-LN, {m['positions']} positions, dropout {m['dropout']}, init "
              f"{m['init']}; sequence {d['seq_len']}, batch {t['batch_size']} x "
              f"{t.get('grad_accum', 1)}, lr {t['lr']}, warmup {t['warmup_steps']}, "
              f"{t['schedule']} decay over {t['steps']} steps.\n")
        print("| step | tokens | training minutes | eval loss | perplexity | MLM accuracy | "
              "probes right | top-1 answers |")
        print("|---|---|---|---|---|---|---|---|")
        for q in points:
            v = probe.get(q["step"], [])
            right = sum(e == ans[0] for _, e, ans in v if ans)
            tops = ", ".join(ans[0] if ans else "?" for _, _, ans in v)
            print(f"| {q['step']} | {q['tokens'] / 1e6:.1f}M | {q['minutes']:.1f} | "
                  f"{q['loss']:.3f} | {q['perplexity']:.0f} | {100 * q['accuracy']:.1f}% | "
                  f"{right}/{len(v)} | {tops} |")
        if probe:
            last = max(probe)
            print(f"\nFill-mask at step {last} (top 3):\n")
            for text, expected, answers in probe[last]:
                print(f"- `{text}` (expected {expected}): {', '.join(answers)}")
    if a.png:
        plot(results, base, a.png, a.title)


def plot(results, base, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for name, (config, points, _) in results.items():
        if not points:
            continue
        style = {"marker": "o", "ms": 3, "label": name, "ls": "--" if config is None else "-"}
        tokens = [q["tokens"] / 1e6 for q in points]
        axes[0].plot(tokens, [q["loss"] for q in points], **style)
        axes[1].plot([q["minutes"] for q in points], [q["loss"] for q in points], **style)
        axes[2].plot(tokens, [100 * q["accuracy"] for q in points], **style)
    for ax in axes[:2]:
        ax.axhline(base["unigram_loss"], color="grey", ls="--", lw=1, label="unigram baseline")
        ax.axhline(base["frequency_copy_loss"], color="black", ls=":", lw=1,
                   label="frequency + copy baseline")
        ax.set_ylabel("eval loss (nats)")
    axes[2].axhline(100 * base["frequency_copy_accuracy"], color="black", ls=":", lw=1,
                    label="frequency + copy baseline")
    axes[2].set_ylabel("MLM accuracy (%)")
    axes[0].set_xlabel("tokens seen (millions)")
    axes[1].set_xlabel("training minutes, 2 cores")
    axes[2].set_xlabel("tokens seen (millions)")
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()

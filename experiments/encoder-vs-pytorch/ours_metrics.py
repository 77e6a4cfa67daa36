#!/usr/bin/env python3
"""Reads the TensorBoard scalars of one of our `train encoder` runs and writes them in the metrics
JSON format of torch_mlm.py, so that summarize.py treats both tools alike.

usage: ours_metrics.py RUN_DIR --out metrics.json --tool ours --steps 500 --eval-every 100
                       [--log-every 10] [--tokens-per-step 4096] [--skip 10]

Steady-state tokens/s: train/tokens_per_sec logged at step s is the rate over the steps since the
previous log (s - log_every, s]. The intervals that start after step `skip` are combined as total
tokens / total seconds (seconds of an interval = its tokens / its rate). `train encoder` leaves
the time of evaluations and checkpoints out of these rates, as PyTorch's per-step timer does.
"""
import argparse
import glob
import json
import os
import sys

from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator


def main():
    p = argparse.ArgumentParser()
    p.add_argument("run_dir")
    p.add_argument("--out", required=True)
    p.add_argument("--tool", default="ours")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--eval-every", type=int, required=True)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--tokens-per-step", type=int, default=32 * 128)
    p.add_argument("--skip", type=int, default=10)
    a = p.parse_args()

    files = sorted(glob.glob(os.path.join(a.run_dir, "events.out.tfevents.*")))
    if not files:
        sys.exit("%s: no events.out.tfevents.* file" % a.run_dir)
    ea = EventAccumulator(files[-1], size_guidance={SCALARS: 0})
    ea.Reload()
    tags = set(ea.Tags().get("scalars", []))

    def scalars(tag):
        return {e.step: e.value for e in ea.Scalars(tag)} if tag in tags else {}

    loss, lr, gn, rate = (scalars(t) for t in
                          ("train/loss", "train/lr", "train/grad_norm", "train/tokens_per_sec"))
    eloss, eacc = scalars("eval/loss"), scalars("eval/mlm_accuracy")
    tokens = seconds = 0.0
    used = []
    prev = None
    for s in sorted(rate):
        start = prev if prev is not None else s - a.log_every  # interval (start, s]
        prev = s
        if start < a.skip or rate[s] <= 0:
            continue
        t = (s - start) * a.tokens_per_step
        tokens += t
        seconds += t / rate[s]
        used.append(s)

    result = {
        "tool": a.tool,
        "steps": a.steps,
        "tokens_per_step": a.tokens_per_step,
        "train": [{"step": s, "loss": loss[s], "lr": lr.get(s), "grad_norm": gn.get(s),
                   "tokens_per_s": rate.get(s)} for s in sorted(loss)],
        "eval": [{"step": s, "loss": eloss[s], "accuracy": eacc.get(s)} for s in sorted(eloss)],
        "steady": {"from_step": a.skip + 1, "tokens": tokens, "seconds": seconds,
                   "tokens_per_s": tokens / seconds if seconds > 0 else None,
                   "intervals_used": used},
    }
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf8") as f:
        json.dump(result, f)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()

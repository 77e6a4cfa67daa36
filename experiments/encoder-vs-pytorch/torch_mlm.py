#!/usr/bin/env python3
"""The PyTorch side of experiments/encoder-vs-pytorch: HF transformers' BertForMaskedLM pretrained
with the configuration and data pipeline of our `train encoder` (see README.md).

  torch_mlm.py prepare --tokenizer tokenizer.json --text corpus.txt --out ids.npy
      Tokenizes a corpus as ours does (each non-empty line a document, no special tokens, [SEP]
      after every document) into a flat uint32 array. Run once per corpus, outside the timed and
      memory-measured training run (ours caches its token stream the same way).

  torch_mlm.py train --tokenizer tokenizer.json --train-ids ids.npy --valid-ids valid.npy \
      --steps 500 --eval-every 100 --threads 2 --out metrics.json
      Packs both streams into [CLS] + 126 ids + [SEP] sequences, trains with dynamic BERT masking,
      evaluates on the held-out sequences with fixed masks, and writes per-step losses and timings.
"""
import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def current_rss_mib():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def special_ids(tok):
    ids = {}
    for name in SPECIALS:
        i = tok.token_to_id(name)
        if i is None:
            sys.exit("tokenizer has no %s token" % name)
        ids[name] = i
    return ids


# ------------------------------------------------------------------------------------- prepare
def prepare(a):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(a.tokenizer)
    sep = special_ids(tok)["[SEP]"]
    chunks = []
    batch = []
    total = 0

    def flush():
        nonlocal total
        if not batch:
            return
        for enc in tok.encode_batch(batch, add_special_tokens=False):
            ids = enc.ids
            arr = np.empty(len(ids) + 1, dtype=np.uint32)
            arr[:-1] = ids
            arr[-1] = sep
            chunks.append(arr)
            total += len(arr)
        batch.clear()

    t0 = time.perf_counter()
    with open(a.text, encoding="utf-8", errors="replace", newline="\n") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip():
                batch.append(line)
                if len(batch) == 4096:
                    flush()
    flush()
    ids = np.concatenate(chunks) if chunks else np.empty(0, dtype=np.uint32)
    tmp = a.out + ".tmp.npy"
    np.save(tmp, ids)
    os.replace(tmp, a.out)
    log("%s: %d ids (with [SEP] after each document) in %.1fs -> %s"
        % (a.text, total, time.perf_counter() - t0, a.out))


# --------------------------------------------------------------------------------------- train
def pack(stream, seq_len, cls, sep):
    """[CLS] + chunk + [SEP] for every whole chunk of seq_len - 2 ids (the tail is dropped)."""
    body = seq_len - 2
    n = len(stream) // body
    if n == 0:
        sys.exit("%d ids do not fill one sequence of %d" % (len(stream), seq_len))
    out = np.empty((n, seq_len), dtype=np.int64)
    out[:, 0] = cls
    out[:, 1:-1] = stream[: n * body].reshape(n, body)
    out[:, -1] = sep
    return out


def mask_batch(x, rng, sp, vocab, p):
    """BERT masking as ours does it: every non-special position ([CLS], [SEP], [PAD] are special)
    is chosen with probability p; chosen ones become [MASK] 80%, a random regular token (ids after
    the 5 specials) 10%, stay unchanged 10%. Returns (inputs, flat positions, targets)."""
    special = (x == sp["[CLS]"]) | (x == sp["[SEP]"]) | (x == sp["[PAD]"])
    chosen = (rng.random(x.shape) < p) & ~special
    action = rng.integers(0, 10, size=x.shape)
    inputs = x.copy()
    inputs[chosen & (action < 8)] = sp["[MASK]"]
    rand = chosen & (action == 8)
    inputs[rand] = rng.integers(len(SPECIALS), vocab, size=int(rand.sum()))
    flat = np.flatnonzero(chosen.reshape(-1))
    return inputs, flat, x.reshape(-1)[flat]


def train(a):
    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(a.threads))
    t_start = time.perf_counter()
    import torch
    import torch.nn.functional as F
    import transformers
    import tokenizers
    from tokenizers import Tokenizer
    from transformers import BertConfig, BertForMaskedLM, get_linear_schedule_with_warmup

    # Resident memory of the bare imports (PyPI's torch is the CUDA build: its libraries alone
    # are several hundred MiB resident, no GPU used), reported beside the peak RSS.
    rss_imports = current_rss_mib()
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(a.threads)
    except RuntimeError:
        pass
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    tok = Tokenizer.from_file(a.tokenizer)
    sp = special_ids(tok)
    vocab = tok.get_vocab_size(with_added_tokens=True)
    train_seqs = pack(np.load(a.train_ids, mmap_mode="r"), a.seq_len, sp["[CLS]"], sp["[SEP]"])
    valid_seqs = pack(np.load(a.valid_ids, mmap_mode="r"), a.seq_len, sp["[CLS]"], sp["[SEP]"])
    log("tokenizer: %d tokens; %d training and %d held-out sequences of %d"
        % (vocab, len(train_seqs), len(valid_seqs), a.seq_len))

    config = BertConfig(
        vocab_size=vocab,
        hidden_size=a.hidden,
        num_hidden_layers=a.layers,
        num_attention_heads=a.heads,
        intermediate_size=a.ffn,
        hidden_act="gelu",
        hidden_dropout_prob=a.dropout,
        attention_probs_dropout_prob=a.dropout,
        max_position_embeddings=a.seq_len,
        type_vocab_size=1,  # ours has no segment embeddings; one type = a constant learned vector
        pad_token_id=sp["[PAD]"],
        tie_word_embeddings=True,
    )
    model = BertForMaskedLM(config)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    log("BertForMaskedLM: %d parameters, attention implementation %s"
        % (n_params, getattr(model.config, "_attn_implementation", "?")))

    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]  # biases and LayerNorm weights
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": a.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=a.lr, betas=(0.9, 0.999), eps=a.adam_eps)
    sched = get_linear_schedule_with_warmup(opt, a.warmup, a.steps)
    params = list(model.parameters())

    # Fixed eval masks: drawn once, reused at every evaluation.
    erng = np.random.default_rng(0xE7A1 + a.seed)
    eval_batches = []
    for i in range(0, len(valid_seqs), a.batch):
        x = valid_seqs[i: i + a.batch]
        inputs, flat, targets = mask_batch(x, erng, sp, vocab, a.mask_prob)
        if len(flat):
            eval_batches.append((torch.from_numpy(inputs), torch.from_numpy(flat),
                                 torch.from_numpy(targets)))

    def mlm_loss(inputs, flat, targets, reduction="mean"):
        if a.logits == "all":
            # HF's standard path: logits for every position, loss on the labelled ones.
            labels = torch.full((inputs.numel(),), -100, dtype=torch.long)
            labels[flat] = targets
            out = model(input_ids=inputs, labels=labels.view_as(inputs))
            if reduction == "sum":
                return out.loss * len(flat), out.logits.view(-1, vocab)[flat]
            return out.loss, None
        # Same modules, logits only at the masked positions (as ours computes them).
        hidden = model.bert(input_ids=inputs)[0]
        logits = model.cls(hidden.reshape(-1, hidden.shape[-1])[flat])
        return F.cross_entropy(logits, targets, reduction=reduction), logits

    def evaluate(step):
        t0 = time.perf_counter()
        model.eval()
        loss_sum, correct, count = 0.0, 0, 0
        with torch.inference_mode():
            for inputs, flat, targets in eval_batches:
                loss, logits = mlm_loss(inputs, flat, targets, reduction="sum")
                loss_sum += float(loss)
                correct += int((logits.argmax(-1) == targets).sum())
                count += len(targets)
        model.train()
        loss = loss_sum / max(count, 1)
        acc = correct / max(count, 1)
        log("step %d: eval loss %.4f, perplexity %.2f, MLM accuracy %.1f%% (%d masked tokens, %.1fs)"
            % (step, loss, math.exp(min(loss, 50)), 100 * acc, count, time.perf_counter() - t0))
        return [step, loss, acc, time.perf_counter() - t0]

    setup_s = time.perf_counter() - t_start
    tokens_per_step = a.batch * a.seq_len
    order = rng.permutation(len(train_seqs))
    cursor = 0
    rows, evals = [], []
    interval_t, interval_tok = 0.0, 0
    last = min(a.stop_at or a.steps, a.steps)
    for step in range(1, last + 1):
        t0 = time.perf_counter()
        idx = []
        while len(idx) < min(a.batch, len(train_seqs)):
            if cursor == len(order):
                order = rng.permutation(len(train_seqs))
                cursor = 0
            take = min(a.batch - len(idx), len(order) - cursor)
            idx.extend(order[cursor: cursor + take])
            cursor += take
        inputs, flat, targets = mask_batch(train_seqs[idx], rng, sp, vocab, a.mask_prob)
        lr = sched.get_last_lr()[0]
        loss, _ = mlm_loss(torch.from_numpy(inputs), torch.from_numpy(flat), torch.from_numpy(targets))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, a.grad_clip))
        opt.step()
        sched.step()
        loss_v = loss.detach().item()
        dt = time.perf_counter() - t0
        rows.append([step, loss_v, lr, grad_norm, dt])
        interval_t += dt
        interval_tok += tokens_per_step
        if step % a.log_every == 0 or step == last:
            log("step %d/%d: loss %.4f, lr %.2e, grad norm %.3f, %.0f tokens/s (%.3fs a step)"
                % (step, a.steps, loss_v, lr, grad_norm, interval_tok / interval_t,
                   interval_t * tokens_per_step / interval_tok))
            interval_t, interval_tok = 0.0, 0
        if step % a.eval_every == 0 or step == last:
            evals.append(evaluate(step))

    skip = min(a.skip, len(rows))
    steady_s = sum(r[4] for r in rows[skip:])
    steady_tok = tokens_per_step * (len(rows) - skip)
    result = {
        "tool": a.tool,
        "steps": a.steps,
        "stopped_at": last,
        "tokens_per_step": tokens_per_step,
        "threads": a.threads,
        "logits": a.logits,
        "parameters": n_params,
        "setup_s": setup_s,
        "rss_after_imports_mib": rss_imports,
        "train": [{"step": r[0], "loss": r[1], "lr": r[2], "grad_norm": r[3], "seconds": r[4]}
                  for r in rows],
        "eval": [{"step": e[0], "loss": e[1], "accuracy": e[2], "seconds": e[3]} for e in evals],
        "steady": {"from_step": skip + 1, "tokens": steady_tok, "seconds": steady_s,
                   "tokens_per_s": steady_tok / steady_s if steady_s > 0 else None},
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "numpy": np.__version__, "torch_threads": torch.get_num_threads()},
    }
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf8") as f:
        json.dump(result, f)
    os.replace(tmp, a.out)
    st = result["steady"]
    log("steady state (steps %d-%d): %.0f tokens/s; %d steps in %.1fs training"
        % (st["from_step"], last, st["tokens_per_s"] or 0, last, sum(r[4] for r in rows)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("prepare")
    q.add_argument("--tokenizer", required=True)
    q.add_argument("--text", required=True)
    q.add_argument("--out", required=True)
    t = sub.add_parser("train")
    t.add_argument("--tokenizer", required=True)
    t.add_argument("--train-ids", required=True)
    t.add_argument("--valid-ids", required=True)
    t.add_argument("--out", required=True, help="metrics JSON")
    t.add_argument("--tool", default="torch")
    t.add_argument("--steps", type=int, default=500)
    t.add_argument("--stop-at", type=int, default=0,
                   help="stop after this step (0: --steps), the schedule still spanning --steps")
    t.add_argument("--eval-every", type=int, default=100)
    t.add_argument("--log-every", type=int, default=10)
    t.add_argument("--skip", type=int, default=10, help="first steps left out of the steady-state rate")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--seq-len", type=int, default=128)
    t.add_argument("--batch", type=int, default=32)
    t.add_argument("--layers", type=int, default=4)
    t.add_argument("--hidden", type=int, default=256)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--ffn", type=int, default=1024)
    t.add_argument("--dropout", type=float, default=0.1)
    t.add_argument("--lr", type=float, default=5e-4)
    t.add_argument("--warmup", type=int, default=100)
    t.add_argument("--weight-decay", type=float, default=0.01)
    t.add_argument("--grad-clip", type=float, default=1.0)
    t.add_argument("--mask-prob", type=float, default=0.15)
    t.add_argument("--adam-eps", type=float, default=1e-5,
                   help="AdamW epsilon; 1e-5 is burn's AdamWConfig default, which ours uses")
    t.add_argument("--logits", choices=("masked", "all"), default="masked",
                   help="masked: MLM head on the masked positions only (as ours); "
                        "all: HF's forward(labels=...), logits for every position")
    a = p.parse_args()
    if a.cmd == "prepare":
        prepare(a)
    else:
        train(a)


if __name__ == "__main__":
    main()

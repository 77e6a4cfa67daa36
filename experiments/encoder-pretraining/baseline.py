"""The losses of models that know only token frequencies, on the held-out masked tokens: what an
encoder's eval loss must get clearly below to show it uses context.

usage: baseline.py TOKENIZER_JSON TRAIN_TXT VALID_TXT > baseline.json

Two baselines, from the training corpus' token frequencies p (add-one smoothed):
- unigram: every masked token predicted by p; its loss is the cross-entropy H of the held-out
  tokens under p, and its accuracy the share of the most frequent token.
- frequency + copy: the best a model can do that knows p and BERT's masking (80% [MASK], 10% a
  token drawn uniformly from the V_r regular tokens, 10% unchanged) but no context. At [MASK] it
  predicts p (loss H). Where it sees a real token x it cannot tell an unchanged target from a
  random replacement, so it predicts P(y = x | x) = p(x)(1 + 1/V_r) / (p(x) + 1/V_r) and
  P(y | x) = p(y)/V_r / (p(x) + 1/V_r) for y != x. This is where an encoder that has not yet
  learned to use context sits: its "plateau".
Targets are every non-special held-out token, as the masking draws them uniformly.
"""
import json
import os
import sys

import numpy as np
from tokenizers import Tokenizer

SPECIAL = 5           # [PAD] [UNK] [CLS] [SEP] [MASK] are ids 0..4; regular tokens follow
MASK, RANDOM, KEEP = 0.8, 0.1, 0.1


def counts(tokenizer, path, size):
    total = np.zeros(size, dtype=np.int64)
    with open(path, encoding="utf-8") as f:
        batch = []
        for line in f:
            batch.append(line)
            if len(batch) == 10_000:
                total += count(tokenizer, batch, size)
                batch = []
        total += count(tokenizer, batch, size)
    return total


def count(tokenizer, lines, size):
    ids = [i for e in tokenizer.encode_batch(lines, add_special_tokens=False) for i in e.ids]
    return np.bincount(np.asarray(ids, dtype=np.int64), minlength=size)[:size]


def main(tokenizer_path, train_path, valid_path):
    tokenizer = Tokenizer.from_file(tokenizer_path)
    size = tokenizer.get_vocab_size(with_added_tokens=True)
    train = counts(tokenizer, train_path, size)
    valid = counts(tokenizer, valid_path, size)
    valid[[0, 2, 3, 4]] = 0  # never targets ([UNK] is a token like any other)
    p = (train + 1) / (train.sum() + size)
    lp = np.log(p)
    w = valid / valid.sum()
    unigram = float(-(w * lp).sum())
    v_r = size - SPECIAL
    regular = p[SPECIAL:]
    keep = float(-(w * np.log(p * (1 + 1 / v_r) / (p + 1 / v_r))).sum())
    random = unigram + np.log(v_r) + float(np.log(regular + 1 / v_r).mean())
    copy_loss = MASK * unigram + KEEP * keep + RANDOM * random
    top = int(np.argmax(train[SPECIAL:])) + SPECIAL
    # Unchanged targets are copied (right) and random ones copied too (wrong) wherever copying
    # beats the most frequent token, which is for all but the rarest tokens.
    copy_right = float((w * (p * (1 + 1 / v_r) > p[top] / v_r)).sum())
    json.dump({
        "valid": os.path.basename(valid_path),
        "vocab_size": size,
        "train_tokens": int(train.sum()),
        "valid_tokens": int(valid.sum()),
        "most_frequent": tokenizer.id_to_token(top),
        "unigram_loss": unigram,
        "unigram_accuracy": float(w[top]),
        "frequency_copy_loss": copy_loss,
        "frequency_copy_accuracy": MASK * float(w[top]) + KEEP * copy_right,
    }, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])

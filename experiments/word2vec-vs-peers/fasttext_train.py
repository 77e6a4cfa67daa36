#!/usr/bin/env python3
"""Train fastText (the `fasttext-wheel` build of fastText 0.9.2) as a plain word2vec: no subwords
(minn = maxn = 0, no hash buckets), and save the vectors in word2vec binary format.

fastText's own settings that differ from word2vec.c's are left as fastText has them (a user who
picks fastText gets them): a newline is the token </s>, and the learning rate decays linearly to 0
over the run, updated every 100 tokens.
"""
import argparse

import fasttext


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--corpus", required=True, help="plain text, one sentence per line, space-separated tokens")
    p.add_argument("--out", required=True, help="output vectors, word2vec binary format")
    p.add_argument("--sg", type=int, default=1, help="1 = skip-gram, 0 = CBOW")
    p.add_argument("--hs", type=int, default=0, help="1 = hierarchical softmax instead of negative sampling")
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--alpha", type=float, default=0.025)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-4)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()

    model = fasttext.train_unsupervised(
        a.corpus,
        model="skipgram" if a.sg else "cbow",
        lr=a.alpha,
        dim=a.dim,
        ws=a.window,
        epoch=a.epochs,
        minCount=a.min_count,
        minn=0,
        maxn=0,
        bucket=0,
        neg=max(a.negative, 1),
        loss="hs" if a.hs else "ns",
        t=a.sample,
        thread=a.threads,
        verbose=0,
    )
    words = model.get_words()
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"%d %d\n" % (len(words), a.dim))
        for w in words:
            f.write(w.encode("utf8") + b" " + model.get_word_vector(w).astype("<f4").tobytes() + b"\n")
    import os

    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()

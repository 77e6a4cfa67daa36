#!/usr/bin/env python3
"""Train gensim 4.x Word2Vec in corpus_file mode and save the vectors in word2vec binary format.

Mirrors word2vec.c's settings: min_alpha = alpha * 1e-4 (word2vec.c floors its linearly decaying
learning rate at starting_alpha * 1e-4; gensim's default min_alpha is an absolute 1e-4),
cbow_mean=1 (word2vec.c averages the context vectors for CBOW).
"""
import argparse
import logging
import time

from gensim.models import Word2Vec


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--corpus", required=True, help="plain text, one sentence per line, space-separated tokens")
    p.add_argument("--out", required=True, help="output vectors, word2vec binary format")
    p.add_argument("--sg", type=int, default=1, help="1 = skip-gram, 0 = CBOW")
    p.add_argument("--hs", type=int, default=0)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--alpha", type=float, default=0.025)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-4)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cbow-mean", type=int, default=1)
    a = p.parse_args()

    logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s", level=logging.INFO)
    t0 = time.time()
    model = Word2Vec(
        corpus_file=a.corpus,
        vector_size=a.dim,
        window=a.window,
        min_count=a.min_count,
        sample=a.sample,
        sg=a.sg,
        hs=a.hs,
        negative=a.negative,
        cbow_mean=a.cbow_mean,
        alpha=a.alpha,
        min_alpha=a.alpha * 1e-4,
        epochs=a.epochs,
        workers=a.threads,
        seed=a.seed,
    )
    t1 = time.time()
    model.wv.save_word2vec_format(a.out, binary=True)
    t2 = time.time()
    logging.info("gensim_train: vocab %d, train %.2fs, save %.2fs", len(model.wv), t1 - t0, t2 - t1)


if __name__ == "__main__":
    main()

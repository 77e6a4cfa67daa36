#!/usr/bin/env python3
"""Evaluate word vectors with gensim, printing the same JSON as `train eval --json`.

  {"analogy": {"questions-words": {"accuracy": .., "coverage": .., "correct": n, "evaluated": n,
                                   "total": n, "sections": {NAME: {"accuracy", "correct", "total"}}}},
   "similarity": {"ws353": {"spearman": .., "pearson": .., "coverage": .., "pairs": n, "total": n}, ...}}

Conventions (gensim's): analogies are restricted to the `--restrict` most frequent words, case
insensitive, the three question words are excluded from the answer; accuracy = correct / questions
whose four words are all in the restricted vocabulary, coverage = those / all questions. Similarity
uses evaluate_word_pairs(restrict_vocab=300000, case_insensitive=True), which returns
(pearson, spearman, oov_ratio in percent); coverage = 1 - oov_ratio / 100.
Names are the file names without extension. Accuracy and coverage are fractions (0..1).
"""
import argparse
import json
import logging
import os
import sys

from gensim.models import KeyedVectors


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def count_questions(path):
    n = 0
    with open(path, encoding="utf8") as f:
        for line in f:
            if line.strip() and not line.startswith(":"):
                n += 1
    return n


def count_pairs(path):
    n = 0
    with open(path, encoding="utf8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                n += 1
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vectors", required=True, help="word2vec format vectors (binary unless --text)")
    p.add_argument("--text", action="store_true", help="vectors are in word2vec text format")
    p.add_argument("--analogy", action="append", default=[], help="questions-words style file")
    p.add_argument("--similarity", action="append", default=[], help="word1<TAB>word2<TAB>score file")
    p.add_argument("--restrict", type=int, default=30000, help="analogy vocabulary restriction")
    p.add_argument("--sim-restrict", type=int, default=300000, help="similarity vocabulary restriction")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)

    kv = KeyedVectors.load_word2vec_format(a.vectors, binary=not a.text, unicode_errors="replace")
    out = {"analogy": {}, "similarity": {}, "vocab": len(kv), "dim": kv.vector_size, "evaluator": "gensim"}
    for path in a.analogy:
        score, sections = kv.evaluate_word_analogies(path, restrict_vocab=a.restrict, case_insensitive=True)
        total = count_questions(path)
        secs = {}
        correct = evaluated = 0
        for s in sections:
            c, i = len(s["correct"]), len(s["incorrect"])
            if s["section"] == "Total accuracy":
                correct, evaluated = c, c + i
                continue
            secs[s["section"]] = {"accuracy": c / (c + i) if c + i else None, "correct": c, "total": c + i}
        out["analogy"][stem(path)] = {
            "accuracy": float(score),
            "coverage": evaluated / total if total else 0.0,
            "correct": correct,
            "evaluated": evaluated,
            "total": total,
            "sections": secs,
        }
    for path in a.similarity:
        pearson, spearman, oov = kv.evaluate_word_pairs(
            path, delimiter="\t", restrict_vocab=a.sim_restrict, case_insensitive=True
        )
        total = count_pairs(path)
        cov = 1.0 - float(oov) / 100.0
        out["similarity"][stem(path)] = {
            "spearman": float(spearman[0]),
            "pearson": float(pearson[0]),
            "coverage": cov,
            "pairs": round(cov * total),
            "total": total,
        }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

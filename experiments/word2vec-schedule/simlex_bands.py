#!/usr/bin/env python3
"""SimLex-999 by frequency band, for groups of vectors files (one group per tool or setting, one
file per seed): for each group, the mean over its files of Spearman's rho on all pairs and on the
pairs whose rarer word falls in each band of vocabulary ranks, and the mean cosine of the band's
pairs. Shows where two settings differ, not only by how much. Each group takes the ranks, and
which pairs its vocabulary covers, from its first file (seeds of one setting share a vocabulary).

Usage: simlex_bands.py NAME=GLOB [NAME=GLOB ...]   e.g., after run.sh,
  simlex_bands.py "ours=work/runs/cbow-ns-e1-rule-s*/vectors.bin" \
                  "gensim=work/runs/cbow-ns-e1-gensim-w2-s*.bin"
Needs numpy, scipy and gensim (its reader; the gensim virtualenv of run.sh has all three);
SIMLEX=path overrides the set.
"""
import glob
import os
import sys

import numpy as np
from gensim.models import KeyedVectors
from scipy.stats import spearmanr

BANDS = [(0, 2000), (2000, 8000), (8000, 20000), (20000, None)]
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared")
SIMLEX = os.environ.get("SIMLEX", os.path.join(SHARED, "data/eval/simlex999.tsv"))


def read_pairs(path):
    """The (word, word, score) lines of a similarity file."""
    pairs = []
    for line in open(path, encoding="utf8"):
        fields = line.split()
        try:
            pairs.append((fields[0], fields[1], float(fields[2])))
        except (IndexError, ValueError):
            continue  # a header or a blank line
    return pairs


def read_vectors(path, wanted):
    """Unit vectors and vocabulary ranks of the `wanted` words of a word2vec binary file."""
    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    found = [w for w in wanted if w in kv.key_to_index]
    vectors = {w: kv[w] / np.linalg.norm(kv[w]) for w in found}
    return vectors, {w: kv.key_to_index[w] for w in found}


def main():
    """One table row per NAME=GLOB argument."""
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    pairs = read_pairs(SIMLEX)
    gold = np.array([s for _, _, s in pairs])
    wanted = {w for a, b, _ in pairs for w in (a, b)}
    bands = " | ".join(f"ranks {lo}-{hi or 'end'} (ρ, mean cos)" for lo, hi in BANDS)
    print(f"| group | files | all pairs | {bands} |")
    print("|---|---|---|" + "---|" * len(BANDS))
    for spec in sys.argv[1:]:
        name, pattern = spec.split("=", 1)
        files = sorted(glob.glob(pattern))
        if not files:
            sys.exit(f"no files match {pattern}")
        rows, band_of = [], None
        for path in files:
            vectors, ranks = read_vectors(path, wanted)
            rows.append([float(vectors[a] @ vectors[b]) if a in vectors and b in vectors
                         else np.nan for a, b, _ in pairs])
            if band_of is None:
                band_of = np.array([max(ranks.get(a, 1 << 30), ranks.get(b, 1 << 30))
                                    for a, b, _ in pairs])
        cos = np.array(rows)
        ok = ~np.isnan(cos[0])
        cells = [f"{np.mean([spearmanr(r[ok], gold[ok])[0] for r in cos]):.4f}"]
        for lo, hi in BANDS:
            m = ok & (band_of >= lo) & (band_of < (hi or 1 << 31))
            rho = np.mean([spearmanr(r[m], gold[m])[0] for r in cos])
            cells.append(f"{rho:.3f}, {cos[:, m].mean():.3f} (n={m.sum()})")
        print(f"| {name} | {len(files)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

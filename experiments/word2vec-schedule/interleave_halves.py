"""Writes a corpus whose lines alternate between its first and second half (split by tokens):
a1 b1 a2 b2 ... Trained with 2 threads, which take consecutive batches, this approximates the
data order of gensim's corpus_file mode and word2vec.c, whose 2 workers each read their own half
of the file at the same time.

usage: interleave_halves.py CORPUS OUT
"""
import os
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    total = sum(len(line.split()) for line in lines)
    seen, cut = 0, len(lines)
    for i, line in enumerate(lines):
        seen += len(line.split())
        if seen >= total / 2:
            cut = i + 1
            break
    first, second = lines[:cut], lines[cut:]
    mixed = []
    for i in range(max(len(first), len(second))):
        mixed.extend(half[i] for half in (first, second) if i < len(half))
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(mixed) + "\n")
    os.replace(out + ".tmp", out)
    print(f"{len(first)} + {len(second)} lines -> {out}")


if __name__ == "__main__":
    main()

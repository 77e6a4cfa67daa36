"""Writes a corpus whose lines alternate between its first and second half (split by tokens):
a1 b1 a2 b2 ... Trained with 2 threads, which take consecutive batches, this approximates the
data order of gensim's corpus_file mode and word2vec.c, whose 2 workers each read their own half
of the file at the same time. (interleave_blocks.py alternates blocks of lines instead.)

usage: interleave_halves.py CORPUS OUT
"""
import sys

from interleave_blocks import halves, read_lines, write_alternating


def main():
    src, out = sys.argv[1], sys.argv[2]
    first, second = halves(read_lines(src))
    write_alternating([[line] for line in first], [[line] for line in second], out)
    print(f"{len(first)} + {len(second)} lines -> {out}")


if __name__ == "__main__":
    main()

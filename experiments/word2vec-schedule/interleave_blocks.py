"""Writes a corpus whose blocks of about BLOCK tokens (whole lines) alternate between its first
and second half: A1 B1 A2 B2 ... Trained with 2 threads, which take consecutive batches of
10,000 tokens, each thread then reads contiguous text of one half most of the time while the
other half trains beside it: closer to gensim's corpus_file workers (each its own half) than
interleave_halves.py's alternating lines.

usage: interleave_blocks.py CORPUS OUT [BLOCK=10000]
"""
import os
import sys


def halves(lines):
    """The lines before and after the middle token."""
    total = sum(len(line.split()) for line in lines)
    seen = 0
    for i, line in enumerate(lines):
        seen += len(line.split())
        if seen >= total / 2:
            return lines[: i + 1], lines[i + 1 :]
    return lines, []


def blocks(lines, size):
    """Consecutive runs of whole lines holding at least `size` tokens (the last may hold fewer)."""
    block, tokens = [], 0
    for line in lines:
        block.append(line)
        tokens += len(line.split())
        if tokens >= size:
            yield block
            block, tokens = [], 0
    if block:
        yield block


def read_lines(path):
    """The file's lines, without the newline after the last one."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def write_alternating(first, second, out):
    """Writes the groups of lines of `first` and `second` in turn (the longer one's rest at the
    end) to `out`, through a temporary name."""
    mixed = []
    for i in range(max(len(first), len(second))):
        for half in (first, second):
            if i < len(half):
                mixed.extend(half[i])
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(mixed) + "\n")
    os.replace(out + ".tmp", out)


def main():
    src, out = sys.argv[1], sys.argv[2]
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    first, second = (list(blocks(h, size)) for h in halves(read_lines(src)))
    write_alternating(first, second, out)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Seeds corpus/<target>/ with real files made by the train binary (a tiny Word2Vec run), so the
# fuzzer starts from valid inputs and mutates its way into the corners of each format.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(cd .. && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --manifest-path "$root/Cargo.toml" -p train --quiet
for i in $(seq 1 200); do echo "the cat sat on the mat $i and the dog ran"; done > "$work/c.txt"
gzip -k "$work/c.txt"
printf '[data]\ncorpus = "c.txt"\nmin_count = 1\n[model]\ndim = 4\n[train]\nepochs = 1\nthreads = 1\n[output]\ntext = true\n' > "$work/w2v.toml"
(cd "$work" && "$root/target/debug/train" word2vec --config w2v.toml --out run 2> /dev/null)
mkdir -p corpus/vectors corpus/checkpoint corpus/config corpus/corpus
# The targets that read two formats take a first byte that picks one (even: binary / plain).
{ printf '\0'; cat "$work/run/vectors.bin"; } > corpus/vectors/bin
{ printf '\1'; cat "$work/run/vectors.txt"; } > corpus/vectors/txt
cp "$work/run/checkpoint.w2v" corpus/checkpoint/tiny
cp "$work/run/config.toml" corpus/config/resolved
cp "$root/configs/word2vec.toml" corpus/config/shipped
{ printf '\0'; head -c 2000 "$work/c.txt"; } > corpus/corpus/plain
{ printf '\1'; cat "$work/c.txt.gz"; } > corpus/corpus/gzip
ls -l corpus/*

#!/usr/bin/env bash
# What checkpoints cost a Word2Vec run: the same skip-gram epoch on enwiki-10M with a checkpoint
# only at the epoch's end (train.checkpoint_every_words = 0), with the default (100M words: also
# only at the end of a 10M-word epoch) and every 1M words (ten pauses and writes an epoch),
# interleaved RUNS times; prints median wall seconds, words/s and the cost per checkpoint.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(cd ../.. && pwd)
train=${TRAIN:-$root/target/release/train}
corpus=${CORPUS:-work/enwiki-10M.txt}
runs=${RUNS:-3}
mkdir -p work
if [ ! -f "$corpus" ]; then
    xz -dc "$root/../shared/data/corpora/enwiki-10M.txt.xz" > "$corpus"
fi
printf '[data]\ncorpus = "%s"\n[model]\ndim = 100\n[train]\nepochs = 1\nthreads = 2\nsample = 1e-4\n' \
    "$corpus" > work/base.toml
declare -A every=([end]=0 [default]=100000000 [1M]=1000000)
for r in $(seq 1 "$runs"); do
    for name in end default 1M; do
        out=work/runs/$name-r$r
        rm -rf "$out"
        start=$(date +%s.%N)
        "$train" word2vec --config work/base.toml --out "$out" \
            --set train.checkpoint_every_words="${every[$name]}" 2> "work/$name-r$r.log"
        end=$(date +%s.%N)
        echo "$name $r $(echo "$end - $start" | bc) $(stat -c %s "$out/checkpoint.w2v")" \
            | tee -a work/times.txt
    done
done
python3 - "$runs" <<'PY'
import statistics, sys
rows = [l.split() for l in open("work/times.txt")][-3 * int(sys.argv[1]):]
med = {n: statistics.median(float(r[2]) for r in rows if r[0] == n) for n in ("end", "default", "1M")}
size = int(rows[0][3])
words = 10_000_027
for n, t in med.items():
    print(f"{n:8s} median {t:6.2f} s  {words / t / 1e6:5.2f} M words/s  ratio to end-only {med['end'] / t:.3f}")
print(f"checkpoint size {size / 1e6:.1f} MB; ten extra checkpoints cost {med['1M'] - med['end']:+.2f} s"
      f" ({(med['1M'] - med['end']) / 10 * 1000:+.0f} ms each)")
PY

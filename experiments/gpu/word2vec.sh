#!/usr/bin/env bash
# Word2Vec on one GPU, called by run.sh (or alone): our GPU engine (train.device = "wgpu")
# against our CPU engine (all cores) and gensim 4.4 (all cores, when it is importable), on
# enwiki-10M with the quality experiment's settings (dim 100, window 5, negative 5, sample 1e-4,
# min_count 5): words/s and quality (analogy, WS-353, SimLex-999) in one table.
#   BIN=path/to/train W=work/folder experiments/gpu/word2vec.sh
# Data: $W2V_DATA (a folder with corpora/enwiki-10M.txt.xz and eval/), else the copy build.sh
# carried into bin/data, else ../shared/data. SMOKE=1: 1,000 lines of enwiki-1M, one config.
# CONFIGS (default "sg-ns-e1 cbow-ns-e1 sg-ns-e3"), DEVICES (default "wgpu cpu") and BATCH_WORDS
# (the GPU runs' train.batch_words, one run per value; default: the crate's default) narrow or
# widen the table. gensim's rows need the CPU engine's run of the same config (its word count).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE/../.."
source "$HERE/vulkan-env.sh"
BIN="${BIN:-target/release/train}"
W="${W:-$HERE/work}/word2vec"
mkdir -p "$W"
DATA="${W2V_DATA:-}"
for d in "$HERE/bin/data" "$HERE/../../../shared/data"; do
    [ -z "$DATA" ] && [ -d "$d/eval" ] && DATA="$d"
done
[ -n "$DATA" ] || { echo "word2vec.sh: no data folder (set W2V_DATA)" >&2; exit 1; }
if [ -n "${SMOKE:-}" ]; then
    CORPUS="$W/smoke.txt"; CONFIGS="sg-ns-e1"
    xz -dc "$DATA/corpora/enwiki-1M.txt.xz" | head -n 1000 > "$CORPUS" || true
else
    CORPUS="$W/enwiki-10M.txt"
    [ -f "$CORPUS" ] || xz -dc "$DATA/corpora/enwiki-10M.txt.xz" > "$CORPUS"
    CONFIGS="${CONFIGS:-sg-ns-e1 cbow-ns-e1 sg-ns-e3}"
fi
DEVICES="${DEVICES:-wgpu cpu}"
BATCH_WORDS="${BATCH_WORDS:-default}"  # "default": the crate's train.batch_words
EVAL=(--analogy "$DATA/eval/questions-words.txt" --similarity "$DATA/eval/ws353.tsv"
      --similarity "$DATA/eval/simlex999.tsv" --restrict 30000)
CORES=$(nproc)
HAVE_GENSIM=0; python3 -c 'import gensim' 2> /dev/null && HAVE_GENSIM=1

printf '%-11s %-26s %12s %9s %8s %8s\n' config engine words/s analogy% WS353 SimLex > "$W/table.txt"
row() {  # config engine words/s eval.json
    python3 - "$@" >> "$W/table.txt" <<'PY'
import json, sys
config, engine, wps, path = sys.argv[1:]
e = json.load(open(path))
acc = e["analogy"]["questions-words"]["accuracy"] * 100
ws, sl = (e["similarity"][k]["spearman"] for k in ("ws353", "simlex999"))
print(f"{config:<11} {engine:<26} {float(wps):>12,.0f} {acc:>9.2f} {ws:>8.3f} {sl:>8.3f}")
PY
}
for config in $CONFIGS; do
    case "$config" in
        sg-ns-e1) arch=skipgram; alpha=0.025; epochs=1 ;;
        sg-ns-e3) arch=skipgram; alpha=0.025; epochs=3 ;;
        cbow-ns-e1) arch=cbow; alpha=0.05; epochs=1 ;;
    esac
    rm -f "$W/$config"-*.log
    for device in $DEVICES; do
        batches=0; [ "$device" = wgpu ] && batches="$BATCH_WORDS"
        for batch in $batches; do
            out="$W/$config-$device"; [ "$batch" = 0 ] || out="$out-$batch"
            rm -rf "$out"
            "$BIN" word2vec --config experiments/word2vec-vs-peers/base.toml --out "$out" \
                --set "data.corpus=\"$CORPUS\"" --set "model.arch=\"$arch\"" \
                --set "train.alpha=$alpha" --set "train.epochs=$epochs" --set "train.threads=0" \
                --set "train.device=\"$device\"" --set "train.log_every_secs=10" \
                $([ "$batch" = 0 ] || [ "$batch" = default ] || echo --set "train.batch_words=$batch") 2> "$out.log" \
                || { tail -3 "$out.log"; exit 1; }
            # The epochs' words and seconds, from "epoch 1: loss … , 940817 words in 22.1s (…)".
            wps=$(grep '^epoch ' "$out.log" | sed -E 's/.*examples, ([0-9]+) words in ([0-9.]+)s.*/\1 \2/' |
                awk '{w += $1; s += $2} END {print w / s}')
            "$BIN" eval --vectors "$out/vectors.bin" "${EVAL[@]}" --json > "$out.json"
            name="ours, CPU ($CORES threads)"
            if [ "$device" = wgpu ]; then
                gpu=$(grep -o '"name": "[^"]*"' "$out/device.json" | cut -d'"' -f4)
                name="ours, GPU ($gpu), batch $batch"
            fi
            row "$config" "$name" "$wps" "$out.json"
        done
    done
    if [ "$HAVE_GENSIM" = 1 ] && [ -f "$W/$config-cpu.log" ]; then
        sg=1; [ "$arch" = cbow ] && sg=0
        out="$W/$config-gensim"
        python3 experiments/word2vec-vs-peers/gensim_train.py --corpus "$CORPUS" --out "$out.bin" \
            --sg $sg --alpha $alpha --epochs $epochs --threads "$CORES" > "$out.out" 2> "$out.log"
        "$BIN" eval --vectors "$out.bin" "${EVAL[@]}" --json > "$out.json"
        # Our words (vocabulary words before subsampling, from the CPU run) over gensim's
        # training seconds ("EPOCH 0: training on … raw words (… effective words) took 23.1s").
        words=$(grep '^epoch ' "$W/$config-cpu.log" | sed -E 's/.*examples, ([0-9]+) words.*/\1/' |
            awk '{w += $1} END {print w}')
        wps=$(python3 -c 'import re, sys
took = re.findall(r"training on \d+ raw words .* took ([\d.]+)s", open(sys.argv[1]).read())
print(int(sys.argv[2]) / max(sum(map(float, took)), 1e-9))' "$out.log" "$words")
        row "$config" "gensim 4.4 ($CORES workers)" "${wps:-0}" "$out.json"
    else
        echo "$config: gensim is not installed here, or the CPU engine did not run; no gensim row" >> "$W/table.txt"
    fi
done
cat "$W/table.txt"

#!/usr/bin/env bash
# Does Word2Vec's GPU engine keep the CPU engine's quality? Trains the same configs with
# train.device = "cpu" and "wgpu" on enwiki (dim 100, window 5, negative 5, sample 1e-4,
# min_count 5: ../word2vec-vs-peers/base.toml), evaluates every vectors file with `train eval`
# (analogy on questions-words restricted to 30,000 words, Spearman on WS-353 and SimLex-999),
# checks that gensim loads the GPU's vectors, and prints one table with the differences.
# On a machine without a GPU, "wgpu" is lavapipe (Mesa's software Vulkan): slow, same kernels.
#   experiments/word2vec-gpu/run.sh
# Env (defaults in brackets):
#   CORPUS   1M | 10M                                                       [10M]
#   CONFIGS  subset of: sg-ns-e1 cbow-ns-e1 cbow-ns-e3 sg-hs-e1 sg-ns-e3     [all five]
#   DEVICES  subset of: cpu wgpu                                            [cpu wgpu]
#   TRAIN    our binary                                          [target/release/train]
#   DATA     shared data folder                                        [../shared/data]
#   GENSIM   1 = load each GPU vectors file with gensim (a virtualenv in work/)   [1]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
CORPUS="${CORPUS:-10M}"
CONFIGS="${CONFIGS:-sg-ns-e1 cbow-ns-e1 cbow-ns-e3 sg-hs-e1 sg-ns-e3}"
DEVICES="${DEVICES:-cpu wgpu}"
TRAIN="${TRAIN:-$ROOT/target/release/train}"
DATA="${DATA:-$ROOT/../shared/data}"
GENSIM="${GENSIM:-1}"
WORK="$HERE/work"
mkdir -p "$WORK"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

TXT="$WORK/enwiki-$CORPUS.txt"
[[ -f "$TXT" ]] || xz -dc "$DATA/corpora/enwiki-$CORPUS.txt.xz" > "$TXT"
QW="$DATA/eval/questions-words.txt"; WS="$DATA/eval/ws353.tsv"; SL="$DATA/eval/simlex999.tsv"
if [[ "$GENSIM" == 1 ]]; then
  PY="$WORK/.venv/bin/python"
  [[ -x "$PY" ]] || { python3 -m venv "$WORK/.venv" && "$PY" -m pip install -q "gensim==4.4.0"; }
fi

# config name -> arch hs negative alpha epochs (as in ../word2vec-vs-peers)
params() {
  case "$1" in
    sg-ns-e1)   echo "skipgram false 5 0.025 1" ;;
    sg-ns-e3)   echo "skipgram false 5 0.025 3" ;;
    cbow-ns-e1) echo "cbow false 5 0.05 1" ;;
    cbow-ns-e3) echo "cbow false 5 0.05 3" ;;
    sg-hs-e1)   echo "skipgram true 0 0.025 1" ;;
    *) echo "unknown config $1" >&2; exit 2 ;;
  esac
}

RESULTS="$WORK/results-$CORPUS.tsv"
for config in $CONFIGS; do
  read -r arch hs neg alpha epochs <<< "$(params "$config")"
  for device in $DEVICES; do
    out="$WORK/runs/$CORPUS/$config-$device"
    rm -rf "$out"; mkdir -p "$(dirname "$out")"
    log "$config on $device"
    "$TRAIN" word2vec --config experiments/word2vec-vs-peers/base.toml --out "$out" \
      --set "data.corpus=\"$TXT\"" --set "model.arch=\"$arch\"" --set "model.hs=$hs" \
      --set "model.negative=$neg" --set "train.alpha=$alpha" --set "train.epochs=$epochs" \
      --set "train.device=\"$device\"" --set "train.log_every_secs=30" 2> "$out.log" \
      || { tail -3 "$out.log"; exit 1; }
    # "epoch 1: loss 2.9 over 2445555 examples, 940817 words in 22.1s (42.6k words/s)"
    secs=$(grep '^epoch ' "$out.log" | sed -E 's/.* in ([0-9.]+)s .*/\1/' | paste -sd+ | bc)
    words=$(grep '^epoch ' "$out.log" | sed -E 's/.*examples, ([0-9]+) words.*/\1/' | paste -sd+ | bc)
    "$TRAIN" eval --vectors "$out/vectors.bin" --analogy "$QW" --similarity "$WS" \
      --similarity "$SL" --restrict 30000 --json > "$out.eval.json"
    loaded=-
    if [[ "$GENSIM" == 1 && "$device" == wgpu ]]; then
      loaded=$("$PY" -c 'import sys; from gensim.models import KeyedVectors as K; k = K.load_word2vec_format(sys.argv[1], binary=True); print(f"{len(k)}x{k.vector_size}")' "$out/vectors.bin")
    fi
    python3 - "$out.eval.json" "$config" "$device" "$secs" "$words" "$loaded" >> "$RESULTS" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
config, device, secs, words, loaded = sys.argv[2:]
acc = e["analogy"]["questions-words"]["accuracy"] * 100
ws, sl = (e["similarity"][k]["spearman"] for k in ("ws353", "simlex999"))
print(f"{config}\t{device}\t{float(secs):.1f}\t{int(words) / float(secs):.0f}\t{acc:.2f}\t{ws:.4f}\t{sl:.4f}\t{loaded}")
PY
    tail -n 1 "$RESULTS" >&2
  done
done
python3 "$HERE/summarize.py" "$RESULTS"

#!/usr/bin/env bash
# Does starting the encoder's token embeddings from word2vec vectors (model.init_embeddings)
# lower the eval loss? Trains skip-gram vectors of the encoder's hidden size on the same corpus,
# then the same encoder run twice, without and with them, and prints the eval loss of both at
# every evaluation. See README.md next to this file. Run from anywhere:
#   experiments/encoder-init-embeddings/run.sh
# Env vars (defaults in brackets):
#   STEPS       encoder steps                               [500]
#   EVAL_EVERY  steps between evaluations                   [100]
#   EPOCHS      word2vec epochs                             [3]
#   DATA        shared data dir                             [<repo>/../shared/data]
#   TRAIN       our binary, built with --features encoder   [<repo>/target/release/train]
#   BASELINE    a finished encoder run folder of this very configuration to reuse as the run
#               without word vectors (e.g. ours from experiments/encoder-vs-pytorch)  [none]
#   BASELINE_LOG  that run's stderr (for its "step N: eval loss" lines); needed with BASELINE
#   THREADS     threads                                     [2]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="$HERE/work"
DATA="${DATA:-$ROOT/../shared/data}"
TRAIN="${TRAIN:-$ROOT/target/release/train}"
STEPS="${STEPS:-500}"
EVAL_EVERY="${EVAL_EVERY:-100}"
EPOCHS="${EPOCHS:-3}"
THREADS="${THREADS:-2}"
BASELINE="${BASELINE:-}"
export RAYON_NUM_THREADS="$THREADS"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
[[ -x "$TRAIN" ]] || { echo "$TRAIN not found: cargo build --release -p train --features encoder" >&2; exit 1; }
[[ -d "$DATA/corpora" ]] || { echo "$DATA/corpora not found (set DATA)" >&2; exit 1; }
mkdir -p "$WORK"
cd "$ROOT"

for part in 10M valid; do
  if [[ ! -s "$WORK/enwiki-$part.txt" ]]; then
    log "decompressing enwiki-$part.txt.xz"
    xz -dc "$DATA/corpora/enwiki-$part.txt.xz" > "$WORK/enwiki-$part.txt.tmp"
    mv "$WORK/enwiki-$part.txt.tmp" "$WORK/enwiki-$part.txt"
  fi
done

# The encoder configuration of the PyTorch benchmark (configs/encoder.toml's defaults, with
# BERT's learned positions), on enwiki-10M with enwiki-valid held out.
ENC=(--config configs/encoder.toml
  --set "data.corpus=\"$WORK/enwiki-10M.txt\"" --set "data.valid=\"$WORK/enwiki-valid.txt\""
  --set 'model.positions="learned"' --set "train.steps=$STEPS" --set "train.eval_every=$EVAL_EVERY"
  --set "train.checkpoint_every=$STEPS" --set train.keep_checkpoints=1)

W2V="$WORK/w2v-256"
if [[ ! -s "$W2V/vectors.bin" ]]; then
  log "word2vec: skip-gram, dim 256, $EPOCHS epochs on enwiki-10M"
  rm -rf "$W2V"
  "$TRAIN" word2vec --config configs/word2vec.toml --out "$W2V" \
    --set "data.corpus=\"$WORK/enwiki-10M.txt\"" --set model.dim=256 \
    --set "train.epochs=$EPOCHS" --set train.sample=1e-4 --set "train.threads=$THREADS" \
    --set output.projector_words=0 2> "$WORK/w2v-256.log"
fi

run_encoder() { # NAME [extra args]
  local name="$1"; shift
  local dir="$WORK/$name"
  rm -rf "$dir"
  log "encoder $name: $STEPS steps"
  "$TRAIN" encoder "${ENC[@]}" "$@" --out "$dir" 2> "$WORK/$name.log"
}

if [[ -n "$BASELINE" ]]; then
  log "reusing $BASELINE as the run without word vectors"
  BASE_LOG="${BASELINE_LOG:?set BASELINE_LOG to the stderr of the baseline run}"
  TOKENIZER="$BASELINE/tokenizer.json"
else
  run_encoder random
  BASE_LOG="$WORK/random.log"
  TOKENIZER="$WORK/random/tokenizer.json"
fi
# Same tokenizer for both runs, so only the initial embeddings differ.
run_encoder word2vec --set "tokenizer.path=\"$TOKENIZER\"" \
  --set "model.init_embeddings=\"$W2V/vectors.bin\""

covered="$(grep -o 'model.init_embeddings: [0-9]* of [0-9]* tokens' "$WORK/word2vec.log" || true)"
{
  echo "| step | eval loss, random init | eval loss, word2vec init | difference (nats) |"
  echo "|---|---|---|---|"
  join <(sed -n 's/.*step \([0-9]*\): eval loss \([0-9.]*\),.*/\1 \2/p' "$BASE_LOG" | sort -k1,1) \
       <(sed -n 's/.*step \([0-9]*\): eval loss \([0-9.]*\),.*/\1 \2/p' "$WORK/word2vec.log" | sort -k1,1) |
    sort -n | awk '{ printf "| %d | %.4f | %.4f | %+.4f |\n", $1, $2, $3, $3 - $2 }'
  echo
  echo "$covered"
} | tee "$WORK/results.md"

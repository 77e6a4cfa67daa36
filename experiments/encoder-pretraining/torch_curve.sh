#!/usr/bin/env bash
# PyTorch's curve for a recipe of this experiment: transformers' BertForMaskedLM trained by
# ../encoder-vs-pytorch/torch_mlm.py on the same text, tokenizer and held-out text as run.sh's
# runs, with the same shape and optimiser settings, evaluated every EVAL_EVERY steps.
# summarize.py reads the result (work/torch/RECIPE.json) and draws it dashed beside ours.
#
# BERT is post-LN with learned positions, so only the post-LN recipe compares: tiny-fast-post
# (2 x 128, 2 heads, FFN 512, dropout 0, sequence 64, batch 64, AdamW lr 2e-3, warmup 300,
# linear decay over 5,000 steps). What stays different is what the implementations are:
# BERT's N(0, 0.02) initialisation and learned positions against ours' "scaled" init and
# sinusoidal positions (see ../encoder-vs-pytorch/README.md, "Known differences").
#
# Needs run.sh to have run once (the tokenizer, the decompressed texts) and the PyTorch venv of
# ../encoder-vs-pytorch (its run.sh creates it, pinned; about 6 GB).
#
# Env vars (defaults in brackets):
#   STOP_AT     stop after this step, the schedule still spanning 5,000 steps   [3000]
#   EVAL_EVERY  steps between evaluations                                        [500]
#   THREADS     torch threads                                                     [2]
#   SEED                                                                          [1]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$HERE/work"
TORCH_DIR="$HERE/../encoder-vs-pytorch"
PY="$TORCH_DIR/work/venv/bin/python"
STOP_AT="${STOP_AT:-3000}"
EVAL_EVERY="${EVAL_EVERY:-500}"
THREADS="${THREADS:-2}"
SEED="${SEED:-1}"
RECIPE=tiny-fast-post

log() { echo "[$(date +%H:%M:%S)] $*"; }
[[ -x "$PY" ]] || { echo "no PyTorch venv at $PY: run experiments/encoder-vs-pytorch/run.sh once" >&2; exit 1; }
for f in tokenizer.json enwiki-10M.txt enwiki-valid.txt; do
  [[ -s "$WORK/$f" ]] || { echo "no $WORK/$f: run experiments/encoder-pretraining/run.sh once" >&2; exit 1; }
done
mkdir -p "$WORK/torch"

for text in enwiki-10M enwiki-valid; do
  ids="$WORK/torch/$text.npy"
  if [[ ! -s "$ids" ]]; then
    log "tokenizing $text.txt for PyTorch"
    "$PY" "$TORCH_DIR/torch_mlm.py" prepare --tokenizer "$WORK/tokenizer.json" \
      --text "$WORK/$text.txt" --out "$ids"
  fi
done

log "$RECIPE on PyTorch: training to step $STOP_AT of 5000"
OMP_NUM_THREADS="$THREADS" "$PY" "$TORCH_DIR/torch_mlm.py" train \
  --tokenizer "$WORK/tokenizer.json" --train-ids "$WORK/torch/enwiki-10M.npy" \
  --valid-ids "$WORK/torch/enwiki-valid.npy" --out "$WORK/torch/$RECIPE.json" \
  --tool "torch-$RECIPE" --threads "$THREADS" --seed "$SEED" \
  --layers 2 --hidden 128 --heads 2 --ffn 512 --dropout 0.0 --seq-len 64 --batch 64 \
  --lr 2e-3 --warmup 300 --steps 5000 --stop-at "$STOP_AT" --eval-every "$EVAL_EVERY" \
  --log-every 100 2>&1 | tee "$WORK/torch/$RECIPE.log"
log "wrote $WORK/torch/$RECIPE.json; summarize.py draws it"

#!/usr/bin/env bash
# Experiment: how many tokens and minutes on 2 cores our encoder needs to leave the frequency
# plateau of masked-language modelling, and which recipe shortens it. See README.md.
#   experiments/encoder-pretraining/run.sh
# Env vars (defaults in brackets):
#   RECIPES      names from recipes.sh, run one after the other       [tiny-fast tiny-fast-post default]
#   EVAL_EVERY   steps between evaluations on enwiki-valid, checkpoints and fill-mask probes [500]
#   EXTRA        more --set overrides for every run, e.g. model.init_embeddings=... []
#   TAG          suffix of the run folders' names (runs with EXTRA need their own)  []
#   NO_TRAIN     1 = train nothing: probe the checkpoints there are and summarise    [0]
#   STOP_AT      stop each run (Ctrl-C: it checkpoints and exits) once it has a checkpoint of
#                this step or later, so recipes compare early at an unchanged schedule; started
#                again with a higher STOP_AT (or none) it resumes. Optimizer steps: a recipe
#                with gradient accumulation reads more tokens per step                []
#   DATA         shared data dir                                   [<repo>/../shared/data]
#   TRAIN        our binary (cargo build --release -p train --features encoder)
#                [<repo>/target/release/train]
# A run that is stopped (Ctrl-C, or killed) continues from its newest checkpoint when run.sh is
# started again; finished runs are not trained again, only summarised.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="$HERE/work"
DATA="${DATA:-$ROOT/../shared/data}"
TRAIN="${TRAIN:-$ROOT/target/release/train}"
RECIPES="${RECIPES:-tiny-fast tiny-fast-post default}"
EVAL_EVERY="${EVAL_EVERY:-500}"
EXTRA="${EXTRA:-}"
TAG="${TAG:-}"
NO_TRAIN="${NO_TRAIN:-0}"
STOP_AT="${STOP_AT:-}"
PIP_PACKAGES=(tokenizers==0.23.3 numpy==2.4.6 tensorboard==2.21.0 matplotlib==3.11.2)
# shellcheck source=recipes.sh
source "$HERE/recipes.sh"
# shellcheck source=probe.sh
source "$HERE/probe.sh"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

for r in $RECIPES; do
  [[ -n "${RECIPE[$r]+x}" ]] || { echo "unknown recipe '$r' (recipes.sh has: ${!RECIPE[*]})" >&2; exit 2; }
done
[[ -x "$TRAIN" ]] || { echo "$TRAIN not found: cargo build --release -p train --features encoder" >&2; exit 1; }
mkdir -p "$WORK/runs"
cd "$ROOT"   # configs/encoder.toml and the run folders' relative paths

# ---------------------------------------------------------------- venv and corpora
VENV="$WORK/venv"; PY="$VENV/bin/python"
if ! "$PY" -c "import tokenizers, numpy, tensorboard, matplotlib" 2>/dev/null; then
  log "creating $VENV with ${PIP_PACKAGES[*]}"
  python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q "${PIP_PACKAGES[@]}"
fi
for name in enwiki-10M enwiki-valid; do
  if [[ ! -s "$WORK/$name.txt" ]]; then
    log "decompressing $name.txt.xz"
    xz -dc "$DATA/corpora/$name.txt.xz" > "$WORK/$name.txt.tmp" && mv "$WORK/$name.txt.tmp" "$WORK/$name.txt"
  fi
done
COMMON=(--set "data.corpus=\"$WORK/enwiki-10M.txt\"" --set "data.valid=\"$WORK/enwiki-valid.txt\""
        --set "train.eval_every=$EVAL_EVERY" --set "train.checkpoint_every=$EVAL_EVERY"
        --set "train.keep_checkpoints=1000")

# ---------------------------------------------------------------- one tokenizer for all runs
TOKENIZER="$WORK/tokenizer.json"
if [[ ! -s "$TOKENIZER" ]]; then
  log "training the WordPiece tokenizer (8,192) on enwiki-10M with a 1-step run"
  rm -rf "$WORK/runs/.tokenizer"
  XDG_CACHE_HOME="$WORK/cache" "$TRAIN" encoder --config configs/encoder.toml "${COMMON[@]}" \
    --set train.steps=1 --set model.layers=1 --set model.hidden=8 --set model.heads=1 \
    --set model.ffn=8 --out "$WORK/runs/.tokenizer" 2> "$WORK/tokenizer.log"
  cp "$WORK/runs/.tokenizer/tokenizer.json" "$TOKENIZER"
fi
if [[ ! -s "$WORK/baseline.json" ]]; then
  log "frequency baselines of the held-out masked tokens"
  "$PY" "$HERE/baseline.py" "$TOKENIZER" "$WORK/enwiki-10M.txt" "$WORK/enwiki-valid.txt" \
    > "$WORK/baseline.json.tmp" && mv "$WORK/baseline.json.tmp" "$WORK/baseline.json"
fi

# ---------------------------------------------------------------- the runs
# reached_stop RUN STOP: whether RUN has a checkpoint of step STOP or later.
reached_stop() {
  local d
  for d in "$1"/checkpoints/step-*; do
    [[ -d "$d" ]] && (( ${d##*step-} >= $2 )) && return 0
  done
  return 1
}

# train_until_stop RUN STOP ARGS...: trains, appending stderr to RUN.log; with a STOP step,
# interrupts the trainer (SIGINT, which writes a checkpoint and exits cleanly) once RUN has a
# checkpoint of that step or later. Ctrl-C here is passed on and waited for, so the trainer's
# last checkpoint is whole before the script exits.
train_until_stop() {
  local run="$1" stop="$2" pid rc=0; shift 2
  XDG_CACHE_HOME="$WORK/cache" "$TRAIN" "$@" 2>> "$run.log" &
  pid=$!
  trap 'kill -INT "$pid" 2>/dev/null; wait "$pid"; exit 130' INT TERM
  if [[ -n "$stop" ]]; then
    while kill -0 "$pid" 2>/dev/null; do
      if reached_stop "$run" "$stop"; then
        log "$(basename "$run"): stopping at step $stop"; kill -INT "$pid" 2>/dev/null || true; break
      fi
      sleep 5
    done
  fi
  wait "$pid" || rc=$?
  trap - INT TERM
  (( rc == 0 )) || { [[ -n "$stop" ]] && reached_stop "$run" "$stop"; } || return "$rc"
}

for r in $RECIPES; do
  name="$r$TAG"; run="$WORK/runs/$name"
  sets=()
  for kv in ${RECIPE[$r]} $EXTRA; do sets+=(--set "$kv"); done
  args=(encoder --config configs/encoder.toml "${COMMON[@]}" --set "tokenizer.path=\"$TOKENIZER\""
        "${sets[@]}" --out "$run")
  # STOP_AT at or past the recipe's last step would interrupt its final outputs: no stop then.
  steps="$(grep -o 'train\.steps=[0-9]*' <<< "${RECIPE[$r]} $EXTRA" | tail -n 1 | cut -d= -f2 || true)"
  stop="$STOP_AT"
  [[ -n "$stop" && -n "$steps" ]] && (( stop >= steps )) && stop=""
  if [[ "$NO_TRAIN" == 1 ]]; then
    log "$name: not trained (NO_TRAIN=1)"
  elif [[ -s "$run/model.bpk" ]]; then
    log "$name: finished before, not trained again"
  elif [[ -n "$stop" ]] && reached_stop "$run" "$stop"; then
    log "$name: has a checkpoint of step $stop or later (STOP_AT), not trained further"
  elif [[ -d "$run/checkpoints" ]]; then
    log "$name: resuming (${RECIPE[$r]} $EXTRA)"
    train_until_stop "$run" "$stop" "${args[@]}" --resume
  else
    log "$name: training (${RECIPE[$r]} $EXTRA)"
    rm -rf "$run"; : > "$run.log"
    train_until_stop "$run" "$stop" "${args[@]}"
  fi
  log "$name: fill-mask probes at every checkpoint"
  probe_checkpoints "$TRAIN" "$run" "$HERE/probes.tsv" "$WORK/probe-view"
done

log "summarising into $WORK/results.md and $HERE/pretraining.png"
"$PY" "$HERE/summarize.py" "$WORK" --png "$HERE/pretraining.png" > "$WORK/results.md"
cat "$WORK/results.md"

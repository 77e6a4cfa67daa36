#!/usr/bin/env bash
# The shipped quick-start config (configs/encoder-quickstart.toml) on the shipped corpus
# (data/sotu.txt.gz), measured as run.sh measures the enwiki recipes: an evaluation and a kept
# checkpoint every 250 steps, the probes of probes-sotu.tsv at each checkpoint, the frequency
# baselines, and a summary in work/quickstart/results.md and quickstart.png. See README.md.
#   experiments/encoder-pretraining/quickstart.sh
# Env vars: TRAIN (our binary, [<repo>/target/release/train]).
# The frequency baselines are computed on the whole corpus (the run holds out 1% of it,
# internally), so they are in-sample: slightly optimistic for the held-out lines.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="$HERE/work/quickstart"
TRAIN="${TRAIN:-$ROOT/target/release/train}"
PY="$HERE/work/venv/bin/python"
RUN="$WORK/runs/quickstart"
# shellcheck source=probe.sh
source "$HERE/probe.sh"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

[[ -x "$TRAIN" ]] || { echo "$TRAIN not found: cargo build --release -p train --features encoder" >&2; exit 1; }
"$PY" -c "import tokenizers, numpy, tensorboard, matplotlib" 2>/dev/null \
  || { echo "run run.sh once first: it creates $HERE/work/venv" >&2; exit 1; }
mkdir -p "$WORK/runs"
cd "$ROOT"
if [[ -s "$RUN/model.bpk" ]]; then
  log "quickstart: finished before, not trained again"
else
  log "training configs/encoder-quickstart.toml on data/sotu.txt.gz"
  rm -rf "$RUN"
  XDG_CACHE_HOME="$WORK/cache" "$TRAIN" encoder --config configs/encoder-quickstart.toml \
    --set train.keep_checkpoints=1000 --out "$RUN" 2> "$WORK/quickstart.log"
fi
if [[ ! -s "$WORK/baseline.json" ]]; then
  zcat data/sotu.txt.gz > "$WORK/sotu.txt"
  "$PY" "$HERE/baseline.py" "$RUN/tokenizer.json" "$WORK/sotu.txt" "$WORK/sotu.txt" \
    > "$WORK/baseline.json.tmp" && mv "$WORK/baseline.json.tmp" "$WORK/baseline.json"
fi
log "fill-mask probes at every checkpoint"
probe_checkpoints "$TRAIN" "$RUN" "$HERE/probes-sotu.tsv" "$WORK/probe-view"
"$PY" "$HERE/summarize.py" "$WORK" --png "$HERE/quickstart.png" \
  --title "configs/encoder-quickstart.toml on data/sotu.txt.gz (1% held out)" > "$WORK/results.md"
cat "$WORK/results.md"

#!/usr/bin/env bash
# Benchmark: our `train encoder` (burn) vs HF transformers' BertForMaskedLM (PyTorch), MLM
# pretraining on CPU with the same configuration, data and tokenizer. See README.md next to this
# file. Run from anywhere:
#   experiments/encoder-vs-pytorch/run.sh
# Env vars (defaults in brackets):
#   STEPS       optimizer steps of every run                                   [500]
#   EVAL_EVERY  steps between evaluations on enwiki-valid (and at the last step) [100]
#   RUNS        repetitions of every tool (interleaved)                        [1]
#   THREADS     compute threads of every tool (RAYON_NUM_THREADS for ours,
#               torch.set_num_threads + OMP_NUM_THREADS for PyTorch)           [2]
#   TOOLS       space-separated subset of: ours ours_base ours_bert ours_ndarray torch torch_full
#               [ours ours_ndarray torch]
#               (ours: burn's flex backend, train.device = "cpu";
#                ours_base: the same with the binary $BASE (an older build, for A/B runs);
#                ours_bert: the same with model.init = "bert" (BERT's N(0, 0.02) initialisation);
#                ours_ndarray: burn's ndarray backend, train.device = "ndarray", needs a binary
#                built with --features ndarray;
#                torch: BertForMaskedLM, MLM head applied to the masked positions only, as ours;
#                torch_full: HF's standard forward(labels=...), logits for all 128 positions)
#   CORPUS      1M | 10M  training text enwiki-$CORPUS (1M is for smoke tests)   [10M]
#   SEED        seed of run 1; run r uses SEED + r - 1                          [1]
#   DATA        shared data dir                                                [<repo>/../shared/data]
#   TRAIN       our binary (cargo build --release -p train --features ndarray) [<repo>/target/release/train]
#   BASE        the binary of ours_base                                        [unset]
#   TOKENIZER   an existing tokenizer.json (HF tokenizers format, specials [PAD] [UNK] [CLS] [SEP]
#               [MASK] = 0..4) to use instead of training one with ours      [work/tokenizer-$CORPUS.json]
#   PLOT        where summarize.py writes the loss curves                      [work/loss-curves.png]
#   APPEND      1 = append to work/raw.csv instead of starting it afresh       [0]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="$HERE/work"
DATA="${DATA:-$ROOT/../shared/data}"
TRAIN="${TRAIN:-$ROOT/target/release/train}"
BASE="${BASE:-}"
STEPS="${STEPS:-500}"
EVAL_EVERY="${EVAL_EVERY:-100}"
RUNS="${RUNS:-1}"
THREADS="${THREADS:-2}"
TOOLS="${TOOLS:-ours ours_ndarray torch}"
CORPUS="${CORPUS:-10M}"
SEED="${SEED:-1}"
PLOT="${PLOT:-$WORK/loss-curves.png}"
LOG_EVERY=10      # ours' train/tokens_per_sec interval; steady state starts after step SKIP
SKIP=10
BATCH=32
SEQ_LEN=128
PIP_PACKAGES=(torch==2.15.0 transformers==5.24.0 tokenizers==0.23.3 numpy==2.4.6
              tensorboard==2.21.0 matplotlib==3.11.2)

case "$CORPUS" in 1M|10M) ;; *) echo "CORPUS must be 1M or 10M, got '$CORPUS'" >&2; exit 2 ;; esac
for tool in $TOOLS; do
  case "$tool" in ours|ours_base|ours_bert|ours_ndarray|torch|torch_full) ;;
    *) echo "unknown tool '$tool' (TOOLS may hold: ours ours_base ours_bert ours_ndarray torch torch_full)" >&2; exit 2 ;;
  esac
  if [[ "$tool" == ours_base && ! -x "$BASE" ]]; then
    echo "ours_base needs BASE=<an older train binary>, got '$BASE'" >&2; exit 2
  fi
done
mkdir -p "$WORK"
cd "$ROOT"   # --config configs/encoder.toml is relative to the repository root

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---------------------------------------------------------------- prerequisites
if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time"
  apt-get update -qq && apt-get install -y -qq time
fi
command -v xz >/dev/null || { echo "xz is needed to decompress the corpora" >&2; exit 1; }

NEED_OURS=0
for tool in $TOOLS; do if [[ "$tool" == ours* ]]; then NEED_OURS=1; fi; done
if [[ -z "${TOKENIZER:-}" && ! -s "$WORK/tokenizer-$CORPUS.json" ]]; then NEED_OURS=1; fi
if [[ "$NEED_OURS" == 1 && ! -x "$TRAIN" ]]; then
  echo "$TRAIN not found: build it with cargo build --release -p train --features ndarray" \
       "(or run TOOLS=torch with TOKENIZER=an existing tokenizer.json)" >&2
  exit 1
fi

# ---------------------------------------------------------------- venv
VENV="$WORK/venv"
PY="$VENV/bin/python"
want="$(printf '%s\n' "${PIP_PACKAGES[@]}" | sort | tr '\n' ' ')"
have="$("$PY" -m pip freeze 2>/dev/null | grep -iE '^(torch|transformers|tokenizers|numpy|tensorboard|matplotlib)==' | sort | tr '\n' ' ' || true)"
if [[ "${have,,}" != "${want,,}" ]]; then
  log "creating $VENV with ${PIP_PACKAGES[*]} (PyPI's torch wheel is the CUDA build: several GB)"
  [[ -x "$PY" ]] || python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q "${PIP_PACKAGES[@]}"
fi

# ---------------------------------------------------------------- corpora
unxz_once() {  # NAME -> $WORK/NAME.txt
  local txt="$WORK/$1.txt"
  if [[ ! -s "$txt" ]]; then
    log "decompressing $1.txt.xz"
    xz -dc "$DATA/corpora/$1.txt.xz" > "$txt.tmp" && mv "$txt.tmp" "$txt"
  fi
}
unxz_once "enwiki-$CORPUS"
unxz_once enwiki-valid
TXT="$WORK/enwiki-$CORPUS.txt"
VALID="$WORK/enwiki-valid.txt"

# ---------------------------------------------------------------- tokenizer
# One WordPiece tokenizer for every tool, trained by ours on the training text (a 1-step run of
# a tiny model), then a second tiny run that loads it, so that ours' token-stream cache
# (~/.cache/train/tokens) already holds both texts under the loaded tokenizer: no timed run
# tokenizes.
TOK="${TOKENIZER:-$WORK/tokenizer-$CORPUS.json}"
tiny_run() {  # OUT_DIR [--set ...]: a 1-step run of a tiny model
  local out="$1"; shift
  rm -rf "$out"
  RAYON_NUM_THREADS="$THREADS" "$TRAIN" encoder --config configs/encoder.toml \
    --set "data.corpus=\"$TXT\"" --set "data.valid=\"$VALID\"" \
    --set model.layers=1 --set model.hidden=16 --set model.heads=1 --set model.ffn=16 \
    --set train.steps=1 --set train.eval_every=1 "$@" --out "$out" > "$out.log" 2>&1 ||
    { log "FAILED: $TRAIN encoder (see $out.log)"; tail -n 5 "$out.log" >&2; exit 1; }
}
if [[ ! -s "$TOK" ]]; then
  if [[ -n "${TOKENIZER:-}" ]]; then echo "TOKENIZER=$TOKENIZER does not exist" >&2; exit 1; fi
  log "training the WordPiece tokenizer (vocab 8192) with ours on enwiki-$CORPUS"
  tiny_run "$WORK/tokenizer-run-$CORPUS"
  cp "$WORK/tokenizer-run-$CORPUS/tokenizer.json" "$TOK.tmp" && mv "$TOK.tmp" "$TOK"
fi
TOKHASH="$(sha1sum "$TOK" | cut -c1-12)"
if [[ "$NEED_OURS" == 1 && ! -e "$WORK/ours-cache-$CORPUS-$TOKHASH" ]]; then
  log "filling ours' token-stream cache for $TOK"
  tiny_run "$WORK/cache-run-$CORPUS" --set "tokenizer.path=\"$TOK\""
  touch "$WORK/ours-cache-$CORPUS-$TOKHASH"
fi
# PyTorch's token streams: the same tokenizer and packing rule, made once as .npy files.
IDS="$WORK/ids"
mkdir -p "$IDS"
TRAIN_IDS="$IDS/enwiki-$CORPUS.$TOKHASH.npy"
VALID_IDS="$IDS/enwiki-valid.$TOKHASH.npy"
for pair in "$TXT:$TRAIN_IDS" "$VALID:$VALID_IDS"; do
  if [[ ! -s "${pair#*:}" ]]; then
    "$PY" "$HERE/torch_mlm.py" prepare --tokenizer "$TOK" --text "${pair%%:*}" --out "${pair#*:}"
  fi
done

# ---------------------------------------------------------------- helpers
RUNDIR="$WORK/runs"
RAW="$WORK/raw.csv"
mkdir -p "$RUNDIR"

time_field() { sed -n "s/^[[:space:]]*$1:[[:space:]]*//p" "$2" | head -n 1; }
wall_seconds() {
  time_field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$1" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}

one_run() {  # TOOL RUN
  local tool="$1" run="$2"
  local dir="$RUNDIR/$tool-r$run" seed=$((SEED + run - 1))
  local tfile="$dir/time.txt" metrics="$dir/metrics.json"
  rm -rf "$dir" && mkdir -p "$dir"
  local -a cmd envs
  case "$tool" in
    ours|ours_base|ours_bert|ours_ndarray)
      local device=cpu init=scaled binary="$TRAIN"
      if [[ "$tool" == ours_base ]]; then binary="$BASE"; fi
      if [[ "$tool" == ours_ndarray ]]; then device=ndarray; fi
      if [[ "$tool" == ours_bert ]]; then init=bert; fi
      envs=(RAYON_NUM_THREADS="$THREADS")
      cmd=("$binary" encoder --config configs/encoder.toml
           --set "data.corpus=\"$TXT\"" --set "data.valid=\"$VALID\""
           --set "tokenizer.path=\"$TOK\"" --set 'model.positions="learned"'
           --set "train.steps=$STEPS" --set "train.eval_every=$EVAL_EVERY"
           --set "train.log_every=$LOG_EVERY" --set "train.batch_size=$BATCH"
           --set "data.seq_len=$SEQ_LEN" --set "train.seed=$seed"
           --set "train.device=\"$device\"" --set "model.init=\"$init\""
           --set "train.shards=$THREADS" --out "$dir/run") ;;
    torch|torch_full)
      local logits=masked
      if [[ "$tool" == torch_full ]]; then logits=all; fi
      envs=(OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS" RAYON_NUM_THREADS="$THREADS")
      cmd=("$PY" "$HERE/torch_mlm.py" train --tokenizer "$TOK" --train-ids "$TRAIN_IDS"
           --valid-ids "$VALID_IDS" --tool "$tool" --logits "$logits" --steps "$STEPS"
           --eval-every "$EVAL_EVERY" --log-every "$LOG_EVERY" --skip "$SKIP"
           --threads "$THREADS" --seed "$seed" --batch "$BATCH" --seq-len "$SEQ_LEN"
           --out "$metrics") ;;
  esac
  { printf '%q ' env "${envs[@]}" "${cmd[@]}"; echo; } > "$dir/cmd.txt"
  log "$tool run $run: training $STEPS steps"
  local status=ok
  if ! env "${envs[@]}" /usr/bin/time -v -o "$tfile" "${cmd[@]}" > "$dir/stdout.log" 2> "$dir/stderr.log"; then
    status=train-failed
    log "  FAILED (see $dir/stderr.log): $(tail -n 3 "$dir/stderr.log" | tr '\n' ' ')"
  fi
  if [[ "$status" == ok && "$tool" == ours* ]]; then
    if ! "$PY" "$HERE/ours_metrics.py" "$dir/run" --out "$metrics" --tool "$tool" \
         --steps "$STEPS" --eval-every "$EVAL_EVERY" --log-every "$LOG_EVERY" \
         --tokens-per-step $((BATCH * SEQ_LEN)) --skip "$SKIP" 2> "$dir/metrics.log"; then
      status=metrics-failed
      log "  reading the event file FAILED (see $dir/metrics.log)"
    fi
  fi
  if [[ "$status" == ok && ! -s "$metrics" ]]; then status=no-metrics; fi
  local wall="" user="" sys="" rss=""
  if [[ -s "$tfile" ]]; then
    wall="$(wall_seconds "$tfile")"
    user="$(time_field 'User time (seconds)' "$tfile")"
    sys="$(time_field 'System time (seconds)' "$tfile")"
    rss="$(time_field 'Maximum resident set size (kbytes)' "$tfile")"
  fi
  if [[ "$status" == ok ]]; then
    log "  $("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); e=m["eval"][-1] if m["eval"] else {}; print("steady %.0f tokens/s, eval loss %s at step %s" % (m["steady"]["tokens_per_s"] or 0, "%.4f" % e["loss"] if e else "-", e.get("step", "-")))' "$metrics"), wall ${wall}s, peak RSS ${rss} KiB"
  fi
  echo "$CORPUS,$tool,$run,$seed,$STEPS,$EVAL_EVERY,$THREADS,$wall,$user,$sys,$rss,$status,${metrics#"$WORK/"}" >> "$RAW"
}

# ---------------------------------------------------------------- benchmark
if [[ "${APPEND:-0}" != 1 || ! -s "$RAW" ]]; then
  echo "corpus,tool,run,seed,steps,eval_every,threads,wall_s,user_s,sys_s,max_rss_kib,status,metrics" > "$RAW"
fi
for ((run = 1; run <= RUNS; run++)); do
  for tool in $TOOLS; do one_run "$tool" "$run"; done
done

# ---------------------------------------------------------------- summary
{
  echo "Host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)"
  echo "PyTorch side: $("$PY" -c 'import torch, transformers, tokenizers, platform; print("Python %s, torch %s, transformers %s, tokenizers %s" % (platform.python_version(), torch.__version__, transformers.__version__, tokenizers.__version__))' 2>/dev/null)"
  HAS_OURS=0
  for tool in $TOOLS; do if [[ "$tool" == ours* ]]; then HAS_OURS=1; fi; done
  [[ "$HAS_OURS" == 0 ]] || echo "Ours: $TRAIN ($("$TRAIN" --version 2>/dev/null || echo '?'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- crates 2>/dev/null || echo ', with uncommitted changes in crates/'))"
  echo "Corpus enwiki-$CORPUS, held-out enwiki-valid, tokenizer $TOK (sha1 $TOKHASH…), $THREADS threads, $STEPS steps, eval every $EVAL_EVERY"
  echo
} > "$WORK/results.md"
"$PY" "$HERE/summarize.py" "$RAW" --work "$WORK" --plot "$PLOT" >> "$WORK/results.md"
cat "$WORK/results.md"
log "wrote $WORK/results.md, $PLOT and $RAW"

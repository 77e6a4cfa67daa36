#!/usr/bin/env bash
# Where Word2Vec's CPU time goes, and how words/s scales with threads (#13 item 2).
# See README.md next to this file. Run from anywhere, on a quiet machine:
#   experiments/word2vec-speed/run.sh
# Env vars (defaults in brackets):
#   TRAIN    our binary                                   [<repo>/target/release/train]
#   BASE     an older binary to compare with, side by side [none]
#   CORPUS   a plain-text corpus                          [the peers benchmark's enwiki-10M copy]
#   MODES    subset of: sg cbow hs                        [sg cbow hs]
#   THREADS  thread counts to run                         [1 2]
#   RUNS     interleaved repetitions (0: only the perf recordings) [3]
#   PERF     1 = also one `perf record` per mode and binary, top symbols into work/ [0]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="$HERE/work"
TRAIN="${TRAIN:-$ROOT/target/release/train}"
BASE="${BASE:-}"
CORPUS="${CORPUS:-$ROOT/experiments/word2vec-vs-peers/work/enwiki-10M.txt}"
MODES="${MODES:-sg cbow hs}"
THREADS="${THREADS:-1 2}"
RUNS="${RUNS:-3}"
PERF="${PERF:-0}"
mkdir -p "$WORK"
[[ -x "$TRAIN" ]] || { echo "no $TRAIN (cargo build --release -p train)" >&2; exit 1; }
[[ -s "$CORPUS" ]] || { echo "no corpus $CORPUS (run experiments/word2vec-vs-peers/run.sh once, or set CORPUS)" >&2; exit 1; }
cd "$ROOT"

settings() {
  case "$1" in
    sg) echo "--set model.arch=\"skipgram\" --set train.alpha=0.025" ;;
    cbow) echo "--set model.arch=\"cbow\" --set train.alpha=0.05" ;;
    hs) echo "--set model.arch=\"skipgram\" --set model.hs=true --set model.negative=0 --set train.alpha=0.025" ;;
    *) echo "unknown mode '$1' (sg cbow hs)" >&2; exit 2 ;;
  esac
}

# one BIN_NAME BIN MODE THREADS -> appends "name,mode,threads,wall_s,epoch_words_per_s" to raw.csv
one() {
  local name="$1" bin="$2" mode="$3" threads="$4" out="$WORK/run"
  rm -rf "$out"
  local start end
  start=$(date +%s.%N)
  # shellcheck disable=SC2046  # the settings are words
  "$bin" word2vec --config experiments/word2vec-vs-peers/base.toml --set "data.corpus=\"$CORPUS\"" \
    $(settings "$mode") --set "train.threads=$threads" --out "$out" > "$WORK/log.txt" 2>&1
  end=$(date +%s.%N)
  # "epoch 1: loss … in 7.4s (1.32M words/s)": the training loop alone (no vocabulary pass)
  local eps
  eps=$(sed -n 's/^epoch 1: .* in \([0-9.]*\)s .*/\1/p' "$WORK/log.txt")
  echo "$name,$mode,$threads,$(echo "$end - $start" | bc),$eps" >> "$WORK/raw.csv"
}

if ((RUNS > 0)); then echo "binary,mode,threads,wall_s,epoch_s" > "$WORK/raw.csv"; fi
bins=("ours=$TRAIN")
[[ -n "$BASE" ]] && bins+=("base=$BASE")
for ((r = 1; r <= RUNS; r++)); do
  for mode in $MODES; do
    for t in $THREADS; do
      for b in "${bins[@]}"; do
        one "${b%%=*}" "${b#*=}" "$mode" "$t"
        echo "[$(date +%H:%M:%S)] run $r $(tail -n 1 "$WORK/raw.csv")" >&2
      done
    done
  done
done

if [[ "$PERF" == 1 ]]; then
  for mode in $MODES; do
    for b in "${bins[@]}"; do
      name="${b%%=*}"
      rm -rf "$WORK/run"
      # shellcheck disable=SC2046
      perf record -q -e cpu-clock -F 999 -o "$WORK/perf-$name-$mode.data" -- "${b#*=}" word2vec \
        --config experiments/word2vec-vs-peers/base.toml --set "data.corpus=\"$CORPUS\"" \
        $(settings "$mode") --out "$WORK/run" > "$WORK/log.txt" 2>&1
      { perf report -i "$WORK/perf-$name-$mode.data" --stdio 2>/dev/null || true; } |
        grep -v -e '^#' -e '^$' | head -n 8 > "$WORK/perf-$name-$mode.txt" || true
      echo "[$(date +%H:%M:%S)] perf $name $mode: $(head -n 1 "$WORK/perf-$name-$mode.txt")" >&2
    done
  done
fi
[[ -s "$WORK/raw.csv" ]] || exit 0
TOKENS=$(wc -w < "$CORPUS")
python3 "$HERE/summarize.py" "$WORK/raw.csv" "$TOKENS" | tee "$WORK/results.md"

#!/usr/bin/env bash
# Benchmark: our `train word2vec` vs word2vec.c (Mikolov's C tool) vs gensim 4.4.0.
# See README.md next to this file. Run from anywhere:
#   experiments/word2vec-vs-peers/run.sh
# Env vars (defaults in brackets):
#   CORPUS   1M | 10M                              [10M]
#   RUNS     repetitions of every (config, tool)   [2]
#   DATA     shared data dir                       [<repo>/../shared/data]
#   TRAIN    our binary                            [<repo>/target/release/train]
#   CONFIGS  space-separated names ARCH-OUTPUT-eEPOCHS, ARCH sg|cbow, OUTPUT ns|hs, e.g. sg-ns-e3
#            [sg-ns-e1 sg-ns-e3 cbow-ns-e1 cbow-ns-e3 sg-hs-e1]; PLOT=1 sets the plot's
#            [sg-ns-e1 .. sg-ns-e5 cbow-ns-e1 .. cbow-ns-e5 sg-hs-e1]
#   TOOLS    space-separated subset of: ours ours_exact w2v gensim gensim1w fasttext
#            [ours w2v gensim; PLOT=1: ours w2v gensim fasttext]
#   PLOT     1 = the quality-against-time plot's runs (RUNS=1 unless set), then plot.py  [0]
#            (ours_exact: ours with model.share_negatives = false)
#            (gensim1w: gensim with one worker, a control for its learning-rate decay)
#   THREADS  training threads                      [2]
#   CROSSCHECK 1 = also evaluate run 1 of every (config, tool) with gensim_eval.py (when our
#              evaluator is the main one) and word2vec.c's compute-accuracy   [1]
#   KEEP_VECTORS 0 = delete each vectors file after it was evaluated  [1]
#   APPEND   1 = append to work/raw.csv instead of starting it afresh (to add configs later) [0]
#   VARY_SEED 1 = run r of ours and gensim uses seed r; 0 = seed 1 for every run  [1]
#            (word2vec.c and fastText's wrapper take no seed here: their runs vary by thread timing)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="$HERE/work"
DATA="${DATA:-$ROOT/../shared/data}"
TRAIN="${TRAIN:-$ROOT/target/release/train}"
CORPUS="${CORPUS:-10M}"
PLOT="${PLOT:-0}"
THREADS="${THREADS:-2}"
if [[ "$PLOT" == 1 ]]; then
  RUNS="${RUNS:-1}"
  CONFIGS="${CONFIGS:-sg-ns-e1 sg-ns-e2 sg-ns-e3 sg-ns-e4 sg-ns-e5 cbow-ns-e1 cbow-ns-e2 cbow-ns-e3 cbow-ns-e4 cbow-ns-e5 sg-hs-e1}"
  TOOLS="${TOOLS:-ours w2v gensim fasttext}"
else
  RUNS="${RUNS:-2}"
  CONFIGS="${CONFIGS:-sg-ns-e1 sg-ns-e3 cbow-ns-e1 cbow-ns-e3 sg-hs-e1}"
  TOOLS="${TOOLS:-ours w2v gensim}"
fi
CROSSCHECK="${CROSSCHECK:-1}"
VARY_SEED="${VARY_SEED:-1}"
KEEP_VECTORS="${KEEP_VECTORS:-1}"
W2V_NPM="word2vec@1.1.5"
GENSIM_VERSION="4.4.0"
FASTTEXT_WHEEL="fasttext-wheel==0.9.2"   # fastText 0.9.2 prebuilt; `fasttext` 0.9.3 has no wheel here

case "$CORPUS" in 1M|10M) ;; *) echo "CORPUS must be 1M or 10M, got '$CORPUS'" >&2; exit 2 ;; esac
mkdir -p "$WORK"
cd "$ROOT"   # base.toml and --config paths are relative to the repository root

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---------------------------------------------------------------- prerequisites
if [[ ! -x /usr/bin/time ]]; then
  log "installing GNU time"
  apt-get update -qq && apt-get install -y -qq time
fi
command -v npm >/dev/null || { echo "npm is needed to fetch word2vec.c (npm pack $W2V_NPM)" >&2; exit 1; }
command -v gcc >/dev/null || { echo "gcc is needed to build word2vec.c" >&2; exit 1; }

# ---------------------------------------------------------------- word2vec.c
W2V_DIR="$WORK/word2vec-c"
W2V="$W2V_DIR/word2vec"
if [[ ! -x "$W2V" ]]; then
  log "building word2vec.c from npm package $W2V_NPM"
  rm -rf "$W2V_DIR" && mkdir -p "$W2V_DIR/pkg"
  tgz="$(cd "$W2V_DIR" && npm pack --silent "$W2V_NPM" | tail -n 1)"
  tar -xzf "$W2V_DIR/$tgz" -C "$W2V_DIR/pkg"
  src="$(find "$W2V_DIR/pkg" -name word2vec.c -print -quit)"
  [[ -n "$src" ]] || { echo "word2vec.c not found in $W2V_NPM" >&2; exit 1; }
  srcdir="$(dirname "$src")"
  # Use the flags of the package's own makefile (CFLAGS line); fall back to the known ones.
  cflags=""
  if [[ -f "$srcdir/makefile" ]]; then
    cflags="$(sed -n 's/^CFLAGS[[:space:]]*=[[:space:]]*//p' "$srcdir/makefile" | head -n 1)"
  fi
  [[ -n "$cflags" ]] || cflags="-lm -pthread -O3 -march=native -Wall -funroll-loops -Wno-unused-result -fno-stack-protector"
  echo "$cflags" > "$W2V_DIR/CFLAGS"
  # shellcheck disable=SC2086  # word splitting of the flags is intended
  gcc "$src" -o "$W2V" $cflags
  if [[ -f "$srcdir/compute-accuracy.c" ]]; then
    # shellcheck disable=SC2086
    gcc "$srcdir/compute-accuracy.c" -o "$W2V_DIR/compute-accuracy" $cflags
  fi
  log "word2vec.c built with: gcc $cflags"
fi

# ---------------------------------------------------------------- gensim venv
VENV="$WORK/.venv"
PY="$VENV/bin/python"
if ! "$PY" -c "import gensim, sys; sys.exit(gensim.__version__ != '$GENSIM_VERSION')" 2>/dev/null; then
  log "creating $VENV with gensim==$GENSIM_VERSION"
  python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q "gensim==$GENSIM_VERSION"
fi
if [[ " $TOOLS " == *" fasttext "* ]] && ! "$PY" -c "import fasttext" 2>/dev/null; then
  log "installing $FASTTEXT_WHEEL into $VENV"
  "$PY" -m pip install -q "$FASTTEXT_WHEEL"
fi
if [[ "$PLOT" == 1 ]] && ! "$PY" -c "import matplotlib" 2>/dev/null; then
  log "installing matplotlib into $VENV"
  "$PY" -m pip install -q matplotlib
fi

# ---------------------------------------------------------------- corpus
TXT="$WORK/enwiki-$CORPUS.txt"
if [[ ! -s "$TXT" ]]; then
  log "decompressing enwiki-$CORPUS.txt.xz"
  xz -dc "$DATA/corpora/enwiki-$CORPUS.txt.xz" > "$TXT.tmp" && mv "$TXT.tmp" "$TXT"
fi
if [[ ! -s "$TXT.tokens" ]]; then wc -w < "$TXT" | tr -d ' ' > "$TXT.tokens"; fi
TOKENS="$(cat "$TXT.tokens")"
log "corpus $TXT: $TOKENS tokens"

QW="$DATA/eval/questions-words.txt"
WS="$DATA/eval/ws353.tsv"
SL="$DATA/eval/simlex999.tsv"

HAVE_OURS=1
if [[ ! -x "$TRAIN" ]]; then
  HAVE_OURS=0
  log "NOTE: $TRAIN not found (build with: cargo build --release -p train): skipping ours, evaluating with gensim_eval.py"
fi

# ---------------------------------------------------------------- helpers
RUNDIR="$WORK/runs"
RAW="$WORK/raw.csv"
mkdir -p "$RUNDIR"

# Seconds from GNU time's "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.34"
time_field() { sed -n "s/^[[:space:]]*$1:[[:space:]]*//p" "$2" | head -n 1; }
wall_seconds() {
  time_field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$1" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }'
}

# evaluate VECTORS OUT_JSON EVALUATOR(ours|gensim)
evaluate() {
  local vec="$1" out="$2" which="$3"
  if [[ "$which" == ours ]]; then
    "$TRAIN" eval --vectors "$vec" --analogy "$QW" --similarity "$WS" --similarity "$SL" \
      --restrict 30000 --json > "$out.tmp" 2> "$out.log" || return 1
  else
    "$PY" "$HERE/gensim_eval.py" --vectors "$vec" --analogy "$QW" --similarity "$WS" \
      --similarity "$SL" --restrict 30000 > "$out.tmp" 2> "$out.log" || return 1
  fi
  mv "$out.tmp" "$out" || return 1
}

# one_run CONFIG TOOL RUN ARCH HS NEG ALPHA EPOCHS
one_run() {
  local config="$1" tool="$2" run="$3" arch="$4" hs="$5" neg="$6" alpha="$7" epochs="$8"
  local dir="$RUNDIR/$config/$tool-r$run"
  local vec="$dir/vectors.bin" tfile="$dir/time.txt"
  local cbow=0 hs_bool=false sg=1 seed=1
  if [[ "$arch" == cbow ]]; then cbow=1; sg=0; fi
  # gensim's runs with one seed differ only by thread timing; ours' also by which thread takes
  # which batch (each thread has its own random stream), so every run of ours is in effect
  # another seed. Seed r for run r gives both tools' medians over the same seeds.
  if [[ "$VARY_SEED" == 1 ]]; then seed="$run"; fi
  if [[ "$hs" == 1 ]]; then hs_bool=true; fi
  rm -rf "$dir" && mkdir -p "$dir"
  local -a cmd
  case "$tool" in
    ours)
      cmd=("$TRAIN" word2vec --config experiments/word2vec-vs-peers/base.toml
           --set "data.corpus=\"$TXT\"" --set "model.arch=\"$arch\""
           --set "train.epochs=$epochs" --set "train.alpha=$alpha"
           --set "model.hs=$hs_bool" --set "model.negative=$neg"
           --set "train.threads=$THREADS" --set "train.seed=$seed" --out "$dir") ;;
    ours_exact)
      # Ours with word2vec.c's per-pair negative draws (model.share_negatives = false): checks
      # that sharing negatives across the window costs no quality.
      cmd=("$TRAIN" word2vec --config experiments/word2vec-vs-peers/base.toml
           --set "data.corpus=\"$TXT\"" --set "model.arch=\"$arch\""
           --set "train.epochs=$epochs" --set "train.alpha=$alpha"
           --set "model.hs=$hs_bool" --set "model.negative=$neg"
           --set "model.share_negatives=false"
           --set "train.threads=$THREADS" --set "train.seed=$seed" --out "$dir") ;;
    w2v)
      cmd=("$W2V" -train "$TXT" -output "$vec" -cbow "$cbow" -size 100 -window 5
           -negative "$neg" -hs "$hs" -sample 1e-4 -threads "$THREADS" -binary 1
           -iter "$epochs" -min-count 5 -alpha "$alpha") ;;
    gensim)
      cmd=("$PY" "$HERE/gensim_train.py" --corpus "$TXT" --out "$vec" --sg "$sg"
           --hs "$hs" --negative "$neg" --alpha "$alpha" --epochs "$epochs"
           --dim 100 --window 5 --sample 1e-4 --min-count 5 --threads "$THREADS" --seed "$seed") ;;
    gensim1w)
      # Control: gensim with one worker. In corpus_file mode each worker decays alpha by its own
      # sentence count over the whole corpus's, so with 2 workers alpha only falls halfway per
      # epoch; one worker gets the linear decay to min_alpha that the other tools use.
      cmd=("$PY" "$HERE/gensim_train.py" --corpus "$TXT" --out "$vec" --sg "$sg"
           --hs "$hs" --negative "$neg" --alpha "$alpha" --epochs "$epochs"
           --dim 100 --window 5 --sample 1e-4 --min-count 5 --threads 1 --seed "$seed") ;;
    fasttext)
      cmd=("$PY" "$HERE/fasttext_train.py" --corpus "$TXT" --out "$vec" --sg "$sg"
           --hs "$hs" --negative "$neg" --alpha "$alpha" --epochs "$epochs"
           --dim 100 --window 5 --sample 1e-4 --min-count 5 --threads "$THREADS") ;;
    *) echo "unknown tool '$tool' (TOOLS may hold: ours ours_exact w2v gensim gensim1w fasttext)" >&2; exit 2 ;;
  esac
  printf '%q ' "${cmd[@]}" > "$dir/cmd.txt"; echo >> "$dir/cmd.txt"
  log "$config $tool run $run: training"
  local status=ok
  if ! /usr/bin/time -v -o "$tfile" "${cmd[@]}" > "$dir/stdout.log" 2> "$dir/stderr.log"; then
    status=train-failed
    log "  FAILED (see $dir/stderr.log): $(tail -n 3 "$dir/stderr.log" | tr '\n' ' ')"
  fi
  if [[ "$status" == ok && ! -s "$vec" ]]; then status=no-vectors; log "  FAILED: no $vec"; fi

  local wall="" user="" sys="" rss="" wps="" vocab="" evaluator="" ej=""
  if [[ -s "$tfile" ]]; then
    wall="$(wall_seconds "$tfile")"
    user="$(time_field 'User time (seconds)' "$tfile")"
    sys="$(time_field 'System time (seconds)' "$tfile")"
    rss="$(time_field 'Maximum resident set size (kbytes)' "$tfile")"
    wps="$(awk -v t="$TOKENS" -v e="$epochs" -v w="$wall" 'BEGIN { if (w > 0) printf "%.0f", t * e / w }')"
  fi
  if [[ "$status" == ok ]]; then
    vocab="$(head -c 64 "$vec" | head -n 1 | awk '{print $1}')"
    log "  wall ${wall}s, ${wps} words/s, peak RSS ${rss} KiB, vocab $vocab"
    evaluator=gensim
    if [[ "$HAVE_OURS" == 1 ]]; then evaluator=ours; fi
    ej="$dir/eval.json"
    if ! evaluate "$vec" "$ej" "$evaluator"; then
      log "  evaluation FAILED (see $ej.log)"; status=eval-failed; ej=""
    fi
    if [[ "$CROSSCHECK" == 1 && "$run" == 1 ]]; then
      if [[ "$evaluator" == ours ]]; then
        evaluate "$vec" "$dir/eval-gensim.json" gensim || log "  gensim cross-check evaluation FAILED"
      fi
      # word2vec.c's own analogy tool (reads the first 30000 vectors, uppercases everything)
      if [[ -x "$W2V_DIR/compute-accuracy" ]]; then
        "$W2V_DIR/compute-accuracy" "$vec" 30000 < "$QW" > "$dir/compute-accuracy.txt" 2>&1 ||
          log "  compute-accuracy FAILED"
      fi
    fi
    if [[ "$KEEP_VECTORS" == 0 ]]; then rm -f "$vec"; fi
  fi
  echo "$CORPUS,$config,$tool,$run,$arch,$hs,$neg,$alpha,$epochs,$TOKENS,$wall,$user,$sys,$rss,$wps,$vocab,$status,$evaluator,${ej#"$WORK/"},${vec#"$WORK/"}" >> "$RAW"
}

# config name ARCH-OUTPUT-eEPOCHS -> "arch hs negative alpha epochs" (alpha: word2vec.c's defaults)
config_params() {
  if [[ ! "$1" =~ ^(sg|cbow)-(ns|hs)-e([1-9][0-9]*)$ ]]; then
    echo "unknown config '$1' (expected ARCH-OUTPUT-eEPOCHS, e.g. sg-ns-e3 or cbow-hs-e1)" >&2
    return 1
  fi
  local arch=skipgram alpha=0.025 hs=0 neg=5
  if [[ "${BASH_REMATCH[1]}" == cbow ]]; then arch=cbow; alpha=0.05; fi
  if [[ "${BASH_REMATCH[2]}" == hs ]]; then hs=1; neg=0; fi
  echo "$arch $hs $neg $alpha ${BASH_REMATCH[3]}"
}

# ---------------------------------------------------------------- benchmark
for config in $CONFIGS; do config_params "$config" > /dev/null || exit 2; done
for tool in $TOOLS; do
  case "$tool" in ours|ours_exact|w2v|gensim|gensim1w|fasttext) ;; *) echo "unknown tool '$tool' (TOOLS may hold: ours ours_exact w2v gensim gensim1w fasttext)" >&2; exit 2 ;; esac
done
if [[ "${APPEND:-0}" != 1 || ! -s "$RAW" ]]; then
  echo "corpus,config,tool,run,arch,hs,negative,alpha,epochs,tokens,wall_s,user_s,sys_s,max_rss_kib,words_per_s,vocab,status,evaluator,eval_json,vectors" > "$RAW"
fi
for config in $CONFIGS; do
  read -r arch hs neg alpha epochs <<< "$(config_params "$config")"
  for ((run = 1; run <= RUNS; run++)); do
    for tool in $TOOLS; do
      if [[ ( "$tool" == ours || "$tool" == ours_exact ) && "$HAVE_OURS" == 0 ]]; then continue; fi
      one_run "$config" "$tool" "$run" "$arch" "$hs" "$neg" "$alpha" "$epochs"
    done
  done
done

# ---------------------------------------------------------------- summary
{
  echo "Host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)"
  echo "word2vec.c: npm $W2V_NPM, gcc $(cat "$W2V_DIR/CFLAGS"); gensim $("$PY" -c 'import gensim; print(gensim.__version__)'); ours: $([[ "$HAVE_OURS" == 1 ]] && echo "$TRAIN" || echo "not run")"
  echo
} > "$WORK/results.md"
python3 "$HERE/summarize.py" "$RAW" --work "$WORK" >> "$WORK/results.md"
if [[ "$PLOT" == 1 ]]; then
  "$PY" "$HERE/plot.py" "$RAW" --work "$WORK" --png "$HERE/quality-vs-time.png" >> "$WORK/results.md"
  log "wrote $HERE/quality-vs-time.png"
fi
cat "$WORK/results.md"
log "wrote $WORK/results.md and $RAW"

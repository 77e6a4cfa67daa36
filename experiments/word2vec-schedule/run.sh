#!/usr/bin/env bash
# The learning-rate schedule, swept: for skip-gram (negative sampling), CBOW and skip-gram with
# hierarchical softmax at 1, 3 and 5 epochs on enwiki-10M, our trainer with word2vec.c's
# schedule (linear to 0) and with train.min_alpha = alpha x {0.1, 0.25, 0.5}, next to gensim with
# workers=2 (its usual setting, min_alpha = alpha x 1e-4 as in word2vec-vs-peers). Every vectors
# file is scored by `train eval` on the shared sets (Google analogies restricted to 30k words,
# WS-353, SimLex-999), in the background while the next run trains, so wall times are only
# indicative. Writes work/results.tsv (RESULTS=… for another file); summarize.py prints the
# tables, with medians where a schedule ran with several seeds.
#   MODES ("sg-ns cbow-ns sg-hs"), EPOCHS ("1 3 5"), FRACTIONS ("w2v 0.1 0.25 0.5": w2v is
#   word2vec.c's schedule, a number F is min_alpha = F x alpha, "rule" is alpha / (epochs + 1),
#   "ruleK" K times that, at most alpha; a suffix hH also sets train.alpha_hold = H, e.g.
#   "rule1.5h0.5"; "default" sets neither key; "none" runs gensim only),
#   SEEDS ("1": train.seed of ours and gensim's seed, one run per seed),
#   CORPUS_FILE (work/enwiki-10M.txt; e.g. a reordered copy from interleave_blocks.py),
#   TAG (appended to our schedule names in the results, e.g. "-blocks", and put before gensim's,
#   e.g. "blocks-gensim-w2", so a reordered file's gensim runs stay apart from the baseline),
#   SETS (more `--set KEY=VALUE` for our runs, space-separated, e.g. "model.init_scale=3"; needs
#   a TAG)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(cd ../.. && pwd)
train=${TRAIN:-$root/target/release/train}
data=${DATA:-$root/../shared/data}
venv=${VENV:-$root/experiments/word2vec-gpu/work/.venv}
modes=${MODES:-"sg-ns cbow-ns sg-hs"}
epochs_list=${EPOCHS:-"1 3 5"}
fractions=${FRACTIONS:-"w2v 0.1 0.25 0.5"}
[ "$fractions" != none ] || fractions=""
extra_sets=()
read -ra kvs <<< "${SETS:-}"
for kv in ${kvs[@]+"${kvs[@]}"}; do extra_sets+=(--set "$kv"); done
[ -z "${SETS:-}" ] || [ -n "${TAG:-}" ] || { echo "SETS needs a TAG" >&2; exit 2; }
gensim_name=gensim-w2
[ -z "${TAG:-}" ] || gensim_name=${TAG#-}-gensim-w2
seeds=${SEEDS:-1}
# SKIP_GENSIM=1: ours only (an extra schedule for a mode and epochs gensim already ran).
mkdir -p work/runs
corpus=${CORPUS_FILE:-work/enwiki-10M.txt}
[ -f "$corpus" ] || [ -n "${CORPUS_FILE:-}" ] || xz -dc "$data/corpora/enwiki-10M.txt.xz" > "$corpus"
[ -f "$corpus" ] || { echo "no corpus file $corpus" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q gensim==4.4.0
fi
eval_sets=(--analogy "$data/eval/questions-words.txt" --similarity "$data/eval/ws353.tsv"
    --similarity "$data/eval/simlex999.tsv" --restrict 30000 --json)
results=${RESULTS:-work/results.tsv}
[ -f "$results" ] || printf 'mode\tepochs\tschedule\tanalogy\tws353\tsimlex\twall_s\tseed\n' > "$results"

# mode -> "arch negative hs alpha" (our names) and gensim's "sg hs negative".
declare -A ours=([sg-ns]="skipgram 5 false 0.025" [cbow-ns]="cbow 5 false 0.05" [sg-hs]="skipgram 0 true 0.025")
declare -A peer=([sg-ns]="1 0 5" [cbow-ns]="0 0 5" [sg-hs]="1 1 0")

score() { # vectors file -> "analogy ws353 simlex"
    "$train" eval --vectors "$1" "${eval_sets[@]}" | python3 -c '
import json, sys
r = json.load(sys.stdin)
a = r["analogy"]["questions-words"]["accuracy"]
s = r["similarity"]
w, l = s["ws353"]["spearman"], s["simlex999"]["spearman"]
print(f"{a:.4f}\t{w:.4f}\t{l:.4f}")'
}

for seed in $seeds; do
for mode in $modes; do
    read -r arch negative hs alpha <<< "${ours[$mode]}"
    for epochs in $epochs_list; do
        for f in $fractions; do
            out=work/runs/$mode-e$epochs-$f${TAG:-}-s$seed
            sets=(--set "model.arch=$arch" --set "model.negative=$negative" --set "model.hs=$hs"
                --set "train.alpha=$alpha" --set "train.epochs=$epochs" --set "train.seed=$seed"
                ${extra_sets[@]+"${extra_sets[@]}"})
            end=$f
            if [[ $f =~ ^(.+)h([0-9.]+)$ ]]; then
                end=${BASH_REMATCH[1]}
                sets+=(--set "train.alpha_hold=${BASH_REMATCH[2]}")
            fi
            case "$end" in
                default) ;;
                w2v) sets+=(--set "train.min_alpha=0") ;;  # word2vec.c's exact schedule
                rule*) k=${end#rule}  # "rule" is K = 1
                    sets+=(--set "train.min_alpha=$(python3 -c "print(min($alpha, ${k:-1} * $alpha / ($epochs + 1)))")") ;;
                [0-9]*) sets+=(--set "train.min_alpha=$(python3 -c "print($alpha * $end)")") ;;
                *) echo "unknown schedule '$f' in FRACTIONS" >&2; exit 2 ;;
            esac
            rm -rf "$out"
            start=$(date +%s.%N)
            "$train" word2vec --config base.toml --out "$out" "${sets[@]}" \
                --set "data.corpus=\"$corpus\"" 2> "$out.log"
            wall=$(echo "$(date +%s.%N) - $start" | bc)
            # Scored in the background while the next run trains (an evaluation takes ~25 s).
            { printf '%s\t%s\t%s\t%s\t%.1f\t%s\n' "$mode" "$epochs" "ours-$f${TAG:-}" "$(score "$out/vectors.bin")" "$wall" "$seed" | tee -a "$results"; } &
        done
        [ -z "${SKIP_GENSIM:-}" ] || continue
        read -r sg ghs gneg <<< "${peer[$mode]}"
        out=work/runs/$mode-e$epochs-$gensim_name-s$seed.bin
        start=$(date +%s.%N)
        "$venv/bin/python" ../word2vec-vs-peers/gensim_train.py --corpus "$corpus" --out "$out" \
            --sg "$sg" --hs "$ghs" --negative "$gneg" --alpha "$alpha" --epochs "$epochs" \
            --threads 2 --seed "$seed" 2> "$out.log"
        wall=$(echo "$(date +%s.%N) - $start" | bc)
        { printf '%s\t%s\t%s\t%s\t%.1f\t%s\n' "$mode" "$epochs" "$gensim_name" "$(score "$out")" "$wall" "$seed" | tee -a "$results"; } &
    done
done
done
wait
python3 summarize.py "$results"

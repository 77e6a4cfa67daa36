#!/usr/bin/env bash
# Why the skip-gram training loss rises again in the last epoch: the loss a run reports is
# measured on each example just before the update it causes, with weights that the previous,
# overlapping windows have just moved. With a high learning rate that short-term fit lowers the
# reported loss; as the rate falls to 0 it fades. This script tells the two apart: it trains
# skip-gram for EPOCHS epochs (word2vec.c's schedule, and min_alpha = alpha/2), copies the run
# folder after every epoch, and measures each copy's loss over one more pass of the corpus with
# the weights frozen (a resumed epoch at a learning rate of 1e-12): the model's real fit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(cd ../.. && pwd)
train=${TRAIN:-$root/target/release/train}
data=${DATA:-$root/../shared/data}
epochs=${EPOCHS:-5}
mkdir -p work/frozen
corpus=work/enwiki-1M.txt
[ -f "$corpus" ] || xz -dc "$data/corpora/enwiki-1M.txt.xz" > "$corpus"
printf 'schedule\tepoch\treported_loss\tfrozen_loss\n' > work/frozen/results.tsv
for schedule in w2v half; do
    run=work/frozen/$schedule
    rm -rf "$run" "$run"-e*
    sets=(--set "data.corpus=\"$corpus\"" --set "train.epochs=$epochs" --set train.checkpoint_every_words=0)
    # word2vec.c's exact schedule is min_alpha = 0.
    if [ "$schedule" = w2v ]; then sets+=(--set train.min_alpha=0); else sets+=(--set train.min_alpha=0.0125); fi
    "$train" word2vec --config base.toml --out "$run" "${sets[@]}" 2> "$run.log" &
    pid=$!
    # Copy the folder each time an epoch's checkpoint appears (it is replaced atomically).
    last=""
    while kill -0 "$pid" 2> /dev/null; do
        stamp=$(stat -c %Y.%s "$run/checkpoint.w2v" 2> /dev/null || true)
        if [ -n "$stamp" ] && [ "$stamp" != "$last" ]; then
            e=$(python3 -c "import json,sys;f=open('$run/checkpoint.w2v','rb');f.read(8);n=int.from_bytes(f.read(4),'little');print(json.loads(f.read(n))['epoch']-1)" 2> /dev/null || true)
            if [ -n "$e" ] && [ ! -d "$run-e$e" ]; then cp -r "$run" "$run-e$e.tmp" && mv "$run-e$e.tmp" "$run-e$e"; fi
            last=$stamp
        fi
        sleep 0.05
    done
    wait "$pid"
    for e in $(seq 1 "$epochs"); do
        [ -d "$run-e$e" ] || { echo "missed the checkpoint of epoch $e" >&2; continue; }
        reported=$(grep -o "epoch $e: loss [0-9.]*" "$run.log" | awk '{print $4}')
        "$train" word2vec --config "$run-e$e/config.toml" --out "$run-e$e" --resume \
            --set "train.epochs=$((e + 1))" --set train.alpha=1e-12 --set train.min_alpha=1e-12 \
            2> "$run-e$e.frozen.log"
        frozen=$(grep -o "epoch $((e + 1)): loss [0-9.]*" "$run-e$e.frozen.log" | awk '{print $4}')
        printf '%s\t%s\t%s\t%s\n' "$schedule" "$e" "$reported" "$frozen" | tee -a work/frozen/results.tsv
    done
done

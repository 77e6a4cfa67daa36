#!/usr/bin/env bash
# Checks `train export` against Hugging Face transformers itself: trains three tiny post-LN
# encoders on the shipped corpus (init "scaled" with sinusoidal positions, so an untied output
# matrix; init "bert" with learned positions, tied; a BPE tokenizer instead of WordPiece),
# exports each, and has
# scripts/check_hf_export.py load them with AutoModelForMaskedLM and AutoTokenizer (no missing or
# unexpected weights) and compare the fill-mask pipeline and the full output distribution with
# `train fill-mask`.
#
#   scripts/check-hf-export.sh                       # the python3 on PATH
#   PYTHON=/path/to/venv/bin/python scripts/check-hf-export.sh
#
# Needs a Python with torch and transformers; without one it says so and exits 0 (CI runs it
# that way: `cargo test` never needs Python). TRAIN=path/to/train uses that binary instead of
# building the debug one with the encoder feature.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import torch, transformers" 2>/dev/null; then
    echo "check-hf-export: skipped: $PYTHON cannot import torch and transformers" \
         "(install them, or set PYTHON to a Python that has them)"
    exit 0
fi
if [[ -z "${TRAIN:-}" ]]; then
    (cd "$root" && cargo build --quiet -p train --features encoder)
    TRAIN="${CARGO_TARGET_DIR:-$root/target}/debug/train"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# 3,000 lines of the shipped corpus: a tokenizer of 400 tokens and 40 steps, seconds in debug.
{ zcat "$root/data/sotu.txt.gz" || true; } | head -n 3000 > "$work/corpus.txt"  # zcat stops on SIGPIPE
cat > "$work/enc.toml" <<TOML
[data]
corpus = "$work/corpus.txt"
seq_len = 32
[tokenizer]
vocab_size = 400
[model]
layers = 2
hidden = 32
heads = 4
ffn = 64
[train]
batch_size = 8
steps = 40
warmup_steps = 5
lr = 0.003
eval_every = 40
TOML

texts=("the united [MASK] of america" "the [MASK] of the union is strong" \
       "we must [MASK] our [MASK] ." "congress shall [MASK] the budget")
for variant in scaled bert bpe; do
    case "$variant" in
        scaled) sets=() ;;
        bert) sets=(--set 'model.init="bert"' --set 'model.positions="learned"') ;;
        bpe) sets=(--set 'tokenizer.kind="bpe"') ;;
    esac
    XDG_CACHE_HOME="$work/cache" "$TRAIN" encoder --config "$work/enc.toml" ${sets[@]+"${sets[@]}"} \
        --out "$work/run-$variant" 2> "$work/train-$variant.log" \
        || { cat "$work/train-$variant.log" >&2; exit 1; }
    "$TRAIN" export --run "$work/run-$variant" --out "$work/hf-$variant"
    for i in "${!texts[@]}"; do
        "$TRAIN" fill-mask --run "$work/run-$variant" "${texts[$i]}" --top 100000 --json \
            > "$work/ours-$variant-$i.json"
    done
    echo "== $variant"
    "$PYTHON" "$root/scripts/check_hf_export.py" "$work/hf-$variant" "$work/ours-$variant" \
        "${texts[@]}"
done

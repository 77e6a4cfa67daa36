#!/usr/bin/env bash
# One call that measures the encoder on a GPU, for the day one is lent: steady training tokens/s
# and model-FLOPs utilisation (MFU) of ours (train.device = "wgpu", f32) and of PyTorch + HF
# BertForMaskedLM (CUDA, f32, MLM head on masked positions), at the benchmark shape (4 layers,
# 256 hidden) and BERT-base (12 layers, 768 hidden, 12 heads), sequence 128, printed as one table;
# then Word2Vec's GPU engine against its CPU engine and gensim on enwiki-10M (word2vec.sh).
#
#   experiments/gpu/build.sh      # here: stripped release binary + Vulkan loader into bin/
#   experiments/gpu/run.sh        # there: < 10 min on an H100/H200 with nothing else installed
#   SMOKE=1 experiments/gpu/run.sh   # here, on lavapipe: tiny sizes, to know the script works
#
# PEAK_TFLOPS (default 67, the f32 non-tensor-core peak of an H100/H200 SXM) is the MFU's
# denominator; burn 0.22 trains in f32 only. PyTorch runs only if it is installed with CUDA.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE/../.."
W="${W:-$HERE/work}"
rm -rf "$W" && mkdir -p "$W"
PEAK_TFLOPS="${PEAK_TFLOPS:-67}"
BIN="${BIN:-}"
if [ -z "$BIN" ]; then
    BIN="$W/train"
    gunzip -c "$HERE/bin/train.gz" > "$BIN" && chmod +x "$BIN"
fi
source "$HERE/vulkan-env.sh"
export XDG_CACHE_HOME="$W/cache"

if [ -n "${SMOKE:-}" ]; then
    SHAPES="tiny:1:32:2:64:32:4"; STEPS=12; TORCH_DEVICE=cpu
else
    SHAPES="bench:4:256:4:1024:128:32 base:12:768:12:3072:128:32"; STEPS=80; TORCH_DEVICE=cuda
fi

# One tokenizer for every run (vocabulary 8,192 as in the benchmark; smaller for the smoke run).
VOCAB=8192; [ -n "${SMOKE:-}" ] && VOCAB=500
"$BIN" encoder --config configs/encoder.toml --out "$W/tok" --set train.steps=1 \
    --set tokenizer.vocab_size=$VOCAB --set model.layers=1 --set model.hidden=8 --set model.heads=1 \
    --set model.ffn=8 --set data.seq_len=16 2> "$W/tok.log"

flops_per_token() {  # 6 x parameters in the matrices + attention scores, forward and backward
    python3 -c "l,h,f,s,v=$1,$2,$3,$4,$VOCAB; print(6*(l*(4*h*h+2*h*f)+h*h+0.15*h*v)+12*l*h*s)"
}

printf '%-6s %-34s %12s %8s\n' shape tool tokens/s MFU > "$W/table.txt"
for shape in $SHAPES; do
    IFS=: read -r name layers hidden heads ffn seq batch <<< "$shape"
    fpt=$(flops_per_token "$layers" "$hidden" "$ffn" "$seq")
    run="$W/ours-$name"
    "$BIN" encoder --config configs/encoder.toml --out "$run" \
        --set tokenizer.path="\"$W/tok/tokenizer.json\"" --set train.device='"wgpu"' \
        --set model.layers="$layers" --set model.hidden="$hidden" --set model.heads="$heads" \
        --set model.ffn="$ffn" --set data.seq_len="$seq" --set train.batch_size="$batch" \
        --set train.steps=$STEPS --set train.log_every=1 --set train.eval_every=100000 \
        --set train.checkpoint_every=100000 2> "$run.log" || { tail -3 "$run.log"; exit 1; }
    ours=$(python3 "$HERE/tb_scalars.py" "$run" train/tokens_per_sec | python3 -c "
import sys; v = sorted(float(l.split()[1]) for l in sys.stdin); print(v[len(v) // 2] if v else 0)")
    device=$(grep -o '"name": "[^"]*"' "$run/device.json" | cut -d'"' -f4)
    torch=$(python3 "$HERE/torch_gpu.py" --device $TORCH_DEVICE --layers "$layers" \
        --hidden "$hidden" --heads "$heads" --ffn "$ffn" --seq "$seq" --batch "$batch" \
        --vocab $VOCAB --steps $((STEPS / 2 + 10)) --skip 10 2>/dev/null || echo '{"error": "failed"}')
    theirs=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d.get('tokens_per_sec', 0))" "$torch")
    note=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d.get('error', d.get('device', '')))" "$torch")
    for row in "ours (burn wgpu, $device)|$ours" "PyTorch+HF ($note)|$theirs"; do
        IFS='|' read -r tool rate <<< "$row"
        mfu=$(python3 -c "print(f'{100*$rate*$fpt/($PEAK_TFLOPS*1e12):.2f}%')")
        printf '%-6s %-34.34s %12.0f %8s\n' "$name" "$tool" "$rate" "$mfu" >> "$W/table.txt"
    done
done
cat "$W/table.txt"
# Word2Vec: GPU engine vs CPU engine vs gensim, words/s and quality (word2vec.sh).
BIN="$BIN" W="$W" "$HERE/word2vec.sh"

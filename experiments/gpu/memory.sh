#!/usr/bin/env bash
# Does the encoder's memory stay flat on the GPU? Trains STEPS (default 500) steps of a small
# encoder on train.device = "wgpu" and reports the process's resident memory when steps 50, 250
# and 500 were logged. On lavapipe (Mesa's software Vulkan driver) the "GPU" memory is host
# memory, so the resident set holds it too; on a real GPU, also watch nvidia-smi.
# EVERY (default 250) sets how often it evaluates and checkpoints; a smaller one shows whether each
# evaluation or checkpoint adds memory (a leak) or only the first (pools that settle).
#   [STEPS=500] [EVERY=250] experiments/gpu/memory.sh [path/to/train]    (default target/release/train)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE/../.."
BIN="${1:-target/release/train}"; STEPS="${STEPS:-500}"; EVERY="${EVERY:-250}"
W="$HERE/work/memory"; rm -rf "$W"; mkdir -p "$W"
source "$HERE/vulkan-env.sh"
export XDG_CACHE_HOME="$W/cache"
"$BIN" encoder --config configs/encoder.toml --out "$W/run" --set train.device='"wgpu"' \
    --set model.layers=2 --set model.hidden=128 --set model.heads=4 --set model.ffn=512 \
    --set data.seq_len=64 --set train.batch_size=16 --set tokenizer.vocab_size=4096 \
    --set train.steps="$STEPS" --set train.log_every=1 --set train.eval_every="$EVERY" \
    --set train.checkpoint_every="$EVERY" 2> "$W/log" &
pid=$!
while kill -0 "$pid" 2> /dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2> /dev/null || true)
    [ -n "$rss" ] && echo "$(date +%s.%N) $rss" >> "$W/rss"
    sleep 0.5
done
wait "$pid" || { tail -3 "$W/log"; exit 1; }
python3 "$HERE/tb_scalars.py" "$W/run" train/loss --wall > "$W/steps"
python3 - "$W" "$STEPS" "$EVERY" <<'PY'
import sys
w, steps, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rss = [tuple(map(float, l.split())) for l in open(f"{w}/rss")]
logged = {int(s): float(t) for s, _, t in (l.split() for l in open(f"{w}/steps"))}
print(f"{'step':>6} {'resident MiB':>13}")
marks = {1, 10, 50, 250, steps} | set(range(every, steps + 1, every))
marks |= {m - 1 for m in marks if m > every}  # just before each evaluation too
for step in sorted(marks & set(logged)):
    t = logged[step]
    mib = min(rss, key=lambda r: abs(r[0] - t))[1] / 1024
    print(f"{step:>6} {mib:>13.0f}")
print(f"peak {max(r[1] for r in rss) / 1024:.0f} MiB")
PY

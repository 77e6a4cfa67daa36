#!/usr/bin/env bash
# Builds the stripped release binary that run.sh uses on a GPU machine, and carries the Vulkan
# loader beside it (a GPU machine with only the NVIDIA driver may lack libvulkan.so.1).
# Output: experiments/gpu/bin/train.gz, experiments/gpu/bin/lib/ and experiments/gpu/bin/data/
# (all git-ignored; pass experiments/gpu/bin to the device tool's `carry`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release -p train --features encoder
mkdir -p experiments/gpu/bin/lib
strip -o experiments/gpu/bin/train target/release/train
gzip -9 -f experiments/gpu/bin/train
for lib in /usr/lib/x86_64-linux-gnu/libvulkan.so.1*; do
    [ -e "$lib" ] && cp -L "$lib" experiments/gpu/bin/lib/ || true
done
# word2vec.sh's corpus and evaluation sets (15 MB), for a machine without the shared data.
if [ -d ../shared/data/eval ]; then
    mkdir -p experiments/gpu/bin/data/corpora
    cp ../shared/data/corpora/enwiki-{1M,10M}.txt.xz experiments/gpu/bin/data/corpora/
    cp -r ../shared/data/eval experiments/gpu/bin/data/
fi
ls -l experiments/gpu/bin experiments/gpu/bin/lib

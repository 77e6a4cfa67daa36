#!/usr/bin/env bash
# Builds the stripped release binary that run.sh uses on a GPU machine, and carries the Vulkan
# loader and libglvnd beside it as Debian packages (the H200 lent here had only the NVIDIA
# driver; vulkan-env.sh unpacks them there).
# Output: experiments/gpu/bin/train.gz, experiments/gpu/bin/debs/ and experiments/gpu/bin/data/
# (all git-ignored; pass experiments/gpu/bin to the device tool's `carry`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cargo build --release -p train --features encoder
mkdir -p experiments/gpu/bin/debs /tmp/train-apt-amd64/partial
strip -o experiments/gpu/bin/train target/release/train
gzip -9 -f experiments/gpu/bin/train
apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/train-apt-amd64)
apt-get "${apt[@]}" update > /dev/null
(cd experiments/gpu/bin/debs && apt-get "${apt[@]}" download libvulkan1 libglvnd0 libegl1 libgl1 libglx0)
# word2vec.sh's corpus and evaluation sets (15 MB), for a machine without the shared data.
if [ -d ../shared/data/eval ]; then
    mkdir -p experiments/gpu/bin/data/corpora
    cp ../shared/data/corpora/enwiki-{1M,10M}.txt.xz experiments/gpu/bin/data/corpora/
    cp -r ../shared/data/eval experiments/gpu/bin/data/
fi
ls -l experiments/gpu/bin experiments/gpu/bin/debs

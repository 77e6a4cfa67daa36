#!/usr/bin/env bash
# One run each of min_alpha = alpha / (epochs + 1) at 1 and 3 epochs for skip-gram, CBOW and
# skip-gram with hierarchical softmax on enwiki-10M, scored on the dev sets (see README.md).
#   CORPUS  the decompressed corpus  [experiments/word2vec-vs-peers/work/enwiki-10M.txt]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
CORPUS="${CORPUS:-experiments/word2vec-vs-peers/work/enwiki-10M.txt}"
EVAL="${EVAL:-$ROOT/../shared/data/eval}"
TRAIN="${TRAIN:-target/release/train}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
echo -e "mode\tepochs\tmin_alpha\tanalogy\tws353\tsimlex"
for cfg in "sg 0.025 skipgram false 5" "cbow 0.05 cbow false 5" "sg-hs 0.025 skipgram true 0"; do
  read -r mode alpha arch hs neg <<< "$cfg"
  for e in 1 3; do
    ma=$(python3 -c "print($alpha / ($e + 1))")
    "$TRAIN" word2vec --config experiments/word2vec-vs-peers/base.toml --set "data.corpus=\"$CORPUS\"" \
      --set "model.arch=\"$arch\"" --set "model.hs=$hs" --set "model.negative=$neg" \
      --set "train.alpha=$alpha" --set "train.epochs=$e" --set "train.min_alpha=$ma" \
      --out "$OUT/$mode-$e" > /dev/null 2>&1
    "$TRAIN" eval --vectors "$OUT/$mode-$e/vectors.bin" --analogy "$EVAL/questions-words.txt" \
      --similarity "$EVAL/ws353.tsv" --similarity "$EVAL/simlex999.tsv" --restrict 30000 --json |
      python3 -c "
import json, sys
e = json.load(sys.stdin); s = e['similarity']
print('\t'.join(['$mode', '$e', '$ma', '%.2f' % (100 * e['analogy']['questions-words']['accuracy']),
                 '%.3f' % s['ws353']['spearman'], '%.3f' % s['simlex999']['spearman']]))"
  done
done

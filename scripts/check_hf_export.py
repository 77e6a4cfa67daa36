"""Loads a folder written by `train export` with Hugging Face transformers and compares it with
`train fill-mask`'s answers for the same texts (see check-hf-export.sh).

    check_hf_export.py HF_DIR OURS_PREFIX TEXT...

OURS_PREFIX-<i>.json is `train fill-mask --json --top <vocab>` for TEXT number i: per [MASK],
every token with its probability. Checks that the weights load with no missing or unexpected
tensor, that the tokenizer gives the same ids for [MASK], that transformers' fill-mask pipeline
gives the same top-5 tokens and probabilities, and that the whole distribution at every mask
agrees; prints the largest differences. Exits 1 when a difference exceeds 1e-4.
"""

import json
import math
import sys

import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer, pipeline

TOLERANCE = 1e-4


def main(folder, prefix, texts):
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model, info = AutoModelForMaskedLM.from_pretrained(folder, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    if problems:
        sys.exit(f"{folder}: loading reported {problems}")
    model.eval()
    fill = pipeline("fill-mask", model=model, tokenizer=tokenizer, device="cpu")
    worst = {"probability": 0.0, "log-probability": 0.0, "pipeline score": 0.0}
    for i, text in enumerate(texts):
        with open(f"{prefix}-{i}.json") as f:
            ours = json.load(f)
        encoded = tokenizer(text, return_tensors="pt")
        ids = encoded["input_ids"][0]
        at = (ids == tokenizer.mask_token_id).nonzero().flatten().tolist()
        if len(at) != len(ours):
            sys.exit(f"{text!r}: transformers finds {len(at)} masks, train fill-mask {len(ours)}")
        with torch.no_grad():
            logits = model(**encoded).logits[0]
        log_probs = torch.log_softmax(logits.double(), dim=-1)
        for mask, position in zip(ours, at):
            theirs = {tokenizer.convert_ids_to_tokens(t): p.item()
                      for t, p in enumerate(log_probs[position])}
            if len(mask) != len(theirs):
                sys.exit(f"{text!r}: {len(mask)} tokens from us, {len(theirs)} from transformers")
            for entry in mask:
                lp = theirs[entry["token"]]
                worst["probability"] = max(worst["probability"],
                                           abs(math.exp(lp) - entry["score"]))
                if entry["score"] > 1e-6:
                    worst["log-probability"] = max(worst["log-probability"],
                                                   abs(lp - math.log(entry["score"])))
        answers = fill(text, top_k=5)
        if len(at) == 1:
            answers = [answers]
        for mask, top in zip(ours, answers):
            got = [tokenizer.convert_ids_to_tokens(a["token"]) for a in top]
            want = [e["token"] for e in mask[:5]]
            if got != want:
                sys.exit(f"{text!r}: transformers' top 5 {got}, ours {want}")
            for a, e in zip(top, mask):
                worst["pipeline score"] = max(worst["pipeline score"], abs(a["score"] - e["score"]))
        print(f"  {text!r}: top {[e['token'] for e in ours[0][:3]]} "
              f"p={[round(e['score'], 4) for e in ours[0][:3]]}")
    print("  largest differences: " + ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    if worst["probability"] > TOLERANCE or worst["pipeline score"] > TOLERANCE:
        sys.exit(f"differences above {TOLERANCE}")
    print(f"  OK: transformers and train fill-mask agree within {TOLERANCE}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])

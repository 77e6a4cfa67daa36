#!/usr/bin/env python3
"""PyTorch + HF transformers BertForMaskedLM on one GPU: steady training tokens/s at a given
shape, random token ids (speed does not depend on the text), 15% masking, the MLM head on the
masked positions only (what ours computes), AdamW, f32 (as ours: burn 0.22 has no autocast).
Prints one JSON object; {"error": ...} when PyTorch, transformers or CUDA is missing."""
import argparse
import json
import time


def main():
    p = argparse.ArgumentParser()
    for name, default in [("layers", 4), ("hidden", 256), ("heads", 4), ("ffn", 1024),
                          ("seq", 128), ("batch", 32), ("vocab", 8192), ("steps", 60),
                          ("skip", 20)]:
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--device", default="cuda")
    a = p.parse_args()
    try:
        import torch
        from transformers import BertConfig, BertForMaskedLM
    except ImportError as e:
        print(json.dumps({"error": f"not installed: {e.name}"}))
        return
    if a.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"error": "torch.cuda.is_available() is false"}))
        return
    torch.manual_seed(1)
    config = BertConfig(vocab_size=a.vocab, hidden_size=a.hidden, num_hidden_layers=a.layers,
                        num_attention_heads=a.heads, intermediate_size=a.ffn,
                        max_position_embeddings=a.seq, hidden_dropout_prob=0.1,
                        attention_probs_dropout_prob=0.1)
    model = BertForMaskedLM(config).to(a.device)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    times = []
    for step in range(a.steps):
        ids = torch.randint(5, a.vocab, (a.batch, a.seq), device=a.device)
        masked = torch.rand(a.batch, a.seq, device=a.device) < 0.15
        targets = ids[masked]
        inputs = ids.masked_fill(masked, 4)
        sync()
        start = time.perf_counter()
        hidden = model.bert(input_ids=inputs).last_hidden_state[masked]
        logits = model.cls(hidden)
        loss = torch.nn.functional.cross_entropy(logits, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sync()
        times.append(time.perf_counter() - start)
    steady = sorted(times[a.skip:]) or sorted(times)
    median = steady[len(steady) // 2]
    name = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"
    print(json.dumps({"tokens_per_sec": a.batch * a.seq / median, "device": name,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()

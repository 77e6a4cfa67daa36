# The recipes run.sh knows: NAME -> the --set overrides applied to configs/encoder.toml (whose
# defaults are the benchmark shape: 4 layers, hidden 256, 4 heads, FFN 1024, post-LN, sinusoidal
# positions, dropout 0.1, sequence 128, batch 32, AdamW 5e-4, warmup 100, linear decay).
# Sourced by run.sh; add a line to try another recipe.
declare -A RECIPE=(
  # The shipped config as it is, for 2,000 steps (8M tokens).
  [default]="train.steps=2000"
  # The tiny pre-LN shape: 2 x 128, sequence 64, lr 1e-3.
  [tiny-pre]="model.layers=2 model.hidden=128 model.heads=2 model.ffn=512 model.norm=\"pre\" data.seq_len=64 train.lr=1e-3 train.steps=5000"
  # The same shape with what should shorten the plateau: no dropout, twice the batch and the
  # learning rate, a longer warmup.
  [tiny-fast]="model.layers=2 model.hidden=128 model.heads=2 model.ffn=512 model.norm=\"pre\" model.dropout=0.0 data.seq_len=64 train.batch_size=64 train.lr=2e-3 train.warmup_steps=300 train.steps=5000"
  # tiny-fast, post-LN (what `train export` can hand to transformers).
  [tiny-fast-post]="model.layers=2 model.hidden=128 model.heads=2 model.ffn=512 model.dropout=0.0 data.seq_len=64 train.batch_size=64 train.lr=2e-3 train.warmup_steps=300 train.steps=5000"
  # tiny-fast with one thing changed at a time (its schedule over 5,000 steps kept, so the
  # curves compare step for step; run.sh's STOP_AT ends them early):
  # dropout 0.1 as shipped,
  [tiny-fast-drop]="model.layers=2 model.hidden=128 model.heads=2 model.ffn=512 model.norm=\"pre\" model.dropout=0.1 data.seq_len=64 train.batch_size=64 train.lr=2e-3 train.warmup_steps=300 train.steps=5000"
  # the shipped warmup of 100 steps instead of 300,
  [tiny-fast-warmup100]="model.layers=2 model.hidden=128 model.heads=2 model.ffn=512 model.norm=\"pre\" model.dropout=0.0 data.seq_len=64 train.batch_size=64 train.lr=2e-3 train.warmup_steps=100 train.steps=5000"
  # half the learning rate,
  [tiny-fast-lr1e-3]="model.layers=2 model.hidden=128 model.heads=2 model.ffn=512 model.norm=\"pre\" model.dropout=0.0 data.seq_len=64 train.batch_size=64 train.lr=1e-3 train.warmup_steps=300 train.steps=5000"
  # sequences of 128 at half the batch (the same tokens per step),
  [tiny-fast-seq128]="model.layers=2 model.hidden=128 model.heads=2 model.ffn=512 model.norm=\"pre\" model.dropout=0.0 data.seq_len=128 train.batch_size=32 train.lr=2e-3 train.warmup_steps=300 train.steps=5000"
  # four times the batch through gradient accumulation (a quarter of the steps, the same tokens;
  # evaluated every 125 steps, so at the same tokens as the others; STOP_AT counts its steps,
  # so a quarter of the others' STOP_AT compares at the same tokens),
  [tiny-fast-accum4]="model.layers=2 model.hidden=128 model.heads=2 model.ffn=512 model.norm=\"pre\" model.dropout=0.0 data.seq_len=64 train.batch_size=64 train.grad_accum=4 train.lr=2e-3 train.warmup_steps=75 train.steps=1250 train.eval_every=125 train.checkpoint_every=125"
  # deeper and narrower: 4 x 96 (about the same weights outside the embeddings: 442k vs 393k).
  [deep-narrow]="model.layers=4 model.hidden=96 model.heads=2 model.ffn=384 model.norm=\"pre\" model.dropout=0.0 data.seq_len=64 train.batch_size=64 train.lr=2e-3 train.warmup_steps=300 train.steps=5000"
  # The benchmark shape without dropout, at twice the learning rate.
  [base-fast]="model.dropout=0.0 train.lr=1e-3 train.warmup_steps=300 train.steps=2000"
)

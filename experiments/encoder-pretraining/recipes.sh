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
  # The benchmark shape without dropout, at twice the learning rate.
  [base-fast]="model.dropout=0.0 train.lr=1e-3 train.warmup_steps=300 train.steps=2000"
)

# Sourced by run.sh and quickstart.sh: fill-mask probes at a run's checkpoints.
# probe_checkpoints TRAIN RUN_DIR PROBES_TSV VIEW_DIR: for every RUN_DIR/checkpoints/step-N not
# yet in RUN_DIR/probes.tsv, appends "N<TAB>text<TAB>expected<TAB>top-3 answers" for each line
# "text<TAB>expected" of PROBES_TSV. VIEW_DIR is a scratch folder that makes a checkpoint look
# like a run folder (tokenizer and weights), which is what `train fill-mask --run` reads.
probe_checkpoints() {
  local train="$1" run="$2" probes="$3" view="$4" ckpt step text expected answers
  for ckpt in $(ls -d "$run"/checkpoints/step-* | sort -t- -k2 -n); do
    step="${ckpt##*step-}"
    grep -q "^$step	" "$run/probes.tsv" 2>/dev/null && continue
    rm -rf "$view"; mkdir -p "$view"
    ln -s "$run/tokenizer.json" "$view/tokenizer.json"
    ln -s "$ckpt/model.bpk" "$view/model.bpk"; ln -s "$ckpt/model.json" "$view/model.json"
    while IFS=$'\t' read -r text expected; do
      answers="$("$train" fill-mask --run "$view" "$text" --top 3 | cut -f2 | paste -sd ' ')"
      printf '%s\t%s\t%s\t%s\n' "$step" "$text" "$expected" "$answers" >> "$run/probes.tsv"
    done < "$probes"
  done
}

"""Prints the quality table of experiments/word2vec-gpu from its results TSV: per config, the CPU
engine's and the GPU engine's analogy accuracy and Spearman correlations, the GPU's difference,
and whether it is within the issue's bounds (1 analogy point, 0.02 Spearman, or better).
The newest row of each (config, device) counts."""
import sys

rows = {}
for line in open(sys.argv[1]):
    config, device, secs, wps, acc, ws, sl, loaded = line.rstrip("\n").split("\t")
    rows[(config, device)] = dict(secs=float(secs), wps=float(wps), acc=float(acc),
                                  ws=float(ws), sl=float(sl), loaded=loaded)
configs = list(dict.fromkeys(c for c, _ in rows))
print("| config | engine | words/s | analogy % | WS-353 ρ | SimLex ρ | gensim loads |")
print("|---|---|---|---|---|---|---|")
verdicts = []
for c in configs:
    for d in ("cpu", "wgpu"):
        r = rows.get((c, d))
        if r:
            print(f"| {c} | {d} | {r['wps']:,.0f} | {r['acc']:.2f} | {r['ws']:.3f} | {r['sl']:.3f} | {r['loaded']} |")
    cpu, gpu = rows.get((c, "cpu")), rows.get((c, "wgpu"))
    if cpu and gpu:
        da, dw, ds = gpu["acc"] - cpu["acc"], gpu["ws"] - cpu["ws"], gpu["sl"] - cpu["sl"]
        ok = da >= -1 and dw >= -0.02 and ds >= -0.02
        verdicts.append(f"{c}: GPU − CPU = {da:+.2f} analogy points, {dw:+.3f} WS-353, {ds:+.3f} SimLex: {'within bounds' if ok else 'OUTSIDE the bounds'}")
print()
print("\n".join(verdicts))

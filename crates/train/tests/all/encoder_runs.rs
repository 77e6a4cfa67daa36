//! `train encoder` end to end on a small generated corpus (built with `--features encoder`).

use super::*;

/// `train encoder --config enc.toml --out run` in `dir`, caching token streams inside `dir`.
fn encoder_run(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_train"))
        .args(["encoder", "--config", "enc.toml", "--out", "run"])
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .output()
        .expect("the train binary runs")
}

#[test]
fn encoder_run_writes_tokenizer_model_and_training_curves() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 3000);
    std::fs::write(dir.join("enc.toml"), format!("[data]\ncorpus = {:?}\nseq_len = 16\nvalid_fraction = 0.1\n\n[tokenizer]\nvocab_size = 60\n\n[model]\nlayers = 1\nhidden = 16\nheads = 2\nffn = 32\n\n[train]\nbatch_size = 8\nsteps = 30\nwarmup_steps = 3\nlr = 0.003\nlog_every = 5\neval_every = 10\n", corpus.display().to_string())).unwrap();
    let o = encoder_run(dir);
    assert!(o.status.success(), "{}", stderr(&o));
    let run = dir.join("run");
    for f in ["config.toml", "tokenizer.json", "model.bpk"] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let values = |tag: &str| scalars(&run, tag);
    assert_eq!(values("train/loss").len(), 6);
    assert_eq!(values("train/lr").len(), 6);
    assert_eq!(values("train/tokens_per_sec").len(), 6);
    assert!(values("train/grad_norm").iter().all(|v| v.1 > 0.0));
    assert_eq!(values("train/grad_norm").len(), 6);
    let eval = values("eval/loss");
    assert_eq!(eval.iter().map(|e| e.0).collect::<Vec<_>>(), [10, 20, 30]);
    assert!(eval[2].1 < eval[0].1, "{eval:?}");
    let ppl = values("eval/perplexity");
    assert!((ppl[2].1 - eval[2].1.exp()).abs() < 1e-3 * ppl[2].1);
    assert_eq!(values("eval/mlm_accuracy").len(), 3);
    // fill-mask with the run: one list per [MASK], `--top` entries, scores descending.
    let o = train(
        dir,
        &[
            "fill-mask",
            "--run",
            "run",
            "the cat [MASK] in the [MASK]",
            "--top",
            "4",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let masks: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let masks = masks.as_array().unwrap();
    assert_eq!(masks.len(), 2);
    for m in masks {
        let scores: Vec<f64> = m
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["score"].as_f64().unwrap())
            .collect();
        assert_eq!(scores.len(), 4);
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]) && scores.iter().sum::<f64>() <= 1.0 + 1e-6
        );
        assert!(m[0]["token"].is_string());
    }
    let o = train(dir, &["fill-mask", "--run", "run", "no mask here"]);
    assert!(
        !o.status.success() && stderr(&o).contains("no [MASK]"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1);
    // The token stream was cached for the next run with this corpus and tokenizer.
    assert!(
        std::fs::read_dir(dir.join("cache/train/tokens"))
            .unwrap()
            .count()
            >= 1
    );
}

#[test]
fn word2vec_vectors_initialise_the_token_embeddings() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 2000);
    let cfg = write_config(dir, &corpus, "");
    let o = train(
        dir,
        &[
            "word2vec",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            "w2v",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let enc = |hidden: usize| {
        format!(
            "[data]\ncorpus = {:?}\nseq_len = 16\nvalid_fraction = 0.1\n\n[tokenizer]\nvocab_size = 200\n\n[model]\nlayers = 1\nhidden = {hidden}\nheads = 2\nffn = 32\ninit_embeddings = \"w2v/vectors.bin\"\n\n[train]\nbatch_size = 8\nsteps = 4\nlog_every = 2\neval_every = 4\n",
            corpus.display().to_string()
        )
    };
    std::fs::write(dir.join("enc.toml"), enc(16)).unwrap();
    let o = encoder_run(dir);
    assert!(o.status.success(), "{}", stderr(&o));
    // The corpus words (cat, dog, farm, ...) are whole WordPiece tokens with word vectors.
    let line = stderr(&o)
        .lines()
        .find(|l| l.contains("init_embeddings"))
        .unwrap_or_default()
        .to_string();
    let covered: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(covered >= 20, "{line}");
    // Dimensions must match: a one-line error before any run folder is made.
    std::fs::write(dir.join("enc.toml"), enc(8)).unwrap();
    let o = train(dir, &["encoder", "--config", "enc.toml", "--out", "run8"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("dimension 16") && stderr(&o).contains("model.hidden = 8"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.join("run8").exists());
}

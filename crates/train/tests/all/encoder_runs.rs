//! `train encoder` end to end on a small generated corpus (built with `--features encoder`).

use super::*;

/// `train encoder --config enc.toml --out OUT ARGS...` in `dir`, caching token streams inside
/// `dir`; not yet started.
fn encoder_command(dir: &Path, out: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_train"));
    command
        .args(["encoder", "--config", "enc.toml", "--out", out])
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"));
    command
}

/// `train encoder --config enc.toml --out run` in `dir`, run to its end.
fn encoder_run(dir: &Path) -> Output {
    encoder_command(dir, "run", &[])
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
    // Weight histograms at every evaluation, one per parameter tensor.
    let events = train::tensorboard::read_events(&event_file(&run)).unwrap();
    let histograms: Vec<(i64, String, f64)> = events
        .iter()
        .flat_map(|e| {
            e.summary_values()
                .iter()
                .filter_map(|v| v.histo().map(|h| (e.step, v.tag.clone(), h.num)))
                .collect::<Vec<_>>()
        })
        .collect();
    let embedding: Vec<(i64, f64)> = histograms
        .iter()
        .filter(|h| h.1 == "weights/tokens.weight")
        .map(|h| (h.0, h.2))
        .collect();
    assert_eq!(
        embedding.iter().map(|h| h.0).collect::<Vec<_>>(),
        [10, 20, 30]
    );
    // vocabulary x hidden values (the vocabulary is at most the 60 asked for).
    let n = embedding[0].1;
    assert!(n > 0.0 && n <= 960.0 && n % 16.0 == 0.0, "{n}");
    assert!(embedding.iter().all(|h| h.1 == n));
    assert!(
        histograms
            .iter()
            .any(|h| h.1.starts_with("weights/layers.0.")),
        "{:?}",
        histograms.iter().map(|h| &h.1).collect::<Vec<_>>()
    );
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
    // The weights carry their shape (model.json beside model.bpk): fill-mask needs no
    // config.toml, and gives the same answer without it.
    assert!(run.join("model.json").is_file());
    let query = [
        "fill-mask",
        "--run",
        "run",
        "the cat [MASK] in the [MASK]",
        "--json",
    ];
    let with_config = train(dir, &query);
    std::fs::remove_file(run.join("config.toml")).unwrap();
    let without = train(dir, &query);
    assert!(without.status.success(), "{}", stderr(&without));
    assert_eq!(with_config.stdout, without.stdout);
    // export writes a Hugging Face folder (scripts/check-hf-export.sh loads it with
    // transformers); a second export into it is one line of error and changes nothing.
    let o = train(dir, &["export", "--run", "run", "--out", "hf"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("from_pretrained"), "{}", stderr(&o));
    let files = [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ];
    for f in files {
        assert!(dir.join("hf").join(f).is_file(), "{f} missing");
    }
    let weights = std::fs::read(dir.join("hf/model.safetensors")).unwrap();
    let o = train(dir, &["export", "--run", "run", "--out", "hf"]);
    assert!(
        !o.status.success() && stderr(&o).contains("not empty"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert_eq!(
        std::fs::read(dir.join("hf/model.safetensors")).unwrap(),
        weights
    );
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

#[test]
fn a_killed_run_resumes_from_its_newest_checkpoint_and_continues_the_same_curve() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 3000);
    // Dropout stays on (0.1 by default): the resumed steps must draw the same dropout masks.
    std::fs::write(dir.join("enc.toml"), format!("[data]\ncorpus = {:?}\nseq_len = 16\nvalid_fraction = 0.1\n\n[tokenizer]\nvocab_size = 60\n\n[model]\nlayers = 1\nhidden = 16\nheads = 2\nffn = 32\n\n[train]\nbatch_size = 8\nsteps = 400\nwarmup_steps = 3\nlr = 0.003\nlog_every = 1\neval_every = 50\ncheckpoint_every = 20\nkeep_checkpoints = 2\n", corpus.display().to_string())).unwrap();
    let run = |out: &str, extra: &[&str]| encoder_command(dir, out, extra).output().unwrap();
    let o = run("whole", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let kept: Vec<String> = std::fs::read_dir(dir.join("whole/checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(kept.len(), 2, "the newest 2 of 20 checkpoints: {kept:?}");
    assert!(kept.contains(&"step-400".to_string()), "{kept:?}");

    // The same run, killed (SIGKILL) once its first checkpoint is complete. It reuses the first
    // run's tokenizer: HF tokenizers' trainer breaks ties in hash order, so two trainings of one
    // corpus may number (or even pick) tokens differently; a resumed run reads its own.
    let config = std::fs::read_to_string(dir.join("enc.toml")).unwrap();
    std::fs::write(
        dir.join("enc.toml"),
        config.replace(
            "[tokenizer]\n",
            "[tokenizer]\npath = \"whole/tokenizer.json\"\n",
        ),
    )
    .unwrap();
    let mut child = encoder_command(dir, "cut", &[])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first = dir.join("cut/checkpoints/step-20");
    let started = std::time::Instant::now();
    while !first.exists() && started.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before it could be killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.join("cut/model.bpk").exists());
    // fill-mask works on the stopped run, with its newest checkpoint.
    let o = train(
        dir,
        &["fill-mask", "--run", "cut", "the [MASK] sat", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let curve_len = |run: &Path| scalars(run, "train/loss").len();
    let cut_steps = curve_len(&dir.join("cut"));
    assert!(
        (20..400).contains(&cut_steps),
        "{cut_steps} steps before the kill"
    );

    // Resuming with a changed model or too few steps is refused, in one line.
    for (set, expected) in [
        ("model.hidden=32", "model.hidden (16 -> 32)"),
        ("train.seed=2", "train.seed (1 -> 2)"),
        ("train.steps=10", "raise train.steps"),
    ] {
        let o = run("cut", &["--resume", "--set", set]);
        assert!(!o.status.success());
        assert!(stderr(&o).contains(expected), "{set}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
    let o = run("cut", &["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("resuming from"), "{}", stderr(&o));

    // SIGINT (Ctrl-C) and SIGTERM save a checkpoint of the step the run stopped after, say how to
    // continue, and exit with the shell's code for the signal; a second signal exits at once.
    for (run_name, signals, code) in [
        ("int", &["-INT"][..], 130),
        ("term", &["-TERM"][..], 143),
        ("twice", &["-INT", "-INT"][..], 130),
    ] {
        let child = encoder_command(dir, run_name, &[])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let first = dir.join(run_name).join("checkpoints/step-20");
        while !first.exists() && started.elapsed().as_secs() < 240 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        for signal in signals {
            let sent = Command::new("kill")
                .args([*signal, &child.id().to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(code), "{run_name}: {}", stderr(&o));
        if signals.len() == 1 {
            let last_line = stderr(&o).lines().last().unwrap_or_default().to_string();
            let name = if code == 130 { "SIGINT" } else { "SIGTERM" };
            assert!(
                last_line.starts_with(&format!("stopped by {name}; step "))
                    && last_line.contains("continue with: train encoder --config")
                    && last_line.ends_with(&format!("--out {run_name} --resume")),
                "{last_line}"
            );
            let steps_done = curve_len(&dir.join(run_name));
            assert!(
                dir.join(run_name)
                    .join(format!("checkpoints/step-{steps_done}/state.json"))
                    .is_file(),
                "no checkpoint of step {steps_done}: {}",
                stderr(&o)
            );
        }
        let o = run(run_name, &["--resume"]);
        assert!(o.status.success(), "{run_name}: {}", stderr(&o));
    }

    // TensorBoard keeps the last value logged for a step: the resumed run's, from its newest
    // checkpoint on. That curve is the uninterrupted one, value for value.
    let curve = |run: &str, tag: &str| {
        let mut last = std::collections::BTreeMap::new();
        for (step, v) in scalars(&dir.join(run), tag) {
            last.insert(step, v);
        }
        last.into_iter().collect::<Vec<_>>()
    };
    for tag in ["train/loss", "train/grad_norm", "train/lr", "eval/loss"] {
        let whole = curve("whole", tag);
        assert!(!whole.is_empty());
        assert_eq!(whole, curve("cut", tag), "{tag}");
        for stopped in ["int", "term", "twice"] {
            assert_eq!(whole, curve(stopped, tag), "{tag}: {stopped}");
        }
    }
    let mask = |run: &str| {
        let o = train(
            dir,
            &[
                "fill-mask",
                "--run",
                run,
                "the cat [MASK] in the farm",
                "--json",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        o.stdout
    };
    assert_eq!(mask("whole"), mask("cut"), "same final weights");
    assert_eq!(mask("whole"), mask("int"), "same final weights");

    // A finished run has a checkpoint of its last step, so it can be extended.
    let o = run("int", &["--resume", "--set", "train.steps=410"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(curve("int", "train/loss").last().map(|p| p.0), Some(410));
}

#[test]
fn a_missing_or_corrupt_checkpoint_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 600);
    std::fs::write(dir.join("enc.toml"), format!("[data]\ncorpus = {:?}\nseq_len = 16\nvalid_fraction = 0.1\n\n[tokenizer]\nvocab_size = 60\n\n[model]\nlayers = 1\nhidden = 16\nheads = 2\nffn = 32\n\n[train]\nbatch_size = 8\nsteps = 4\nlog_every = 2\neval_every = 4\ncheckpoint_every = 2\n", corpus.display().to_string())).unwrap();
    let o = encoder_run(dir);
    assert!(o.status.success(), "{}", stderr(&o));
    let resume = |extra: &str| {
        let o = encoder_command(dir, "run", &["--resume", "--set", extra])
            .output()
            .unwrap();
        assert!(!o.status.success());
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        stderr(&o)
    };
    // Damage the newest checkpoint's weights: refused, naming the file.
    let weights = dir.join("run/checkpoints/step-4/model.bpk");
    let mut bytes = std::fs::read(&weights).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&weights, &bytes).unwrap();
    let e = resume("train.steps=8");
    assert!(
        e.contains("step-4/model.bpk") && e.contains("checksum"),
        "{e}"
    );
    // A state file that does not parse.
    std::fs::write(dir.join("run/checkpoints/step-4/state.json"), "{").unwrap();
    let e = resume("train.steps=8");
    assert!(e.contains("state.json"), "{e}");
    // A state whose sequence order is damaged (it parses, and its checksums are right).
    let state_path = dir.join("run/checkpoints/step-2/state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    state["progress"]["order"][0] = serde_json::json!(999_999);
    std::fs::write(&state_path, state.to_string()).unwrap();
    std::fs::remove_dir_all(dir.join("run/checkpoints/step-4")).unwrap();
    let e = resume("train.steps=8");
    assert!(
        e.contains("order[0] = 999999 repeats or is not below"),
        "{e}"
    );
    // A model.json that claims 10^12 tokens, and a tokenizer.json with an id past its
    // vocabulary: one line each from fill-mask, nothing allocated for them.
    let fill_mask = || {
        let o = train(dir, &["fill-mask", "--run", "run", "the [MASK] eats"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        stderr(&o)
    };
    let shape_path = dir.join("run/model.json");
    let good_shape = std::fs::read_to_string(&shape_path).unwrap();
    let mut shape: serde_json::Value = serde_json::from_str(&good_shape).unwrap();
    shape["vocab_size"] = serde_json::json!(1_000_000_000_000u64);
    std::fs::write(&shape_path, shape.to_string()).unwrap();
    let e = fill_mask();
    assert!(
        e.contains("model.json") && e.contains("vocab_size 1000000000000"),
        "{e}"
    );
    std::fs::write(&shape_path, good_shape).unwrap();
    let tokenizer_path = dir.join("run/tokenizer.json");
    let mut tokenizer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&tokenizer_path).unwrap()).unwrap();
    tokenizer["model"]["vocab"]["the"] = serde_json::json!(999_999);
    std::fs::write(&tokenizer_path, tokenizer.to_string()).unwrap();
    let e = fill_mask();
    assert!(
        e.contains("tokenizer.json: token \"the\" has id 999999"),
        "{e}"
    );
    // No checkpoint at all.
    std::fs::remove_dir_all(dir.join("run/checkpoints")).unwrap();
    let e = resume("train.steps=8");
    assert!(e.contains("no complete checkpoint"), "{e}");
}

//! Every bad input is one `error:` line, a non-zero exit, no panic, no backtrace and no vectors.

use super::*;

fn assert_clean_failure(dir: &Path, args: &[&str], needles: &[&str]) {
    let o = train(dir, args);
    let err = stderr(&o);
    assert!(!o.status.success(), "{args:?} succeeded: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        errors.len(),
        1,
        "{args:?}: expected one error line, got: {err}"
    );
    assert!(
        lines.last().is_some_and(|l| l.starts_with("error: ")),
        "{err}"
    );
    // Errors found before any work starts (config, missing files) are the only output.
    if !needles
        .iter()
        .any(|n| n.contains("min_count") || *n == "empty")
    {
        assert_eq!(lines.len(), 1, "{args:?}: expected one line, got: {err}");
    }
    assert!(
        !err.contains("panicked") && !err.contains("stack backtrace"),
        "{err}"
    );
    for n in needles {
        assert!(err.contains(n), "{args:?}: {err:?} lacks {n:?}");
    }
    let vectors: Vec<_> = walk(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("vectors"))
        .collect();
    assert!(vectors.is_empty(), "{args:?} left {vectors:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn bad_configs_fail_with_one_line_naming_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 50);
    let cfg = write_config(dir, &corpus, "");
    let cfg = cfg.to_str().unwrap();
    let out = dir.join("run");
    let out = out.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--set", "model.dimm=3"],
            &["w2v.toml", "model.dimm", "unknown field"],
        ),
        (
            &["--set", "model.dim=\"x\""],
            &["model.dim", "invalid type"],
        ),
        (&["--set", "model.dim=0"], &["model.dim = 0", "1..=10000"]),
        (&["--set", "train.alpha=-1"], &["train.alpha = -1"]),
        (
            &["--set", "model.arch=glove"],
            &["model.arch", "`glove`", "`skipgram` or `cbow`"],
        ),
        (
            &["--set", "train.device=\"tpu\""],
            &["train.device", "`tpu`", "`cpu` or `wgpu`"],
        ),
        (
            &["--set", "model.negative=0"],
            &["model.negative = 0 with hs = false", "hs = true"],
        ),
        (&["--set", "data.min_count=0"], &["data.min_count = 0"]),
        (
            &["--set", "data.corpus=\"missing.txt\""],
            &["data.corpus", "missing.txt"],
        ),
        (&["--set", "data.corpus=\".\""], &["is a directory"]),
        (&["--set", "data.min_count=100000"], &["min_count"]),
        (
            &["--set", "eval.analogy=[\"nope.txt\"]"],
            &["eval.analogy", "nope.txt"],
        ),
    ];
    for (i, (sets, needles)) in cases.iter().enumerate() {
        let out = format!("{out}-{i}");
        let mut args = vec!["word2vec", "--config", cfg, "--out", &out];
        args.extend_from_slice(sets);
        assert_clean_failure(dir, &args, needles);
    }
    assert_clean_failure(
        dir,
        &["word2vec", "--config", "absent.toml"],
        &["absent.toml"],
    );
    std::fs::write(dir.join("broken.toml"), "[data\ncorpus = 1\n").unwrap();
    assert_clean_failure(
        dir,
        &["word2vec", "--config", "broken.toml"],
        &["broken.toml", "line 1"],
    );
    std::fs::write(dir.join("empty.txt"), "\n \n").unwrap();
    let args = [
        "word2vec",
        "--config",
        cfg,
        "--out",
        "empty-run",
        "--set",
        "data.corpus=\"empty.txt\"",
    ];
    assert_clean_failure(dir, &args, &["empty.txt", "empty"]);
    // A folder that already holds a run is refused, and its files are left alone.
    std::fs::create_dir_all(dir.join("old")).unwrap();
    std::fs::write(dir.join("old/config.toml"), "x").unwrap();
    assert_clean_failure(
        dir,
        &["word2vec", "--config", cfg, "--out", "old"],
        &["already holds a run"],
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("old/config.toml")).unwrap(),
        "x"
    );
    // Command-line misuse is one line too (clap's usage text is cut).
    assert_clean_failure(dir, &["word2vec", "--config", cfg, "--bogus"], &["--bogus"]);
}

#[test]
fn encoder_without_corpus_resume_and_fill_mask_fail_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("enc.toml"), "[data]\ncorpus = \"c.txt\"\n").unwrap();
    // Without its corpus the encoder stops at data.corpus (built with the encoder feature) or
    // says it was built without the encoder; either way one line and no run folder.
    let missing: &[&str] = if cfg!(feature = "encoder") {
        &["data.corpus", "c.txt"]
    } else {
        &["without the encoder"]
    };
    assert_clean_failure(dir, &["encoder", "--config", "enc.toml"], missing);
    assert!(!dir.join("runs").exists());
    let resume: &[&str] = if cfg!(feature = "encoder") {
        &["--resume needs --out"]
    } else {
        &["without the encoder"]
    };
    assert_clean_failure(
        dir,
        &["encoder", "--config", "enc.toml", "--resume"],
        resume,
    );
    // The encoder's config is the encoder library's type: a binary built without it says so
    // before reading the config.
    if cfg!(feature = "encoder") {
        assert_clean_failure(
            dir,
            &["encoder", "--config", "enc.toml", "--set", "model.heads=3"],
            &["model.heads = 3"],
        );
        assert_clean_failure(
            dir,
            &["encoder", "--config", "enc.toml", "--set", "train.shards=0"],
            &["train.shards = 0", "1..=1024"],
        );
        assert_clean_failure(
            dir,
            &[
                "encoder",
                "--config",
                "enc.toml",
                "--set",
                "model.init=\"xavier\"",
            ],
            &["model.init", "xavier", "bert"],
        );
    }
    // fill-mask needs the run's tokenizer and weights (which carry their shape), not its config.
    let no_run: &[&str] = if cfg!(feature = "encoder") {
        &["r/tokenizer.json"]
    } else {
        &["without the encoder"]
    };
    assert_clean_failure(dir, &["fill-mask", "--run", "r", "a [MASK] b"], no_run);
    assert_clean_failure(dir, &["export", "--run", "r", "--out", "hf"], no_run);
    assert!(!dir.join("hf").exists());
}

#[test]
fn every_subcommand_explains_its_flags() {
    let tmp = tempfile::tempdir().unwrap();
    for (sub, flag) in [
        ("word2vec", "--set"),
        ("encoder", "--resume"),
        ("eval", "--restrict"),
        ("similar", "--top"),
        ("analogy", "--json"),
        ("fill-mask", "--run"),
        ("export", "--out"),
    ] {
        let o = train(tmp.path(), &[sub, "--help"]);
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains(flag), "{sub} --help lacks {flag}: {text}");
    }
}

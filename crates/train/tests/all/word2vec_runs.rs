//! Real training runs on a small generated corpus: outputs, TensorBoard records, learning,
//! reproducibility.

use super::*;
use train::tensorboard::read_events;
use word2vec::Embeddings;

#[test]
fn training_learns_writes_outputs_and_logs_to_tensorboard() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 6000);
    let cfg = write_config(dir, &corpus, "[output]\ntext = true\nprojector_words = 5\n");
    let o = train(
        dir,
        &[
            "word2vec",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            "run",
            "--set",
            "model.negative=3",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let run = dir.join("run");
    // Resolved config first, with the architecture's default learning rate filled in.
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(
        config.contains("alpha = 0.025") && config.contains("negative = 3"),
        "{config}"
    );
    let vocab = std::fs::read_to_string(run.join("vocab.txt")).unwrap();
    assert!(vocab.starts_with("the "), "{vocab}");
    // Both formats, same vectors.
    let bin = Embeddings::read(&run.join("vectors.bin")).unwrap();
    let txt = Embeddings::read(&run.join("vectors.txt")).unwrap();
    assert_eq!(bin.words(), txt.words());
    assert!(
        bin.data()
            .iter()
            .zip(txt.data())
            .all(|(a, b)| (a - b).abs() <= 1e-6 * a.abs().max(1.0))
    );
    assert_eq!(bin.dim(), 16);
    // It learned the two clusters.
    // It learned the two clusters (the top 3 of cat are animals only, of car vehicles only).
    assert_clusters(&run.join("vectors.bin"), "skip-gram");
    // Loss falls from epoch to epoch; lr decays; the config is logged as text at step 0.
    let epoch_loss = scalars(&run, "train/epoch_loss");
    assert_eq!(epoch_loss.len(), 3, "{epoch_loss:?}");
    assert!(epoch_loss[2].1 < epoch_loss[0].1, "{epoch_loss:?}");
    let lr = scalars(&run, "train/lr");
    assert!(!lr.is_empty() && !scalars(&run, "train/loss").is_empty());
    assert!(
        lr.windows(2).all(|w| w[1].1 <= w[0].1 && w[1].0 >= w[0].0),
        "{lr:?}"
    );
    let events = read_events(&event_file(&run)).unwrap();
    let text = events
        .iter()
        .flat_map(|e| {
            e.summary_values()
                .iter()
                .filter(|v| v.tag == "config")
                .filter_map(|v| v.text().map(|t| (e.step, t.to_string())))
                .collect::<Vec<_>>()
        })
        .next()
        .expect("config text summary");
    assert_eq!(text.0, 0);
    assert!(text.1.contains("negative = 3"));
    assert!(events.iter().any(|e| {
        e.summary_values()
            .iter()
            .any(|v| v.tag == "vectors/input" && v.histo().is_some())
    }));
    // Projector files for the 5 most frequent words.
    let meta = std::fs::read_to_string(run.join("word2vec/metadata.tsv")).unwrap();
    assert_eq!(meta.lines().count(), 5);
    assert_eq!(
        std::fs::read_to_string(run.join("word2vec/tensors.tsv"))
            .unwrap()
            .lines()
            .count(),
        5
    );
    assert!(
        std::fs::read_to_string(run.join("projector_config.pbtxt"))
            .unwrap()
            .contains("word2vec/tensors.tsv")
    );
}

#[test]
fn cbow_hierarchical_softmax_and_both_skipgram_loops_learn_too() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 6000);
    let cfg = write_config(dir, &corpus, "");
    let cfg = cfg.to_str().unwrap();
    // Skip-gram's windows train as matrix products with shared outputs (the default), or pair by
    // pair (share_negatives = false), with negatives, hierarchical softmax or both.
    let variants: [(&str, &[&str]); 7] = [
        ("cbow", &["model.arch=cbow"]),
        (
            "cbow-sum",
            &[
                "model.arch=cbow",
                "model.cbow_mean=false",
                "train.alpha=0.01",
            ],
        ),
        ("hs", &["model.hs=true", "model.negative=0"]),
        ("hs+negatives", &["model.hs=true"]),
        (
            "cbow-hs",
            &["model.arch=cbow", "model.hs=true", "model.negative=0"],
        ),
        ("unshared", &["model.share_negatives=false"]),
        (
            "hs-pairwise",
            &[
                "model.hs=true",
                "model.negative=0",
                "model.share_negatives=false",
            ],
        ),
    ];
    for (name, sets) in variants {
        let mut args = vec!["word2vec", "--config", cfg, "--out", name];
        for s in sets {
            args.extend(["--set", s]);
        }
        let o = train(dir, &args);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert_clusters(&dir.join(name).join("vectors.bin"), name);
        let loss = scalars(&dir.join(name), "train/epoch_loss");
        assert!(loss[2].1 < loss[0].1, "{name}: {loss:?}");
    }
}

#[test]
fn one_thread_runs_are_reproducible_byte_for_byte_and_seeds_matter() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 1500);
    let cfg = write_config(dir, &corpus, "");
    let cfg = cfg.to_str().unwrap();
    let mut outputs = Vec::new();
    for (out, seed, arch) in [
        ("a", "1", "cbow"),
        ("b", "1", "cbow"),
        ("c", "2", "cbow"),
        ("d", "1", "skipgram"),
        ("e", "1", "skipgram"),
    ] {
        let o = train(
            dir,
            &[
                "word2vec",
                "--config",
                cfg,
                "--out",
                out,
                "--set",
                &format!("train.seed={seed}"),
                "--set",
                &format!("model.arch={arch}"),
                "--set",
                "model.hs=true",
                "--set",
                "train.sample=1e-2",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        outputs.push(std::fs::read(dir.join(out).join("vectors.bin")).unwrap());
    }
    assert_eq!(
        outputs[0], outputs[1],
        "same seed, one thread: identical bytes"
    );
    assert_ne!(outputs[0], outputs[2], "another seed: other vectors");
    assert_eq!(outputs[3], outputs[4]);
}

#[test]
fn corpus_with_invalid_utf8_and_gzip_trains() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let path = dir.join("c.txt.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    for _ in 0..200 {
        gz.write_all(b"alpha beta gamma \xff\xfe delta\n").unwrap();
    }
    gz.finish().unwrap();
    let cfg = write_config(dir, &path, "");
    let o = train(
        dir,
        &[
            "word2vec",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            "run",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("200 tokens had invalid UTF-8"),
        "{}",
        stderr(&o)
    );
    let v = Embeddings::read(&dir.join("run/vectors.bin")).unwrap();
    assert_eq!(v.len(), 5);
    assert!(v.words().contains(&"\u{fffd}\u{fffd}".to_string()));
}

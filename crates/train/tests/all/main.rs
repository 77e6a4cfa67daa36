//! End-to-end tests of the `train` binary: one test binary (linking is the slow part of a build),
//! real files in temporary folders, real event files read back with their CRCs checked.

mod cli_errors;
#[cfg(feature = "encoder")]
mod encoder_runs;
mod faults;
#[cfg(feature = "wgpu")]
mod gpu_runs;
mod queries;
mod word2vec_runs;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use train::tensorboard::read_events;

/// Runs the `train` binary with `args` from `dir`.
pub fn train(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_train"))
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("the train binary runs")
}

/// Starts `command` with stderr captured.
pub fn spawn(mut command: Command) -> Child {
    command.stderr(Stdio::piped()).spawn().unwrap()
}

/// Waits (up to four minutes) until `path` exists.
pub fn wait_for(path: &Path) {
    let started = Instant::now();
    while !path.exists() {
        assert!(started.elapsed() < Duration::from_secs(240), "{path:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Sends `signal` (`-INT`, `-TERM`, `-KILL`) to `child`.
pub fn kill(child: &Child, signal: &str) {
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A corpus with two clusters of nouns that share their contexts within a cluster, so a trained
/// model must put `cat` near `dog` and `car` near `truck`. Deterministic.
pub fn cluster_corpus(dir: &Path, sentences: usize) -> PathBuf {
    let animals = ["cat", "dog", "horse", "cow"];
    let animal_verbs = ["eats", "sleeps", "runs", "drinks", "barks"];
    let vehicles = ["car", "truck", "bus", "van"];
    let vehicle_verbs = ["drives", "parks", "stalls", "honks", "brakes"];
    let places = ["farm", "barn", "field", "road", "street", "garage"];
    let mut text = String::new();
    let mut state = 12345u64;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % n
    };
    for _ in 0..sentences {
        let (nouns, verbs, place) = if next(2) == 0 {
            (&animals, &animal_verbs, &places[..3])
        } else {
            (&vehicles, &vehicle_verbs, &places[3..])
        };
        let line = format!(
            "the {} {} in the {} and the {} {}\n",
            nouns[next(4)],
            verbs[next(5)],
            place[next(3)],
            nouns[next(4)],
            verbs[next(5)]
        );
        text.push_str(&line);
    }
    let path = dir.join("corpus.txt");
    std::fs::write(&path, text).expect("write corpus");
    path
}

/// A config for the cluster corpus; `extra` is appended (later keys of the same table are
/// written as --set in tests instead, since TOML forbids duplicates).
pub fn write_config(dir: &Path, corpus: &Path, extra: &str) -> PathBuf {
    let path = dir.join("w2v.toml");
    let text = format!(
        "[data]\ncorpus = {:?}\nmin_count = 1\n\n[model]\ndim = 16\nwindow = 3\n\n[train]\nepochs = 3\nthreads = 1\nsample = 0.0\nlog_every_secs = 0.05\n{extra}",
        corpus.display().to_string()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// The event file of a run folder.
pub fn event_file(run: &Path) -> PathBuf {
    std::fs::read_dir(run)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains("tfevents")
        })
        .expect("an event file")
}

/// The `(step, value)` scalars logged under `tag` in a run folder (CRCs checked), from all its
/// event files, oldest file first.
pub fn scalars(run: &Path, tag: &str) -> Vec<(i64, f32)> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(run)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains("tfevents")
        })
        .map(|p| (std::fs::metadata(&p).unwrap().modified().unwrap(), p))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|(_, f)| read_events(f).expect("event file reads back with valid CRCs"))
        .flat_map(|e| {
            e.summary_values()
                .iter()
                .filter(|v| v.tag == tag)
                .filter_map(|v| v.simple_value().map(|x| (e.step, x)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The vectors at `vectors` learned the cluster corpus: the 3 nearest neighbours of `cat` are
/// animals, of `car` vehicles.
pub fn assert_clusters(vectors: &Path, label: &str) {
    let index = word2vec::Index::new(&word2vec::Embeddings::read(vectors).unwrap());
    for (word, same) in [
        ("cat", ["dog", "horse", "cow"]),
        ("car", ["truck", "bus", "van"]),
    ] {
        let top: Vec<String> = index
            .similar(word, 3)
            .unwrap()
            .into_iter()
            .map(|n| n.word)
            .collect();
        assert!(
            top.iter().all(|w| same.contains(&w.as_str())),
            "{label}: {word}: {top:?}"
        );
    }
}

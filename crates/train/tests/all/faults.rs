//! The fault suite: what a long run meets — a kill, SIGINT and SIGTERM, a NaN, a full disk, a
//! read-only or vanished run folder — and what it must leave behind: a one-line error, the
//! right exit code, the last good checkpoint, and a resumed run that ends where an
//! uninterrupted one does.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use super::*;

/// `train word2vec --config w2v.toml --out OUT ARGS...` in `dir`, not yet started.
fn word2vec_command(dir: &Path, out: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_train"));
    command
        .args(["word2vec", "--config", "w2v.toml", "--out", out])
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1");
    command
}

/// Runs `word2vec_command` to its end.
fn word2vec(dir: &Path, out: &str, args: &[&str]) -> Output {
    word2vec_command(dir, out, args).output().unwrap()
}

/// A Word2Vec config for the cluster corpus with `sentences` lines: one thread (so runs repeat
/// bit for bit), three epochs, a checkpoint every 20,000 words.
fn word2vec_setup(dir: &Path, sentences: usize) {
    let corpus = cluster_corpus(dir, sentences);
    write_config(dir, &corpus, "checkpoint_every_words = 20000\n");
}

#[test]
fn a_word2vec_run_killed_or_stopped_by_a_signal_resumes_to_the_same_vectors_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    word2vec_setup(dir, 30_000);
    let o = word2vec(dir, "whole", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = std::fs::read(dir.join("whole/vectors.bin")).unwrap();

    // SIGKILL: no chance to save anything; the last checkpoint written is where it resumes.
    let child = spawn(word2vec_command(dir, "kill", &[]));
    wait_for(&dir.join("kill/checkpoint.w2v"));
    kill(&child, "-KILL");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.signal(), Some(9), "{}", stderr(&o));
    assert!(!dir.join("kill/vectors.bin").exists());

    // SIGINT and SIGTERM: a checkpoint where the run stopped, the command that continues it,
    // and the shell's exit code; a second signal exits at once, leaving the last checkpoint.
    for (out, signals, code) in [("int", &["-INT"][..], 130), ("term", &["-TERM"][..], 143)] {
        let child = spawn(word2vec_command(dir, out, &[]));
        wait_for(&dir.join(out).join("checkpoint.w2v"));
        for signal in signals {
            kill(&child, signal);
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(code), "{out}: {}", stderr(&o));
        assert!(!dir.join(out).join("vectors.bin").exists());
        let name = if code == 130 { "SIGINT" } else { "SIGTERM" };
        let last = stderr(&o).lines().last().unwrap_or_default().to_string();
        let resume =
            format!("continue with: train word2vec --config w2v.toml --out {out} --resume");
        assert!(
            last.starts_with(&format!("stopped by {name}; "))
                && last.contains("words are saved in")
                && last.ends_with(&resume),
            "{last}"
        );
    }
    twice_ctrl_c_exits_at_once(dir);
    for out in ["kill", "int", "term", "twice"] {
        let o = word2vec(dir, out, &["--resume"]);
        assert!(o.status.success(), "{out}: {}", stderr(&o));
        assert!(stderr(&o).contains("resuming epoch"), "{}", stderr(&o));
        let resumed = std::fs::read(dir.join(out).join("vectors.bin")).unwrap();
        assert!(resumed == whole, "{out}: the resumed run's vectors differ");
    }
}

/// Two Ctrl-Cs in a row: exit 130, and the last complete checkpoint left to resume from (the
/// caller resumes `twice`). Whether the second one came before the graceful stop finished is a
/// race here; `a_second_signal_exits_at_once` tests that it ends the process at once.
fn twice_ctrl_c_exits_at_once(dir: &Path) {
    let child = spawn(word2vec_command(dir, "twice", &[]));
    wait_for(&dir.join("twice/checkpoint.w2v"));
    kill(&child, "-INT");
    kill(&child, "-INT");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    word2vec::Checkpoint::read(&dir.join("twice/checkpoint.w2v")).unwrap();
}

/// The test's own binary, run again as a child with `SIGNAL_CHILD` set, installs the signal
/// handlers and raises SIGINT twice: the first only asks for a stop, the second ends the
/// process at once with 130, before the line after it.
#[test]
fn a_second_signal_exits_at_once() {
    use signal_hook::consts::SIGINT;
    use train::signals::{Signal, StopRequest};
    if std::env::var_os("SIGNAL_CHILD").is_some() {
        let stop = StopRequest::install();
        signal_hook::low_level::raise(SIGINT).unwrap();
        assert_eq!(stop.received(), Some(Signal::Interrupt));
        println!("first signal: asked to stop");
        signal_hook::low_level::raise(SIGINT).unwrap();
        println!("second signal: still running");
        std::process::exit(0);
    }
    let o = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "faults::a_second_signal_exits_at_once",
            "--nocapture",
        ])
        .env("SIGNAL_CHILD", "1")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(130), "{out}{}", stderr(&o));
    assert!(out.contains("first signal: asked to stop"), "{out}");
    assert!(!out.contains("second signal: still running"), "{out}");
}

#[test]
fn a_finished_word2vec_run_is_extended_by_resuming_with_more_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    word2vec_setup(dir, 300);
    assert!(word2vec(dir, "run", &[]).status.success());
    let three = std::fs::read(dir.join("run/vectors.bin")).unwrap();
    let o = word2vec(dir, "run", &["--resume"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("has finished 3 epochs, and train.epochs = 3; raise train.epochs"),
        "{e}"
    );
    let o = word2vec(dir, "run", &["--resume", "--set", "model.dim=8"]);
    assert!(
        stderr(&o).contains("differs from") && stderr(&o).contains("model.dim (16 -> 8)"),
        "{}",
        stderr(&o)
    );
    let o = word2vec(dir, "run", &["--resume", "--set", "train.epochs=4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let four = std::fs::read(dir.join("run/vectors.bin")).unwrap();
    assert_eq!(four.len(), three.len());
    assert!(four != three, "a fourth epoch changed nothing");
    let o = word2vec(dir, "none", &["--resume"]);
    assert!(stderr(&o).contains("holds no run"), "{}", stderr(&o));
}

#[test]
fn a_nan_stops_word2vec_with_the_epoch_and_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    word2vec_setup(dir, 3000);
    let o = word2vec_command(dir, "nan", &[])
        .env(train::fault_injection::POISON_VAR, "70000")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    let last = e.lines().last().unwrap_or_default();
    let checkpoint = dir.join("nan/checkpoint.w2v");
    assert!(
        last.starts_with("error: training: the loss became NaN or infinite in epoch 3")
            && last.contains(&format!(
                "the last good checkpoint is {} (at",
                Path::new("nan/checkpoint.w2v").display()
            )),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
    assert!(!dir.join("nan/vectors.bin").exists());
    // The checkpoint holds no NaN, and the run goes on from it once the fault is gone.
    let saved = word2vec::Checkpoint::read(&checkpoint).unwrap();
    assert!(saved.weights.input.iter().all(|x| x.is_finite()));
    let o = word2vec(dir, "nan", &["--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A tmpfs of `kib` KiB mounted for a test and unmounted when dropped; None (and the test says
/// it is skipped) where this process may not mount one.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(parent: &Path, kib: usize) -> Option<SmallDisk> {
        let path = parent.join("disk");
        std::fs::create_dir_all(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: cannot mount a small tmpfs here (needs root)");
            return None;
        }
        Some(SmallDisk { path })
    }

    fn read_only(&self) {
        let remounted = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(remounted.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

/// Only this folder's temporary files: none may be left behind by a failed write.
fn no_temporary_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp-"), "left behind: {name}");
    }
}

#[test]
fn a_full_or_read_only_disk_is_a_one_line_error_that_keeps_the_last_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // 2,000 floats a word: one checkpoint of the ~30-word vocabulary fits, two do not.
    word2vec_setup(dir, 150);
    let Some(disk) = SmallDisk::mount(dir, 700) else {
        return;
    };
    let out = disk.path.join("run");
    let sets = [
        "--set",
        "model.dim=2000",
        "--set",
        "train.checkpoint_every_words=0",
    ];
    let o = word2vec(dir, out.to_str().unwrap(), &sets);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    let last = e.lines().last().unwrap_or_default();
    let checkpoint = out.join("checkpoint.w2v");
    assert!(
        last.starts_with("error: training: ")
            && last.contains(&format!("{}: No space left", checkpoint.display()))
            && last.contains("No space left on device"),
        "{e}"
    );
    let saved = word2vec::Checkpoint::read(&checkpoint).unwrap();
    assert_eq!(saved.progress.epoch, 2, "the epoch-1 checkpoint is intact");
    no_temporary_files(&out);

    disk.read_only();
    let mut resume = sets.to_vec();
    resume.push("--resume");
    let o = word2vec(dir, out.to_str().unwrap(), &resume);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.contains("Read-only file system") && e.contains(&out.display().to_string()),
        "{e}"
    );
    let again = word2vec::Checkpoint::read(&checkpoint).unwrap();
    assert_eq!(again.weights, saved.weights);
}

#[test]
fn a_run_folder_that_vanishes_mid_run_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    word2vec_setup(dir, 30_000);
    let child = spawn(word2vec_command(dir, "gone", &["--set", "train.epochs=20"]));
    wait_for(&dir.join("gone/checkpoint.w2v"));
    // Renamed away at once (the trainer may be creating a file in it), then removed.
    std::fs::rename(dir.join("gone"), dir.join("moved")).unwrap();
    std::fs::remove_dir_all(dir.join("moved")).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    let last = e.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.contains("gone/") && last.contains("No such file"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
}

/// A tiny encoder config for the cluster corpus: `steps` steps, a checkpoint every 5.
#[cfg(feature = "encoder")]
fn encoder_setup(dir: &Path, steps: u64) {
    let corpus = cluster_corpus(dir, 400);
    let text = format!(
        "[data]\ncorpus = {:?}\nseq_len = 16\nvalid_fraction = 0.1\n\n[tokenizer]\nvocab_size = 60\n\n[model]\nlayers = 1\nhidden = 16\nheads = 2\nffn = 32\n\n[train]\nbatch_size = 4\nsteps = {steps}\nwarmup_steps = 2\nlog_every = 1\neval_every = 100\ncheckpoint_every = 5\n",
        corpus.display().to_string()
    );
    std::fs::write(dir.join("enc.toml"), text).unwrap();
}

#[cfg(feature = "encoder")]
#[test]
fn a_nan_stops_the_encoder_with_the_step_and_the_last_checkpoint_unless_it_is_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    encoder_setup(dir, 10);
    let encoder = |out: &str, sets: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_train"));
        command
            .args(["encoder", "--config", "enc.toml", "--out", out])
            .args(sets)
            .current_dir(dir)
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .env(train::fault_injection::POISON_VAR, "7");
        command.output().unwrap()
    };
    let o = encoder("stop", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    let last = e.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: training: step 7: the loss is NaN (not finite)")
            && last.ends_with("the last good checkpoint is stop/checkpoints/step-5"),
        "{e}"
    );
    assert!(!dir.join("stop/model.bpk").exists());
    assert!(!dir.join("stop/checkpoints/step-7").exists());

    let o = encoder("skip", &["--set", "train.skip_nonfinite=true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("step 7: skipped (loss NaN"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        scalars(&dir.join("skip"), "train/skipped_steps"),
        [(7, 1.0)]
    );
    let losses = scalars(&dir.join("skip"), "train/loss");
    assert_eq!(
        losses.len(),
        9,
        "every step but the skipped one: {losses:?}"
    );
    assert!(losses.iter().all(|(_, l)| l.is_finite()), "{losses:?}");
}

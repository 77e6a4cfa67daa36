//! `train.device = "wgpu"` end to end on whatever adapter wgpu finds; in CI that is Mesa's
//! software Vulkan driver (lavapipe), which `.ci/run` installs. Kept small: lavapipe compiles
//! every kernel the first time a process uses it.

use super::*;
use word2vec::Embeddings;

#[cfg(feature = "encoder")]
/// A tiny encoder config: no dropout (so CPU and GPU compute the same steps), one shard.
fn write_tiny_config(dir: &Path) {
    let corpus = cluster_corpus(dir, 1500);
    let text = format!(
        "[data]\ncorpus = {:?}\nseq_len = 16\nvalid_fraction = 0.1\n\n[tokenizer]\nvocab_size = 60\n\n[model]\nlayers = 1\nhidden = 16\nheads = 2\nffn = 32\ndropout = 0.0\n\n[train]\nbatch_size = 8\nsteps = 4\nwarmup_steps = 1\nlr = 0.003\nlog_every = 1\neval_every = 2\ncheckpoint_every = 2\nshards = 1\n",
        corpus.display().to_string()
    );
    std::fs::write(dir.join("enc.toml"), text).unwrap();
}

/// `train ARGS...` in `dir`, its caches inside `dir` (the Mesa shader cache shared by the tests).
fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_train"));
    command
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env(
            "MESA_SHADER_CACHE_DIR",
            std::env::temp_dir().join("train-tests-mesa"),
        )
        // lavapipe compiles every candidate autotune tries: the least tuning is the fastest test.
        .env("CUBECL_AUTOTUNE_LEVEL", "minimal")
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .env("RUST_BACKTRACE", "1");
    command
}

/// Runs `train ARGS...` in `dir` to its end, as [`command_in`] sets it up.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    command_in(dir, args)
        .output()
        .expect("the train binary runs")
}

#[cfg(feature = "encoder")]
/// `train encoder --config enc.toml --out OUT` with `--set` overrides.
fn encoder(dir: &Path, out: &str, sets: &[&str]) -> Output {
    let mut args = vec!["encoder", "--config", "enc.toml", "--out", out];
    for s in sets {
        args.extend(["--set", s]);
    }
    run_in(dir, &args)
}

/// Whether a Vulkan driver is installed (CI installs Mesa's); the tests say so and pass when
/// not, as they cannot run.
fn have_vulkan() -> bool {
    let found = std::fs::read_dir("/usr/share/vulkan/icd.d")
        .map(|d| d.count() > 0)
        .unwrap_or(false);
    if !found {
        eprintln!("skipped: no Vulkan driver (apt-get install mesa-vulkan-drivers)");
    }
    found
}

#[cfg(feature = "encoder")]
fn assert_close(a: &[(i64, f32)], b: &[(i64, f32)], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.0, y.0, "{what}: steps");
        assert!(
            (x.1 - y.1).abs() <= 1e-4 * y.1.abs().max(1.0),
            "{what}: {a:?} vs {b:?}"
        );
    }
}

#[cfg(feature = "encoder")]
/// The `train/loss` curve of a run folder, steps 1 to 4 expected.
fn curve(run: &Path) -> Vec<(i64, f32)> {
    let curve = scalars(run, "train/loss");
    let steps: Vec<i64> = curve.iter().map(|s| s.0).collect();
    assert_eq!(steps, [1, 2, 3, 4], "{}", run.display());
    curve
}

#[cfg(feature = "encoder")]
/// One test, so that lavapipe compiles the kernels for as few processes as possible: the GPU
/// takes the same first steps as the CPU, a checkpoint moves from the CPU to the GPU and back,
/// and fill-mask runs on the GPU.
#[test]
fn the_gpu_trains_like_the_cpu_and_checkpoints_move_between_them() {
    if !have_vulkan() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_tiny_config(dir);
    let cpu = encoder(dir, "cpu", &["train.steps=2"]);
    assert!(cpu.status.success(), "{}", stderr(&cpu));
    let tok = "tokenizer.path=\"cpu/tokenizer.json\"";
    let gpu = encoder(dir, "gpu", &[tok, "train.steps=2", "train.device=\"wgpu\""]);
    let err = stderr(&gpu);
    assert!(gpu.status.success(), "{err}");
    assert!(
        err.contains("device: ") && err.contains("compiling GPU kernels"),
        "{err}"
    );
    let info = std::fs::read_to_string(dir.join("gpu/device.json")).unwrap();
    assert!(info.contains("\"kind\": \"wgpu\""), "{info}");
    // Dropout 0, the same tokenizer, seed and data: the same losses, norms and evaluation.
    for tag in ["train/loss", "train/grad_norm", "eval/loss"] {
        let (g, c) = (
            scalars(&dir.join("gpu"), tag),
            scalars(&dir.join("cpu"), tag),
        );
        assert_close(&g, &c, tag);
        eprintln!("{tag}: wgpu {g:?} cpu {c:?}");
    }
    // Both step-2 checkpoints go on to step 4, each on the other device, and a copy of the CPU
    // run on the CPU: the three continuations agree.
    copy_dir(&dir.join("cpu"), &dir.join("reference"));
    // (The GPU run was made with tokenizer.path, the CPU run without: a resume repeats it.)
    for (out, then, tokenizer) in [
        ("reference", "cpu", "tokenizer.kind=\"wordpiece\""),
        ("cpu", "wgpu", "tokenizer.kind=\"wordpiece\""),
        ("gpu", "cpu", tok),
    ] {
        let device = format!("train.device=\"{then}\"");
        let args = ["encoder", "--config", "enc.toml", "--out", out, "--resume"];
        let sets = [
            "--set",
            tokenizer,
            "--set",
            "train.steps=4",
            "--set",
            &device,
        ];
        let resumed = run_in(dir, &[&args[..], &sets[..]].concat());
        assert!(resumed.status.success(), "{}", stderr(&resumed));
    }
    let reference = curve(&dir.join("reference"));
    assert_close(&curve(&dir.join("cpu")), &reference, "cpu then wgpu");
    assert_close(&curve(&dir.join("gpu")), &reference, "wgpu then cpu");
    // fill-mask on the GPU answers as on the CPU; a device that does not exist is refused.
    let query = |device: &str| {
        let args = [
            "fill-mask",
            "--run",
            "gpu",
            "--device",
            device,
            "the cat [MASK]",
            "--json",
        ];
        let o = run_in(dir, &args);
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v[0].as_array()
            .unwrap()
            .iter()
            .map(|t| t["token"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(query("wgpu"), query("cpu"));
    let o = run_in(
        dir,
        &["fill-mask", "--run", "gpu", "--device", "tpu", "a [MASK]"],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("`wgpu`"),
        "{}",
        stderr(&o)
    );
}

#[cfg(feature = "encoder")]
/// Copies the files of a run folder and its sub-folders.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// `train word2vec` on the GPU: the same run folder as on the CPU (vectors in both formats,
/// vocabulary, projector files, device, per-epoch evaluation and curves in TensorBoard), vectors
/// that learned the corpus's two clusters, and an epoch loss within a few percent of the CPU's.
#[test]
fn word2vec_on_the_gpu_writes_what_a_cpu_run_writes_and_learns_as_much() {
    if !have_vulkan() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 6000);
    let questions = dir.join("q.txt");
    std::fs::write(
        &questions,
        ": animals\ncat dog horse cow\ncar truck bus van\n",
    )
    .unwrap();
    let extra = format!(
        "[output]\ntext = true\nprojector_words = 5\n\n[eval]\nanalogy = [{:?}]\n",
        questions.display().to_string()
    );
    let cfg = write_config(dir, &corpus, &extra);
    let cfg = cfg.to_str().unwrap();
    for device in ["cpu", "wgpu"] {
        let set = format!("train.device=\"{device}\"");
        let o = run_in(
            dir,
            &["word2vec", "--config", cfg, "--out", device, "--set", &set],
        );
        assert!(o.status.success(), "{device}: {}", stderr(&o));
        assert!(stderr(&o).contains("\ndevice: "), "{}", stderr(&o));
    }
    let files = |run: &str| {
        let mut names: Vec<String> = walk(&dir.join(run));
        names.retain(|n| !n.contains("tfevents"));
        names.sort();
        names
    };
    assert_eq!(files("wgpu"), files("cpu"));
    let device = std::fs::read_to_string(dir.join("wgpu/device.json")).unwrap();
    assert!(device.contains("\"kind\": \"wgpu\""), "{device}");
    let bin = Embeddings::read(&dir.join("wgpu/vectors.bin")).unwrap();
    let txt = Embeddings::read(&dir.join("wgpu/vectors.txt")).unwrap();
    assert_eq!((bin.words(), bin.dim()), (txt.words(), 16));
    assert_clusters(&dir.join("wgpu/vectors.bin"), "wgpu");
    let (gpu, cpu) = (
        scalars(&dir.join("wgpu"), "train/epoch_loss"),
        scalars(&dir.join("cpu"), "train/epoch_loss"),
    );
    assert_eq!(gpu.len(), 3, "{gpu:?}");
    assert!(gpu[2].1 < gpu[0].1, "{gpu:?}");
    assert!(
        (gpu[2].1 - cpu[2].1).abs() < 0.05 * cpu[2].1,
        "{gpu:?} vs {cpu:?}"
    );
    let analogy = scalars(&dir.join("wgpu"), "eval/analogy/q");
    assert_eq!(analogy.len(), 3, "an evaluation per epoch: {analogy:?}");
    // A model the GPU engine cannot train is one line before any run folder exists.
    let sets = ["train.device=\"wgpu\"", "model.negative=100"];
    let o = run_in(
        dir,
        &[
            "word2vec", "--config", cfg, "--out", "big", "--set", sets[0], "--set", sets[1],
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.lines().last().unwrap_or_default().starts_with(
            "error: train.device: invalid parameter: model.negative = 100 is too many for the GPU engine"
        ),
        "{err}"
    );
    assert!(!dir.join("big").exists());
}

/// A Word2Vec GPU run stopped by SIGINT mid-epoch saves the GPU's weights and its corpus
/// position, and `--resume` finishes it on the GPU; a finished GPU run is extended by another
/// epoch; its epoch-end checkpoint continues on the CPU.
#[test]
fn word2vec_on_the_gpu_stops_with_a_checkpoint_and_resumes() {
    if !have_vulkan() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 20_000);
    let cfg = write_config(
        dir,
        &corpus,
        "device = \"wgpu\"\ncheckpoint_every_words = 0\n",
    );
    let cfg = cfg.to_str().unwrap();
    let args = ["word2vec", "--config", cfg, "--out", "int"];
    let child = spawn(command_in(dir, &args));
    wait_for(&dir.join("int/checkpoint.w2v"));
    kill(&child, "-INT");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let saved = word2vec::Checkpoint::read(&dir.join("int/checkpoint.w2v")).unwrap();
    // Mid-epoch: a corpus position and the GPU's [subsampling generator, batches launched].
    let p = &saved.progress;
    assert!(
        p.sentences > 0 && p.rngs.len() == 2 && p.rngs[1] > 0,
        "{p:?}"
    );
    let o = run_in(dir, &[&args[..], &["--resume"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_clusters(&dir.join("int/vectors.bin"), "resumed on the GPU");
    let more = ["--resume", "--set", "train.epochs=4"];
    let o = run_in(dir, &[&args[..], &more].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(scalars(&dir.join("int"), "train/epoch_loss").len(), 4);
    let cpu = ["--set", "train.device=\"cpu\"", "--set", "train.epochs=5"];
    let o = run_in(dir, &[&args[..], &["--resume"], &cpu].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(scalars(&dir.join("int"), "train/epoch_loss").len(), 5);
    assert_clusters(&dir.join("int/vectors.bin"), "continued on the CPU");
}

/// The files under `root`, as paths relative to it.
fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let sub = path.file_name().unwrap().to_string_lossy().to_string();
            out.extend(walk(&path).into_iter().map(|n| format!("{sub}/{n}")));
        } else {
            out.push(path.file_name().unwrap().to_string_lossy().to_string());
        }
    }
    out
}

#[test]
fn a_missing_gpu_is_one_line_a_non_zero_exit_and_no_run_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let corpus = cluster_corpus(dir, 100);
    write_config(dir, &corpus, "");
    #[cfg(feature = "encoder")]
    write_tiny_config(dir);
    let trainers = if cfg!(feature = "encoder") {
        &["encoder", "word2vec"][..]
    } else {
        &["word2vec"][..]
    };
    for &trainer in trainers {
        let config = if trainer == "encoder" {
            "enc.toml"
        } else {
            "w2v.toml"
        };
        let o = Command::new(env!("CARGO_BIN_EXE_train"))
            .args([trainer, "--config", config, "--out", "run"])
            .args(["--set", "train.device=\"wgpu\""])
            .current_dir(dir)
            .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
            .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json")
            .env("XDG_RUNTIME_DIR", std::env::temp_dir())
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{trainer}: {err}");
        assert_eq!(err.lines().count(), 1, "{trainer}: {err}");
        assert!(
            err.starts_with("error: train.device: no GPU adapter found")
                && err.contains("mesa-vulkan-drivers")
                && err.contains("train.device = \"cpu\""),
            "{trainer}: {err}"
        );
        assert!(!err.contains("panicked"), "{trainer}: {err}");
        assert!(!dir.join("run").exists(), "{trainer}: no run folder");
    }
}

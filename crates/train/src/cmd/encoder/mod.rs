//! `train encoder`: config → run folder → tokenizer → packed sequences → model → MLM
//! pretraining with TensorBoard logging and checkpoints → the final weights; `--resume`
//! continues a run folder from its newest checkpoint.

mod observer;
mod setup;

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use encoder::{Config, Masker, MaskingConfig, Outcome, Pretraining, RunDir, Sequences};

use crate::resume_command::resume_command;
use crate::signals::{Signal, StopRequest, Stopped};
use observer::{CheckpointSaver, Logger, RunObserver, Throughput, Warmup};

/// Runs `train encoder`: a new run, or with `resume` the run in `out` continued from its newest
/// checkpoint.
pub fn run(config_path: &Path, sets: &[String], out: Option<&Path>, resume: bool) -> Result<()> {
    let cfg: Config = crate::config::load(config_path, sets)?;
    cfg.validate()
        .map_err(|e| anyhow!("{}: {e}", config_path.display()))?;
    let resume_from = setup::resume_point(&cfg, out, resume)?;
    setup::check_inputs(&cfg)?;
    let (device, device_info) = setup::open_device(&cfg)?;
    let init_vectors = setup::init_vectors(&cfg, resume_from.is_some())?;
    let run = match (&resume_from, out) {
        (Some(_), Some(dir)) => RunDir::new(dir),
        _ => RunDir::new(crate::run::create(out, config_path)?),
    };
    let start_step = resume_from.as_ref().map_or(0, |r| r.0);
    let mut tb = setup::start_logging(&run, &cfg, &device_info, start_step)?;
    setup::announce(&run, resume_from.as_ref());
    let (tokenizer, special) = setup::tokenizer(&cfg, &run, resume_from.is_some())?;
    let sequences = Sequences::prepare(&cfg.data, &tokenizer, &special, &setup::cache_dir())
        .context("preparing the sequences")?;
    let vocab_size = tokenizer.get_vocab_size(true);
    eprintln!(
        "tokenizer: {vocab_size} tokens; {} training and {} held-out sequences of {}",
        sequences.train.len(),
        sequences.valid.len(),
        cfg.data.seq_len
    );
    let (model, resumed) = setup::model(&cfg, &device, vocab_size, resume_from.as_ref())?;
    let model = setup::with_init_vectors(model, init_vectors.as_ref(), &tokenizer);
    let mut train_config = cfg.train.clone();
    train_config.poison_step = crate::fault_injection::poison_at();
    let job = Pretraining {
        sequences: &sequences,
        masker: Masker {
            masking: MaskingConfig::new(cfg.train.mask_prob, &special, vocab_size),
            special,
        },
        config: &train_config,
    };
    let t = &cfg.train;
    let mut observer = RunObserver {
        logger: Logger::new(&mut tb, t.steps, t.log_every),
        throughput: Throughput::default(),
        warmup: Warmup::new(t.device.is_gpu()),
        saver: CheckpointSaver::new(
            &run,
            t.keep_checkpoints,
            resume_from.as_ref().map(|r| r.1.clone()),
        ),
        stop: StopRequest::install(),
    };
    let outcome = encoder::pretrain(model, resumed, &job, &mut observer);
    observer.logger.finish();
    let log_error = observer.logger.take_error();
    let outcome = outcome.map_err(|e| match e {
        encoder::Error::NonFinite { .. } => {
            let last = observer
                .saver
                .last()
                .map_or_else(|| "none yet".to_string(), |p| p.display().to_string());
            anyhow!("{e}; the last good checkpoint is {last}")
        }
        e => anyhow::Error::new(e),
    });
    match outcome.context("training")? {
        Outcome::Finished { model } => {
            // The weights are written atomically: a signal now ends the process at once.
            observer.stop.exit_on_next_signal();
            model.save(&run.weights()).context("saving the model")?;
            eprintln!("wrote {}", run.weights().display());
        }
        Outcome::Stopped { step } => {
            let saved = observer.saver.last().map(Path::to_path_buf);
            let checkpoint = saved.unwrap_or_else(|| run.checkpoints());
            let signal = observer.stop.received().unwrap_or(Signal::Interrupt);
            drop(observer);
            // The checkpoint is written: a failed flush must not hide how to continue.
            if let Err(e) = tb.flush() {
                eprintln!("warning: flushing the TensorBoard events: {e}");
            }
            let message = format!(
                "step {step} is saved in {}; continue with: {}",
                checkpoint.display(),
                resume_command(run.root())
            );
            return Err(Stopped { signal, message }.into());
        }
    }
    if let Some(e) = log_error {
        return Err(e.context("logging to TensorBoard"));
    }
    tb.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoder::NormPlacement;

    #[test]
    fn the_shipped_encoder_configs_load_and_validate() {
        let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        for name in ["encoder.toml", "encoder-quickstart.toml"] {
            let cfg: Config = crate::config::load(&configs.join(name), &[]).unwrap();
            cfg.validate().unwrap();
        }
        // The quick start is post-LN, so `train export` takes its runs.
        let quick: Config =
            crate::config::load(&configs.join("encoder-quickstart.toml"), &[]).unwrap();
        assert_eq!(quick.model.norm, NormPlacement::Post);
        assert_eq!(quick.model.dropout, 0.0);
    }
}

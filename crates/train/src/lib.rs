//! The `train` command line as a library: Word2Vec and Transformer-encoder training from TOML
//! configs, with run folders and TensorBoard logs, plus queries and evaluation of trained
//! vectors. `main.rs` only calls [`main`]; the integration tests use the modules directly.

pub mod atomic;
pub mod config;
#[cfg(feature = "encoder")]
pub mod encoder_cmd;
pub mod progress;
pub mod queries;
pub mod run;
pub mod tensorboard;
pub mod word2vec_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Train word embeddings and Transformer encoders on your own corpus.
#[derive(Debug, Parser)]
#[command(name = "train", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Flags shared by the training subcommands.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// TOML config file (see configs/ for commented examples)
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Override one config key by its dotted path; the value is parsed as TOML, and a bare word
    /// that is not valid TOML is taken as a string (--set model.dim=300 --set model.arch=cbow);
    /// repeatable
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Run folder for config.toml, outputs and TensorBoard events
    /// [default: runs/<config name>-<timestamp>]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// The subcommands of `train`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train word vectors (skip-gram or CBOW) on a corpus
    Word2vec(RunArgs),
    /// Pretrain a BERT-style encoder with masked-language modelling
    Encoder {
        #[command(flatten)]
        run: RunArgs,
        /// Continue the run in --out DIR from its newest complete checkpoint (the config may
        /// differ only in train.steps and the logging, checkpoint and device settings)
        #[arg(long)]
        resume: bool,
    },
    /// Evaluate vectors on analogy and word-similarity sets
    Eval {
        /// Vectors file (word2vec .bin or .txt format)
        #[arg(long, value_name = "FILE")]
        vectors: PathBuf,
        /// Analogy file in questions-words format; repeatable
        #[arg(long, value_name = "FILE")]
        analogy: Vec<PathBuf>,
        /// Word-pair similarity file (word1 word2 score); repeatable
        #[arg(long, value_name = "FILE")]
        similarity: Vec<PathBuf>,
        /// Only analogy questions whose words are all among the N most frequent words count
        #[arg(long, value_name = "N", default_value_t = 30_000)]
        restrict: usize,
        /// Print one JSON object instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Print the nearest neighbours of a word
    Similar {
        /// Vectors file (word2vec .bin or .txt format)
        #[arg(long, value_name = "FILE")]
        vectors: PathBuf,
        /// The query word
        word: String,
        /// How many neighbours to print
        #[arg(long, value_name = "N", default_value_t = 10)]
        top: usize,
        /// Print a JSON list of {"word", "score"} instead of lines
        #[arg(long)]
        json: bool,
    },
    /// Solve "A is to B as C is to ?" (3CosAdd; A, B and C are excluded from the answers)
    Analogy {
        /// Vectors file (word2vec .bin or .txt format)
        #[arg(long, value_name = "FILE")]
        vectors: PathBuf,
        /// A: first word of the known pair (e.g. man)
        a: String,
        /// B: second word of the known pair (e.g. king)
        b: String,
        /// C: first word of the pair to complete (e.g. woman); the answers are the D with
        /// A:B = C:D
        c: String,
        /// How many answers to print
        #[arg(long, value_name = "N", default_value_t = 10)]
        top: usize,
        /// Print a JSON list of {"word", "score"} instead of lines
        #[arg(long)]
        json: bool,
    },
    /// Predict the tokens behind [MASK] with a pretrained encoder
    FillMask {
        /// Run folder of an encoder training run
        #[arg(long, value_name = "DIR")]
        run: PathBuf,
        /// Text containing [MASK]
        text: String,
        /// How many tokens to print per mask
        #[arg(long, value_name = "N", default_value_t = 5)]
        top: usize,
        /// Print JSON instead of lines
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line, runs it, and turns an error into one `error: ...` line on stderr
/// and a non-zero exit code.
pub fn main() -> ExitCode {
    // A bug must still end in one line, not a panic message and a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error{place}: {}", one_line(&message));
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's own message is several lines (usage, hint); keep its first line.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("error: {}; see train --help", one_line(first));
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the context chain joined by ": ", never a backtrace (RUST_BACKTRACE is
            // set on these machines, and returning the error from main would print one).
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "encoder")]
fn run_encoder(cfg: config::EncoderConfig, run: &RunArgs, resume: bool) -> anyhow::Result<()> {
    encoder_cmd::run(cfg, &run.config, run.out.as_deref(), resume)
}

#[cfg(feature = "encoder")]
fn run_fill_mask(run: &std::path::Path, text: &str, top: usize, json: bool) -> anyhow::Result<()> {
    encoder_cmd::fill_mask(run, text, top, json)
}

#[cfg(not(feature = "encoder"))]
fn run_fill_mask(
    run: &std::path::Path,
    _text: &str,
    _top: usize,
    _json: bool,
) -> anyhow::Result<()> {
    anyhow::bail!(
        "train fill-mask --run {}: this binary was built without the encoder; rebuild with `cargo build --release -p train --features encoder`",
        run.display()
    )
}

#[cfg(not(feature = "encoder"))]
fn run_encoder(_cfg: config::EncoderConfig, _run: &RunArgs, _resume: bool) -> anyhow::Result<()> {
    anyhow::bail!(
        "train encoder: the config is valid, but this binary was built without the encoder; rebuild with `cargo build --release -p train --features encoder`"
    )
}

/// Collapses all whitespace (newlines included) to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Word2vec(args) => word2vec_cmd::run(&args.config, &args.set, args.out.as_deref()),
        Command::Encoder { run, resume } => {
            let cfg: config::EncoderConfig = config::load(&run.config, &run.set)?;
            cfg.validate()
                .map_err(|e| anyhow::anyhow!("{}: {e}", run.config.display()))?;
            run_encoder(cfg, &run, resume)
        }
        Command::Eval {
            vectors,
            analogy,
            similarity,
            restrict,
            json,
        } => queries::eval(&vectors, &analogy, &similarity, restrict, json),
        Command::Similar {
            vectors,
            word,
            top,
            json,
        } => queries::similar(&vectors, &word, top, json),
        Command::Analogy {
            vectors,
            a,
            b,
            c,
            top,
            json,
        } => queries::analogy(&vectors, [&a, &b, &c], top, json),
        Command::FillMask {
            run,
            text,
            top,
            json,
        } => run_fill_mask(&run, &text, top, json),
    }
}

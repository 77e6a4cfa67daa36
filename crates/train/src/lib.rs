//! The `train` command line as a library: Word2Vec and Transformer-encoder training from TOML
//! configs, with run folders and TensorBoard logs, plus queries and evaluation of trained
//! vectors. `main.rs` only calls [`main`]; the integration tests use the modules directly.

pub mod config;
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
    /// Override one config key by its dotted path; the value is a TOML value
    /// (e.g. --set model.dim=300 --set model.arch='"cbow"'); repeatable
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Run folder for config.toml, outputs and TensorBoard events
    /// [default: runs/<config name>-<timestamp>]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train word vectors (skip-gram or CBOW) on a corpus
    Word2vec(RunArgs),
    /// Pretrain a BERT-style encoder with masked-language modelling
    Encoder {
        #[command(flatten)]
        run: RunArgs,
        /// Continue from the newest complete checkpoint in the run folder
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
        /// A
        a: String,
        /// B
        b: String,
        /// C
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
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the context chain joined by ": ", never a backtrace (RUST_BACKTRACE is
            // set on these machines, and returning the error from main would print one).
            let message = format!("{e:#}")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Word2vec(args) => word2vec_cmd::run(&args.config, &args.set, args.out.as_deref()),
        Command::Encoder { run, resume: _ } => {
            let cfg: config::EncoderConfig = config::load(&run.config, &run.set)?;
            cfg.validate()
                .map_err(|e| anyhow::anyhow!("{}: {e}", run.config.display()))?;
            anyhow::bail!(
                "train encoder: the config is valid, but encoder training is not built yet (see the encoder issue)"
            )
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
        Command::FillMask { run, .. } => anyhow::bail!(
            "train fill-mask --run {}: encoder inference is not built yet (see the encoder issue)",
            run.display()
        ),
    }
}

//! The command line's grammar (clap): the subcommands and their flags, as `train --help`
//! shows them. What each subcommand does is in [`crate::cmd`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Train word embeddings and Transformer encoders on your own corpus.
#[derive(Debug, Parser)]
#[command(name = "train", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by the training subcommands.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// TOML config file (see configs/ for commented examples)
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Override one config key by its dotted path; the value is parsed as TOML, and a bare word
    /// that is not valid TOML is taken as a string (--set model.dim=300 --set model.arch=cbow);
    /// repeatable
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Run folder for config.toml, outputs and TensorBoard events
    /// [default: runs/<config name>-<timestamp>]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// The subcommands of `train`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train word vectors (skip-gram or CBOW) on a corpus
    Word2vec {
        #[command(flatten)]
        run: RunArgs,
        /// Continue the run in --out DIR from its checkpoint (the config may differ only in
        /// train.epochs, train.threads, train.device, the logging and checkpoint settings,
        /// [output] and [eval])
        #[arg(long)]
        resume: bool,
    },
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
        /// Where to run the model: cpu, or wgpu (the GPU)
        #[arg(long, value_name = "DEVICE", default_value = "cpu")]
        device: String,
        /// Print JSON instead of lines
        #[arg(long)]
        json: bool,
    },
    /// Export an encoder run as a Hugging Face BertForMaskedLM folder (config.json,
    /// model.safetensors, tokenizer files) that transformers' from_pretrained loads
    Export {
        /// Run folder of an encoder training run (its newest weights are exported; post-LN
        /// models only)
        #[arg(long, value_name = "DIR")]
        run: PathBuf,
        /// The folder to create (with its parent folders); it must not exist or be empty
        #[arg(long, value_name = "HF_DIR")]
        out: PathBuf,
    },
}

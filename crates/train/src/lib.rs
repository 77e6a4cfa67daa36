//! The `train` command line as a library: Word2Vec and Transformer-encoder training from TOML
//! configs, with run folders and TensorBoard logs, plus queries and evaluation of trained
//! vectors. `main.rs` only calls [`main`]; the integration tests use the modules directly.

pub mod cli;
pub mod cmd;
pub mod config;
pub mod fault_injection;
pub mod first_error;
pub mod progress;
pub mod resume_command;
pub mod run;
pub mod signals;
pub mod tensorboard;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

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
        Err(e) if e.is::<signals::Stopped>() => {
            // Not a failure but not a finished run either: the signal's own exit code.
            eprintln!("{}", one_line(&e.to_string()));
            e.downcast_ref::<signals::Stopped>()
                .map_or(ExitCode::FAILURE, |s| ExitCode::from(s.signal.exit_code()))
        }
        Err(e) => {
            // One line: the context chain joined by ": ", never a backtrace (RUST_BACKTRACE is
            // set on these machines, and returning the error from main would print one).
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

pub use common::one_line;

/// Why `train encoder` and `train fill-mask` fail in a binary built without the encoder.
#[cfg(not(feature = "encoder"))]
const NO_ENCODER: &str = "this binary was built without the encoder; rebuild with `cargo build --release -p train --features encoder`";

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Word2vec { run, resume } => {
            cmd::word2vec::run(&run.config, &run.set, run.out.as_deref(), resume)
        }
        #[cfg(feature = "encoder")]
        Command::Encoder { run, resume } => {
            cmd::encoder::run(&run.config, &run.set, run.out.as_deref(), resume)
        }
        #[cfg(not(feature = "encoder"))]
        Command::Encoder { .. } => anyhow::bail!("train encoder: {NO_ENCODER}"),
        Command::Eval {
            vectors,
            analogy,
            similarity,
            restrict,
            json,
        } => cmd::queries::eval(&vectors, &analogy, &similarity, restrict, json),
        Command::Similar {
            vectors,
            word,
            top,
            json,
        } => cmd::queries::similar(&vectors, &word, top, json),
        Command::Analogy {
            vectors,
            a,
            b,
            c,
            top,
            json,
        } => cmd::queries::analogy(&vectors, [&a, &b, &c], top, json),
        #[cfg(feature = "encoder")]
        Command::FillMask {
            run,
            text,
            top,
            device,
            json,
        } => cmd::fill_mask::run(&run, &text, top, &device, json),
        #[cfg(not(feature = "encoder"))]
        Command::FillMask { run, .. } => {
            anyhow::bail!("train fill-mask --run {}: {NO_ENCODER}", run.display())
        }
        #[cfg(feature = "encoder")]
        Command::Export { run, out } => cmd::export::run(&run, &out),
        #[cfg(not(feature = "encoder"))]
        Command::Export { run, .. } => {
            anyhow::bail!("train export --run {}: {NO_ENCODER}", run.display())
        }
    }
}

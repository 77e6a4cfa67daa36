//! SIGINT (Ctrl-C) and SIGTERM: the first asks the running trainer to stop at its next safe
//! point (after the current step) with a checkpoint; a second one of the same kind ends the
//! process at once with the shell's code for it (130, 143), leaving the last complete checkpoint.
//! A run that stopped ends with [`Stopped`], which `main` turns into that exit code; its message
//! ends with the command that continues it ([`crate::resume_command`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The signals that stop a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, a job scheduler's time limit, a container stopping.
    Terminate,
}

impl Signal {
    /// The exit code a shell gives a process this signal killed (128 + its number), which
    /// scripts already test for.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// Whether a stop was asked for, and by which signal; cheap to clone and to poll.
#[derive(Debug, Clone, Default)]
pub struct StopRequest {
    interrupt: Arc<AtomicBool>,
    terminate: Arc<AtomicBool>,
}

impl StopRequest {
    /// Starts listening for both signals (a warning, not an error, where a handler cannot be
    /// installed: the run then just dies on a signal, as any program does).
    pub fn install() -> Self {
        let stop = StopRequest::default();
        for (signal, flag, code) in [
            (SIGINT, &stop.interrupt, 130),
            (SIGTERM, &stop.terminate, 143),
        ] {
            // The conditional exit is registered first, so it sees the flag as the previous
            // signal left it: the second signal exits, the first only sets the flag.
            let installed =
                signal_hook::flag::register_conditional_shutdown(signal, code, Arc::clone(flag))
                    .and_then(|_| signal_hook::flag::register(signal, Arc::clone(flag)));
            if let Err(e) = installed {
                eprintln!("warning: signal {signal} will not save a checkpoint ({e})");
            }
        }
        stop
    }

    /// Once training is over (outputs are being written, atomically): the next signal ends the
    /// process at once, with its exit code, instead of asking for a stop no one will read.
    pub fn exit_on_next_signal(&self) {
        self.interrupt.store(true, Ordering::SeqCst);
        self.terminate.store(true, Ordering::SeqCst);
    }

    /// The signal that asked for a stop, if one did.
    pub fn received(&self) -> Option<Signal> {
        if self.interrupt.load(Ordering::SeqCst) {
            Some(Signal::Interrupt)
        } else if self.terminate.load(Ordering::SeqCst) {
            Some(Signal::Terminate)
        } else {
            None
        }
    }
}

/// How a run stopped by a signal ends: the message says where its checkpoint is and how to
/// continue; `main` exits with the signal's code.
#[derive(Debug, thiserror::Error)]
#[error("stopped by {}; {message}", signal.name())]
pub struct Stopped {
    /// What stopped the run.
    pub signal: Signal,
    /// Where the run is and the command that continues it.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_codes_are_the_shells() {
        assert_eq!(Signal::Interrupt.exit_code(), 130);
        assert_eq!(Signal::Terminate.exit_code(), 143);
        assert_eq!(StopRequest::default().received(), None);
    }
}

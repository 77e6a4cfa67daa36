//! Progress display: an indicatif bar (rate, loss, learning rate, ETA) when stderr is a
//! terminal, one plain log line every few seconds otherwise (CI, pipes).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Seconds between plain log lines when stderr is not a terminal.
const LOG_LINE_EVERY: Duration = Duration::from_secs(5);

/// Shows progress of a job measured in `unit`s (words, tokens).
pub struct Display {
    bar: Option<ProgressBar>,
    unit: &'static str,
    total: u64,
    last_line: Option<Instant>,
    started: Instant,
    /// The last unit done while warming up, until the first regular update: the ETA counts
    /// from there.
    warm_from: Option<u64>,
    /// Units done before the ETA's clock started.
    base: u64,
}

impl Display {
    /// A display for `total` units.
    pub fn new(total: u64, unit: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {percent:>3}% {msg} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Display {
            bar,
            unit,
            total,
            last_line: None,
            started: Instant::now(),
            warm_from: None,
            base: 0,
        }
    }

    /// Updates the display: `done` units so far, the current rate, loss and learning rate.
    pub fn update(&mut self, done: u64, rate: f64, loss: Option<f64>, lr: f64, prefix: &str) {
        if let Some(warm) = self.warm_from.take() {
            // The ETA is for the steady steps: forget the warm-up's time and units.
            self.started = Instant::now();
            self.base = warm;
            if let Some(bar) = &self.bar {
                bar.reset_eta();
            }
        }
        let loss = loss.map_or_else(|| "-".to_string(), |l| format!("{l:.4}"));
        let msg = format!(
            "{prefix} {} {}/s  loss {loss}  lr {lr:.6}",
            human(rate),
            self.unit
        );
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.set_message(msg);
        } else if self.last_line.is_none_or(|t| t.elapsed() >= LOG_LINE_EVERY) {
            let frac = done as f64 / self.total.max(1) as f64;
            let elapsed = self.started.elapsed().as_secs_f64();
            let steady = done.saturating_sub(self.base) as f64;
            let left = self.total.saturating_sub(done) as f64;
            let eta = if steady > 0.0 {
                elapsed * left / steady
            } else {
                f64::NAN
            };
            eprintln!(
                "{:5.1}%  {msg}  elapsed {elapsed:.0}s  eta {eta:.0}s",
                100.0 * frac
            );
            self.last_line = Some(Instant::now());
        }
    }

    /// Shows that the job is warming up (a GPU compiling kernels and autotuning its first
    /// steps): `what` instead of a rate, and no ETA, which these steps would make wrong.
    pub fn warming_up(&mut self, done: u64, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{what} (step {done})"));
        } else if self.last_line.is_none_or(|t| t.elapsed() >= LOG_LINE_EVERY) {
            eprintln!("step {done}: {what}");
            self.last_line = Some(Instant::now());
        }
        self.warm_from = Some(done);
    }

    /// Prints a line without breaking the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// 1234567 -> "1.23M".
pub fn human(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

//! The learning-rate schedule of pretraining: linear warmup from 0, then linear or cosine decay
//! to 0 at the last step (as BERT and HF `get_linear_schedule_with_warmup` /
//! `get_cosine_schedule_with_warmup` do). One pure function, so it can be tested and plotted.

use crate::config::Schedule;
/// The learning rate for optimizer step `step` (0-based) of `total` steps, peaking at `peak`
/// after `warmup` steps.
pub fn learning_rate(step: u64, total: u64, warmup: u64, peak: f64, schedule: Schedule) -> f64 {
    if step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let decay_steps = total.saturating_sub(warmup).max(1);
    let progress = ((step - warmup) as f64 / decay_steps as f64).min(1.0);
    match schedule {
        Schedule::Linear => peak * (1.0 - progress),
        Schedule::Cosine => peak * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_linear_and_cosine_decay() {
        let lr = |s, k| learning_rate(s, 110, 10, 1e-3, k);
        assert!((lr(0, Schedule::Linear) - 1e-4).abs() < 1e-15);
        assert!((lr(9, Schedule::Linear) - 1e-3).abs() < 1e-15);
        assert!((lr(10, Schedule::Linear) - 1e-3).abs() < 1e-15);
        assert!((lr(60, Schedule::Linear) - 5e-4).abs() < 1e-15);
        assert!((lr(60, Schedule::Cosine) - 5e-4).abs() < 1e-15);
        assert!(
            (lr(35, Schedule::Cosine) - 1e-3 * 0.5 * (1.0 + (std::f64::consts::PI / 4.0).cos()))
                .abs()
                < 1e-15
        );
        assert!(lr(110, Schedule::Linear).abs() < 1e-15);
        assert!(lr(500, Schedule::Cosine).abs() < 1e-15);
    }
}

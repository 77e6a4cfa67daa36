//! The test hook that injects a numerical fault, so that the fault suite can show what a NaN
//! does to a run: `TRAIN_TEST_POISON_AT=N` puts a NaN into the run once N words (Word2Vec) or
//! at step N (the encoder). Unset, as it is outside the tests, nothing changes.

/// The environment variable the fault suite sets.
pub const POISON_VAR: &str = "TRAIN_TEST_POISON_AT";

/// The words or step at which the run gets its NaN, if the hook is set (to a number).
pub fn poison_at() -> Option<u64> {
    parse(std::env::var(POISON_VAR).ok())
}

/// The hook's value: a number, else off.
fn parse(value: Option<String>) -> Option<u64> {
    value?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_is_a_number_or_off() {
        assert_eq!(parse(Some(" 120 ".into())), Some(120));
        assert_eq!(parse(Some("soon".into())), None);
        assert_eq!(parse(None), None);
    }
}

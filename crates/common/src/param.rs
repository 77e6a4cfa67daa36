//! Parameter checks shared by the libraries' typed configs: every failure names the key, the
//! value and what is allowed, on one line.

use std::fmt::Debug;

/// A parameter outside what is allowed, e.g. `dim = 0 is out of range (allowed: 1..=10000)`.
/// The key is relative to the struct that checked it; [`InvalidParam::in_section`] prefixes the
/// config section (`model.dim`), so the libraries need not know how the binary nests them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key} = {value} {problem} (allowed: {allowed})")]
pub struct InvalidParam {
    /// The key, dotted from the outermost section that has seen the error.
    pub key: String,
    /// The value as the config spells it (`Debug` form).
    pub value: String,
    /// What is wrong with it.
    pub problem: String,
    /// What is allowed instead.
    pub allowed: String,
}

impl InvalidParam {
    /// `key = value <problem> (allowed: <allowed>)`.
    pub fn new(key: &str, value: impl Debug, problem: &str, allowed: &str) -> Self {
        InvalidParam {
            key: key.to_string(),
            value: format!("{value:?}"),
            problem: problem.to_string(),
            allowed: allowed.to_string(),
        }
    }

    /// The same error with its key inside `section` (`dim` → `model.dim`).
    pub fn in_section(mut self, section: &str) -> Self {
        self.key = format!("{section}.{}", self.key);
        self
    }
}

/// `Ok` when `ok`, else `key = value is out of range (allowed: <allowed>)`.
pub fn check<V: Debug>(key: &str, value: V, ok: bool, allowed: &str) -> Result<(), InvalidParam> {
    if ok {
        Ok(())
    } else {
        Err(InvalidParam::new(key, value, "is out of range", allowed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_dotted_key_the_value_and_what_is_allowed() {
        assert_eq!(check("dim", 5, true, "1..=10"), Ok(()));
        let e = check("dim", 0, false, "1..=10000")
            .unwrap_err()
            .in_section("model");
        assert_eq!(
            e.to_string(),
            "model.dim = 0 is out of range (allowed: 1..=10000)"
        );
        let e = InvalidParam::new("heads", 3, "does not divide hidden = 256", "a divisor");
        assert_eq!(
            e.to_string(),
            "heads = 3 does not divide hidden = 256 (allowed: a divisor)"
        );
    }
}

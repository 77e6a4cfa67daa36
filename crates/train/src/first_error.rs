//! The first of several errors that should not stop a run at once (a TensorBoard write that
//! failed, say): kept, and reported when the run's outputs are safe.

/// Holds the first error it is given and drops the later ones.
#[derive(Debug, Default)]
pub struct FirstError(Option<anyhow::Error>);

impl FirstError {
    /// Keeps the error of `result` unless one is already kept.
    pub fn keep<E: Into<anyhow::Error>>(&mut self, result: Result<(), E>) {
        if let (Err(e), None) = (result, &self.0) {
            self.0 = Some(e.into());
        }
    }

    /// The kept error, if any, leaving none.
    pub fn take(&mut self) -> Option<anyhow::Error> {
        self.0.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_error_is_kept() {
        let mut first = FirstError::default();
        first.keep(Ok::<(), std::io::Error>(()));
        first.keep(Err(std::io::Error::other("disk full")));
        first.keep(Err(std::io::Error::other("later")));
        assert_eq!(
            first.take().map(|e| e.to_string()),
            Some("disk full".into())
        );
        assert!(first.take().is_none());
    }
}

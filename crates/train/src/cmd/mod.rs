//! One module per subcommand: each reads as the named steps of what it does and leaves the work
//! to the libraries.

#[cfg(feature = "encoder")]
pub mod encoder;
#[cfg(feature = "encoder")]
pub mod export;
#[cfg(feature = "encoder")]
pub mod fill_mask;
pub mod queries;
pub mod word2vec;

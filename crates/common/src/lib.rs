//! The pieces both trainers share, each written once: opening and reading text within bounds
//! ([`text`]), the pseudo-random generator ([`Rng`]), atomic writes ([`atomic`]), config
//! comparison ([`changed_keys`]), run-folder creation ([`run_dir`]), parameter range checks
//! ([`param`]) and the GPU plumbing ([`gpu`]).
//!
//! A crate of its own so that the encoder does not depend on the word2vec crate to reach them.

pub mod atomic;
mod cache;
mod config_diff;
pub mod gpu;
pub mod param;
mod rng;
pub mod run_dir;
pub mod text;

pub use atomic::{replace_with, write_atomic};
pub use cache::cache_dir;
pub use config_diff::changed_keys;
pub use gpu::{AdapterInfo, GpuError};
pub use param::{InvalidParam, check};
pub use rng::Rng;
pub use text::{bounded_lines, check_file, one_line, open_text, read_text_bounded};

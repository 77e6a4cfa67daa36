//! The BERT-style Transformer encoder and its masked-language-model pretraining, on burn.
//!
//! Built so far: the learning-rate schedule ([`schedule`]), MLM masking ([`masking`]), the
//! tokenizer ([`tokenizer`]), the cached token stream and sequence packing ([`data`]), multi-head
//! self-attention ([`attention`]), the feed-forward block, encoder layer and sinusoidal positions
//! ([`layer`]), the whole model with its tied MLM head ([`model`]), the training loop with
//! evaluation ([`pretrain`]), checkpoints to resume from ([`checkpoint`]) and the CPU device
//! ([`cpu_device`]).

pub mod attention;
pub mod checkpoint;
pub mod data;
pub mod dropout;
pub mod layer;
pub mod masking;
pub mod model;
pub mod pretrain;
pub mod schedule;
pub mod tokenizer;

pub use attention::SelfAttention;
/// The burn device type, re-exported so that callers need not depend on burn.
pub use burn::prelude::Device;
pub use checkpoint::{Checkpoint, CheckpointError, Progress};
pub use data::{DataError, pack, token_stream};
pub use layer::{EncoderLayer, FeedForward, NormPlacement, sinusoidal_positions};
pub use masking::{IGNORE, Masked, MaskingConfig, mask_tokens};
pub use model::{Init, MlmModel, ModelShape};
pub use pretrain::{
    EvalReport, PretrainObserver, PretrainParams, Resume, StepReport, Trained, evaluate, pretrain,
};
pub use schedule::{Schedule, learning_rate};
pub use tokenizer::{
    SPECIAL_TOKENS, SpecialIds, TokenizerError, TokenizerKind, TokenizerSpec, load_tokenizer,
    train_tokenizer,
};

/// The CPU device the encoder trains on: burn's pure-Rust `flex` backend, chosen over the
/// deprecated `ndarray` backend (burn 0.22 deprecates it in favour of flex, and flex was ~1.3×
/// faster per Transformer training step in a probe on this machine type).
pub fn cpu_device() -> burn::prelude::Device {
    burn::prelude::Device::flex()
}

/// burn's deprecated `ndarray` CPU backend, built only with the `ndarray` feature so that the
/// benchmark can measure it against [`cpu_device`] on the same model.
#[cfg(feature = "ndarray")]
#[allow(deprecated)] // deprecated by burn in favour of flex, which is the point of measuring it
pub fn ndarray_device() -> burn::prelude::Device {
    burn::prelude::Device::ndarray()
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    #[test]
    fn flex_device_runs_a_matmul() {
        let device = super::cpu_device();
        let a = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device);
        let b = Tensor::<2>::from_floats([[0.5], [-1.0]], &device);
        let c: Vec<f32> = a.matmul(b).into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(c, vec![-1.5, -2.5]);
    }
}

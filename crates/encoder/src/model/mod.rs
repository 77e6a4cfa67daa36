//! The whole masked-language model: token embeddings plus positions (sinusoidal or learned),
//! LayerNorm and dropout, a stack of encoder layers (with a final LayerNorm when the layers are
//! pre-norm), and the MLM head: dense + GELU + LayerNorm, then scores against the token
//! embedding matrix itself (tied weights, as BERT) plus a bias. The head scores only the
//! positions asked for (the masked ones), not every position, and in training and evaluation
//! the last layer is computed at those positions only ([`MaskedRows`]).

use burn::module::{ModuleVisitor, Param};
use burn::nn::{
    Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::prelude::*;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod attention;
mod cpu_op;
pub mod dropout;
mod flat_linear;
pub mod gelu;
mod init;
pub mod layer;
mod masked_rows;
pub mod softmax;
mod word_vectors;

pub use crate::config::{Init, ModelConfig, NormPlacement, Positions};
pub use attention::{SelfAttention, SelfAttentionConfig};
pub use layer::{EncoderLayer, EncoderLayerConfig, FeedForward, FeedForwardConfig};
pub use masked_rows::MaskedRows;
pub use word_vectors::token_vectors;

use init::BertInit;

use dropout::Dropout;
use layer::sinusoidal_positions;

/// The file beside a weights file `model.bpk` that holds its [`ModelShape`] (`model.json`), so
/// a weights file can be loaded with nothing else, as nanoGPT keeps `model_args` in its
/// checkpoints.
pub fn shape_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// Why a model could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A weights or shape file that does not hold what it should.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// Everything that fixes a model's parameters: what [`ModelShape::init`] builds and what is
/// saved beside its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelShape {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Longest sequence (`data.seq_len`; for learned positions).
    pub max_len: usize,
    /// Layers, widths, dropout, LayerNorm placement, positions and initialisation: the
    /// `[model]` section, without `init_embeddings` (which matters only before the first step).
    pub model: ModelConfig,
}

/// One parameter tensor of a model, copied out: see [`MlmModel::parameters`].
#[derive(Debug, Clone, PartialEq)]
pub struct NamedParameter {
    /// Its dotted path in the module tree, e.g. `layers.0.attention.query.weight`.
    pub name: String,
    /// Its dimensions (burn's: a linear layer's weight is `[in, out]`).
    pub dims: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f32>,
}

/// A BERT-style encoder with its MLM head.
#[derive(Module, Debug)]
pub struct MlmModel {
    tokens: Embedding,
    positions: Option<Embedding>,
    embedding_norm: LayerNorm,
    embedding_dropout: Dropout,
    layers: Vec<EncoderLayer>,
    final_norm: Option<LayerNorm>,
    head_dense: Linear,
    head_norm: LayerNorm,
    head_bias: Param<Tensor<1>>,
    hidden: usize,
    /// What the token embeddings are multiplied by on the way in ([`Init`]).
    token_scale: f64,
    /// The expected length of a freshly drawn token-embedding row ([`Init`]): what vectors
    /// from word2vec are scaled to.
    token_row_norm: f64,
    /// What the model was built from, saved beside its weights.
    #[module(skip)]
    shape: ModelShape,
}

impl ModelShape {
    /// Checks a shape read from `shape_file` before anything is allocated for it: its values
    /// in their ranges, and a weights file at `weights` large enough for its largest matrices
    /// (so a shape that claims 10^12 tokens or the largest layers is an error, not an
    /// allocation).
    pub fn check_against(&self, shape_file: &Path, weights: &Path) -> Result<(), ModelError> {
        let format = |message: String| ModelError::Format {
            path: shape_file.to_path_buf(),
            message,
        };
        self.model.validate().map_err(|e| format(e.to_string()))?;
        if !(1..=1 << 24).contains(&self.vocab_size) || !(3..=8192).contains(&self.max_len) {
            let (v, m) = (self.vocab_size, self.max_len);
            return Err(format(format!(
                "vocab_size {v} (allowed 1..=16777216) or max_len {m} (allowed 3..=8192) is out of range"
            )));
        }
        let bytes = std::fs::metadata(weights)
            .map_err(|source| ModelError::Io {
                path: weights.to_path_buf(),
                source,
            })?
            .len();
        // The token embeddings and each layer's attention (4 h²) and feed-forward (2 h·ffn)
        // matrices, 4 bytes a float: a lower bound of what the weights file must hold.
        let (h, ffn) = (self.model.hidden as u64, self.model.ffn as u64);
        let floats =
            self.vocab_size as u64 * h + self.model.layers as u64 * (4 * h * h + 2 * h * ffn);
        let needed = floats.saturating_mul(4);
        if needed > bytes {
            return Err(format(format!(
                "this shape needs at least {needed} bytes of weights, but {} has {bytes}",
                weights.display()
            )));
        }
        Ok(())
    }

    /// The shape `[model]` describes, for a tokenizer of `vocab_size` tokens and sequences of
    /// up to `max_len` (`data.seq_len`).
    pub fn new(model: &ModelConfig, vocab_size: usize, max_len: usize) -> Self {
        let model = ModelConfig {
            init_embeddings: None,
            ..model.clone()
        };
        ModelShape {
            vocab_size,
            max_len,
            model,
        }
    }

    /// A freshly initialised model of this shape on `device` (burn's `Config::init`
    /// convention).
    pub fn init(&self, device: &Device) -> MlmModel {
        let (shape, vocab_size, max_len) = (&self.model, self.vocab_size, self.max_len);
        let h = shape.hidden;
        let eps = shape.init.norm_epsilon();
        let norm = || LayerNormConfig::new(h).with_epsilon(eps).init(device);
        let model = MlmModel {
            // Init::Scaled: N(0, 1/hidden), scaled by sqrt(hidden) on the way in, so the first
            // loss is about ln(vocab) rather than the ~16 nats that burn's default N(0, 1)
            // embedding gives through the tied head.
            tokens: EmbeddingConfig::new(vocab_size, h)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 1.0 / (h as f64).sqrt(),
                })
                .init(device),
            positions: (shape.positions == Positions::Learned)
                .then(|| EmbeddingConfig::new(max_len, h).init(device)),
            embedding_norm: norm(),
            embedding_dropout: Dropout::new(shape.dropout),
            layers: (0..shape.layers)
                .map(|_| {
                    EncoderLayerConfig {
                        hidden: h,
                        heads: shape.heads,
                        ffn: shape.ffn,
                        dropout: shape.dropout,
                        norm: shape.norm,
                        norm_epsilon: eps,
                    }
                    .init(device)
                })
                .collect(),
            final_norm: (shape.norm == NormPlacement::Pre).then(norm),
            head_dense: LinearConfig::new(h, h).init(device),
            head_norm: norm(),
            head_bias: Param::from_tensor(Tensor::zeros([vocab_size], device)),
            hidden: h,
            token_scale: shape.init.token_scale(h),
            token_row_norm: shape.init.token_row_norm(h),
            shape: self.clone(),
        };
        match shape.init {
            Init::Scaled => model,
            Init::Bert => model.map(&mut BertInit {
                in_linear: Vec::new(),
            }),
        }
    }
    /// A freshly initialised model whose weights are drawn on the CPU with `seed` and then put
    /// on `device`: the same seed gives the same model on every device (a GPU's own generator
    /// would draw other numbers), so a run's first steps agree between devices.
    pub fn init_seeded(&self, seed: u64, device: &Device) -> Result<MlmModel, ModelError> {
        let cpu = crate::device::cpu_device().autodiff();
        cpu.seed(seed);
        let model = self.init(&cpu);
        if *device == cpu {
            return Ok(model);
        }
        self.init(device)
            .try_load_record(model.into_record())
            .map_err(|e| ModelError::Format {
                path: PathBuf::from("(fresh weights)"),
                message: format!("cannot move the weights to the device: {e:?}"),
            })
    }

    /// A model of this shape with the weights saved at `path` by [`MlmModel::save`]; the
    /// weights must be of this shape.
    pub fn load(&self, path: &Path, device: &Device) -> Result<MlmModel, ModelError> {
        self.init(device)
            .try_load_file(path)
            .map_err(|e| ModelError::Format {
                path: path.to_path_buf(),
                message: format!("cannot load the weights: {e:?}"),
            })
    }
}

impl MlmModel {
    /// Hidden states `[batch, seq, hidden]` for token ids `[batch, seq]`; `padding` is true at
    /// padding positions.
    pub fn encode(&self, ids: Tensor<2, Int>, padding: Option<Tensor<2, Bool>>) -> Tensor<3> {
        let mut x = self.embed(ids);
        for layer in &self.layers {
            x = layer.forward(x, padding.clone());
        }
        self.finish(x)
    }

    /// The hidden states `[n, hidden]` at the masked positions `rows` was built from, in their
    /// order: the rows of [`encode`](Self::encode) there, with the last layer computed at those
    /// positions only (see [`MaskedRows`]); what training and evaluation score.
    pub fn encode_rows(
        &self,
        ids: Tensor<2, Int>,
        padding: Option<Tensor<2, Bool>>,
        rows: &MaskedRows,
    ) -> Tensor<2> {
        debug_assert_eq!(ids.dims(), rows.dims, "rows built for another input");
        let mut x = self.embed(ids);
        let [batch, seq, hidden] = x.dims();
        let queries = match self.layers.split_last() {
            Some((last, rest)) => {
                for layer in rest {
                    x = layer.forward(x, padding.clone());
                }
                last.forward_rows(x, padding, rows.queries.clone(), rows.per_row)
                    .reshape([batch * rows.per_row, hidden])
            }
            None => x
                .reshape([batch * seq, hidden])
                .select(0, rows.queries.clone()),
        };
        self.finish(queries.select(0, rows.pick.clone()))
    }

    /// The stack's output: `x` through the final LayerNorm of pre-norm layers, as it is else.
    fn finish<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match &self.final_norm {
            Some(norm) => norm.forward(x),
            None => x,
        }
    }

    /// Token embeddings (scaled) plus positions, LayerNorm and dropout: the first layer's input.
    fn embed(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [batch, seq] = ids.dims();
        let device = ids.device();
        let tokens = self.tokens.forward(ids).mul_scalar(self.token_scale);
        let positions = match &self.positions {
            Some(learned) => {
                let index = Tensor::<1, Int>::arange(0..seq as i64, &device).reshape([1, seq]);
                learned.forward(index)
            }
            None => {
                Tensor::<1>::from_floats(sinusoidal_positions(seq, self.hidden).as_slice(), &device)
                    .reshape([1, seq, self.hidden])
            }
        };
        self.embedding_dropout.forward(
            self.embedding_norm
                .forward(tokens + positions.expand([batch, seq, self.hidden])),
        )
    }

    /// Every parameter's values under its dotted path in the module tree (e.g.
    /// `layers.0.attention.query.weight`), in module order: what the weight histograms show.
    pub fn parameter_values(&self) -> Vec<(String, Vec<f32>)> {
        self.parameters()
            .into_iter()
            .map(|p| (p.name, p.values))
            .collect()
    }

    /// Every parameter with its dotted path, dimensions and values (row-major), in module
    /// order: what an export maps onto another library's names.
    pub fn parameters(&self) -> Vec<NamedParameter> {
        #[derive(Default)]
        struct Collect {
            path: Vec<String>,
            found: Vec<NamedParameter>,
        }
        impl ModuleVisitor for Collect {
            fn enter_module(&mut self, name: &str, _container_type: &str) {
                self.path.push(name.to_string());
            }
            fn exit_module(&mut self, _name: &str, _container_type: &str) {
                self.path.pop();
            }
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let tensor = param.val();
                let dims = tensor.dims().to_vec();
                let values = tensor
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .unwrap_or_default();
                self.found.push(NamedParameter {
                    name: self.path.join("."),
                    dims,
                    values,
                });
            }
        }
        let mut collect = Collect::default();
        self.visit(&mut collect);
        collect.found
    }

    /// The device the model's parameters live on.
    pub fn device(&self) -> Device {
        self.devices()
            .into_iter()
            .next()
            .unwrap_or_else(Device::flex)
    }

    /// The shape the model was built from.
    pub fn shape(&self) -> &ModelShape {
        &self.shape
    }

    /// What the token embeddings are multiplied by on the way in (√hidden with
    /// [`Init::Scaled`], 1 with [`Init::Bert`]); the output matrix uses them unscaled.
    pub fn token_scale(&self) -> f64 {
        self.token_scale
    }

    /// Saves the weights (without autodiff state) as a burnpack file at `path`, and the shape
    /// beside it ([`shape_path`]), each written to a temporary name and renamed.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let shape_file = shape_path(path);
        let json = serde_json::to_vec_pretty(&self.shape).map_err(|e| ModelError::Format {
            path: shape_file.clone(),
            message: e.to_string(),
        })?;
        common::write_atomic(&shape_file, |w| std::io::Write::write_all(w, &json)).map_err(
            |source| ModelError::Io {
                path: shape_file,
                source,
            },
        )?;
        common::replace_with(path, |temp| {
            let record = self.clone().valid().save_file(temp);
            record.map_err(|e| std::io::Error::other(format!("cannot write the weights: {e:?}")))
        })
        .map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The model saved at `path` by [`save`](Self::save), its shape read from beside it.
    pub fn load(path: &Path, device: &Device) -> Result<Self, ModelError> {
        let shape_file = shape_path(path);
        let text =
            common::read_text_bounded(&shape_file, 1 << 20).map_err(|source| ModelError::Io {
                path: shape_file.clone(),
                source,
            })?;
        let shape: ModelShape = serde_json::from_str(&text).map_err(|e| ModelError::Format {
            path: shape_file.clone(),
            message: format!("not a model shape: {e}"),
        })?;
        shape.check_against(&shape_file, path)?;
        shape.load(path, device)
    }

    /// Replaces the token embeddings of the given ids by the given vectors, each scaled to the
    /// expected length of the initial rows (1 with [`Init::Scaled`], 0.02 × sqrt(hidden) with
    /// [`Init::Bert`]), e.g. from word2vec; used before training starts.
    pub fn with_token_vectors(mut self, rows: &[(u32, Vec<f32>)]) -> Self {
        let weight = self.tokens.weight.val();
        let device = weight.device();
        let [vocab, hidden] = weight.dims();
        let mut data: Vec<f32> = weight.into_data().try_into_vec::<f32>().unwrap_or_default();
        if data.len() != vocab * hidden {
            return self;
        }
        for (id, v) in rows {
            let id = *id as usize;
            if id >= vocab || v.len() != hidden {
                continue;
            }
            let norm = v
                .iter()
                .map(|x| x * x)
                .sum::<f32>()
                .sqrt()
                .max(f32::MIN_POSITIVE);
            let scale = self.token_row_norm as f32 / norm;
            for (slot, x) in data[id * hidden..(id + 1) * hidden].iter_mut().zip(v) {
                *slot = x * scale;
            }
        }
        let tensor = Tensor::<1>::from_floats(data.as_slice(), &device).reshape([vocab, hidden]);
        self.tokens.weight = Param::from_tensor(tensor);
        self
    }

    /// The `top` most likely tokens, with their probabilities, at each position of `ids` (one
    /// sequence) that holds `mask_id`; empty when there is none.
    pub fn fill_mask(&self, ids: &[u32], mask_id: u32, top: usize) -> Vec<Vec<(u32, f32)>> {
        let positions: Vec<i64> = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| **id == mask_id)
            .map(|(i, _)| i as i64)
            .collect();
        if positions.is_empty() {
            return Vec::new();
        }
        let device = self.device();
        let input: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
        let tokens = Tensor::<1, Int>::from_ints(input.as_slice(), &device).reshape([1, ids.len()]);
        let rows = MaskedRows::new(&positions, 1, ids.len(), &device);
        let probs = burn::tensor::activation::softmax(self.masked_logits(tokens, None, &rows), 1);
        let vocab = probs.dims()[1];
        let values: Vec<f32> = probs.into_data().try_into_vec::<f32>().unwrap_or_default();
        values
            .chunks(vocab.max(1))
            .map(|row| {
                let mut order: Vec<u32> = (0..row.len() as u32).collect();
                order.sort_by(|&a, &b| row[b as usize].total_cmp(&row[a as usize]));
                order.truncate(top);
                order.into_iter().map(|i| (i, row[i as usize])).collect()
            })
            .collect()
    }

    /// MLM scores `[n, vocab]` at the flattened positions `at` (`batch * seq + position`) of
    /// `hidden` `[batch, seq, hidden]`.
    pub fn mlm_logits(&self, hidden: Tensor<3>, at: Tensor<1, Int>) -> Tensor<2> {
        let [batch, seq, h] = hidden.dims();
        self.mlm_head(hidden.reshape([batch * seq, h]).select(0, at))
    }

    /// MLM scores `[n, vocab]` at the masked positions `rows` was built from, in their order:
    /// [`mlm_logits`](Self::mlm_logits) of [`encode`](Self::encode) there, with less
    /// arithmetic ([`encode_rows`](Self::encode_rows)).
    pub fn masked_logits(
        &self,
        ids: Tensor<2, Int>,
        padding: Option<Tensor<2, Bool>>,
        rows: &MaskedRows,
    ) -> Tensor<2> {
        self.mlm_head(self.encode_rows(ids, padding, rows))
    }

    /// The MLM head on hidden states `[n, hidden]`: scores `[n, vocab]`.
    fn mlm_head(&self, chosen: Tensor<2>) -> Tensor<2> {
        let t = self
            .head_norm
            .forward(gelu::gelu(self.head_dense.forward(chosen)));
        let [n, _] = t.dims();
        let vocab = self.head_bias.dims()[0];
        t.matmul(self.tokens.weight.val().transpose())
            + self.head_bias.val().reshape([1, vocab]).expand([n, vocab])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{parameter_gradients, tiny_shape};
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::optim::{AdamWConfig, GradientsParams};

    fn shape(norm: NormPlacement, positions: Positions) -> ModelShape {
        let mut shape = tiny_shape(20, 8, 16);
        shape.model.norm = norm;
        shape.model.positions = positions;
        shape
    }

    /// The logits at the flattened positions `at` of three fixed sequences of 6 (the second's
    /// last two positions padding), through [`MlmModel::masked_logits`] (`rows`) or
    /// [`MlmModel::encode`] and [`MlmModel::mlm_logits`].
    fn logits_at(model: &MlmModel, at: &[i64], rows: bool) -> Tensor<2> {
        let device = model.device();
        let ids = Tensor::<2, Int>::from_ints(
            [[2, 5, 4, 7, 8, 3], [2, 9, 4, 4, 0, 0], [2, 6, 6, 7, 5, 3]],
            &device,
        );
        let mut pad = vec![false; 18];
        pad[10..12].fill(true);
        let padding = Tensor::<2, Bool>::from_bool(TensorData::new(pad, [3, 6]), &device);
        if rows {
            model.masked_logits(ids, Some(padding), &MaskedRows::new(at, 3, 6, &device))
        } else {
            let at = Tensor::<1, Int>::from_ints(at, &device);
            model.mlm_logits(model.encode(ids, Some(padding)), at)
        }
    }

    /// The gradients of the sum of squared `logits`, flattened in visiting order.
    fn flat_gradients(model: &MlmModel, logits: Tensor<2>) -> Vec<f32> {
        let grads = GradientsParams::from_grads(logits.powi_scalar(2).sum().backward(), model);
        parameter_gradients(model, &grads).concat()
    }

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    #[test]
    fn the_last_layer_on_the_masked_rows_alone_gives_the_same_logits_and_gradients() {
        // Masked: positions 2 and 4 of the first sequence, 1, 2 and 3 of the second (so the
        // first gets a spare query row), none of the third. Both LayerNorm placements; with
        // dropout 0 the attention is burn's fused op (its autodiff form in training, flex's own
        // kernel in the inference form), with dropout 0.1 it is written out (compared in the
        // inference form, where no dropout is drawn; attention.rs checks its gradients).
        let at = [2, 4, 7, 8, 9];
        for (norm, dropout) in [
            (NormPlacement::Post, 0.0),
            (NormPlacement::Pre, 0.0),
            (NormPlacement::Post, 0.1),
            (NormPlacement::Pre, 0.1),
        ] {
            let what = format!("{norm:?}, dropout {dropout}");
            let mut shape = shape(norm, Positions::Learned);
            shape.model.layers = 2;
            shape.model.dropout = dropout;
            let device = Device::flex().autodiff();
            device.seed(3);
            let model = shape.init(&device);
            let inference = model.valid();
            let (a, b) = (
                logits_at(&inference, &at, false),
                logits_at(&inference, &at, true),
            );
            assert_close(&values(a), &values(b), &format!("inference, {what}"));
            if dropout > 0.0 {
                continue;
            }
            let (a, b) = (logits_at(&model, &at, false), logits_at(&model, &at, true));
            let (va, vb) = (values(a.clone()), values(b.clone()));
            assert_eq!(va.len(), 5 * 20);
            assert_close(&va, &vb, &what);
            let (ga, gb) = (flat_gradients(&model, a), flat_gradients(&model, b));
            assert_eq!(
                ga.len(),
                model.num_params(),
                "every parameter has a gradient"
            );
            assert_close(&ga, &gb, &format!("gradients, {what}"));
        }
    }

    fn assert_close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        let scale = a.iter().fold(0f32, |m, x| m.max(x.abs())).max(1.0);
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-5 * scale, "{what}[{i}]: {x} vs {y}");
        }
    }

    #[test]
    fn the_output_matrix_is_the_embedding_matrix() {
        // Tied weights: the model holds no separate vocab x hidden output matrix.
        let (v, h, f) = (20, 16, 32);
        let layer = 4 * (h * h + h) + 2 * 2 * h + (h * f + f) + (f * h + h);
        let expected = v * h + 2 * h + layer + (h * h + h) + 2 * h + v;
        let model = shape(NormPlacement::Post, Positions::Sinusoidal).init(&Device::flex());
        assert_eq!(model.num_params(), expected);
    }

    #[test]
    fn parameter_values_name_every_parameter_by_its_path() {
        let model = shape(NormPlacement::Post, Positions::Learned).init(&Device::flex());
        let params = model.parameter_values();
        let total: usize = params.iter().map(|p| p.1.len()).sum();
        assert_eq!(total, model.num_params());
        let names: Vec<&str> = params.iter().map(|p| p.0.as_str()).collect();
        for expected in ["tokens.weight", "positions.weight", "head_bias"] {
            assert!(names.contains(&expected), "{expected} not in {names:?}");
        }
        assert!(
            names.iter().any(|n| n.starts_with("layers.0.")),
            "{names:?}"
        );
        let tokens = &params[names.iter().position(|n| *n == "tokens.weight").unwrap()].1;
        assert_eq!(tokens.len(), 20 * 16);
    }

    #[test]
    fn bert_init_draws_matrices_from_n_0_002_and_zeroes_linear_biases() {
        let mut bert = shape(NormPlacement::Pre, Positions::Learned);
        bert.vocab_size = 300;
        bert.model.hidden = 32;
        bert.model.ffn = 64;
        bert.model.init = Init::Bert;
        let device = Device::flex().autodiff();
        // Seeded, so that a run normally draws the same values; other tests drawing at the same
        // time can still change them, hence the bounds in standard errors below.
        device.seed(11);
        let model = bert.init(&device);
        let mut matrices = 0;
        for (name, values) in model.parameter_values() {
            let n = values.len() as f64;
            let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
            let std = (values
                .iter()
                .map(|&v| (v as f64 - mean).powi(2))
                .sum::<f64>()
                / n)
                .sqrt();
            if name.ends_with(".gamma") {
                assert!(values.iter().all(|&v| v == 1.0), "{name}");
            } else if name.ends_with(".beta") || name.ends_with(".bias") || name == "head_bias" {
                assert!(values.iter().all(|&v| v == 0.0), "{name}");
            } else {
                matrices += 1;
                // Five standard errors of the sample mean and standard deviation of n draws
                // from N(0, 0.02): the smallest matrix (positions, 8 x 32) has only 256. Four
                // failed about once in twenty full runs (18 checks a run).
                let (mean_error, std_error) = (0.02 / n.sqrt(), 0.02 / (2.0 * n).sqrt());
                assert!(
                    mean.abs() < 5.0 * mean_error && (std - 0.02).abs() < 5.0 * std_error,
                    "{name}: {mean} {std}"
                );
            }
        }
        // tokens, positions, 4 in attention, 2 in the feed-forward block, the head's dense.
        assert_eq!(matrices, 9);
        // Still trainable, with the LayerNorm epsilon of BERT and unscaled token embeddings.
        assert!(model.tokens.weight.val().is_require_grad());
        assert_eq!(model.token_scale, 1.0);
        assert_eq!(Init::Bert.norm_epsilon(), 1e-12);
        let scaled = shape(NormPlacement::Pre, Positions::Learned).init(&device);
        assert_eq!(scaled.token_scale, 4.0);
    }

    #[test]
    fn a_saved_model_loads_back_with_identical_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::flex();
        let s = shape(NormPlacement::Pre, Positions::Learned);
        let model = s.init(&device);
        let path = dir.path().join("m.bpk");
        model.save(&path).unwrap();
        let loaded = MlmModel::load(&path, &device).unwrap();
        assert_eq!(
            loaded.shape(),
            &s,
            "the shape comes from beside the weights"
        );
        assert!(shape_path(&path).is_file());
        let ids = [2, 7, 4, 9, 10, 4, 12, 3];
        assert_eq!(model.fill_mask(&ids, 4, 3), loaded.fill_mask(&ids, 4, 3));
        let top = model.fill_mask(&ids, 4, 20);
        assert_eq!(top.len(), 2);
        let total: f32 = top[0].iter().map(|t| t.1).sum();
        assert!((total - 1.0).abs() < 1e-4, "{total}");
        assert!(top[0].windows(2).all(|w| w[0].1 >= w[1].1));
        let e = MlmModel::load(&dir.path().join("none.bpk"), &device).unwrap_err();
        assert!(e.to_string().contains("none.json"), "{e}");
        let mut other = s.clone();
        other.model.hidden = 8;
        assert!(
            other.load(&path, &device).is_err(),
            "weights of another shape"
        );
    }

    #[test]
    fn token_vectors_replace_embedding_rows_at_unit_length() {
        let device = Device::flex();
        let model = shape(NormPlacement::Post, Positions::Sinusoidal)
            .init(&device)
            .with_token_vectors(&[(7, vec![3.0; 16]), (99, vec![1.0; 16]), (8, vec![1.0; 3])]);
        let w: Vec<f32> = model
            .tokens
            .weight
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert!(w[7 * 16..8 * 16].iter().all(|&x| (x - 0.25).abs() < 1e-6));
        // With BERT's initialisation, rows are about 0.02 x sqrt(16) = 0.08 long, and so are the
        // vectors put in.
        let mut bert = shape(NormPlacement::Post, Positions::Sinusoidal);
        bert.model.init = Init::Bert;
        let row: Vec<f32> = bert
            .init(&device)
            .with_token_vectors(&[(7, vec![3.0; 16])])
            .tokens
            .weight
            .val()
            .slice([7..8, 0..16])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert!(row.iter().all(|&x| (x - 0.02).abs() < 1e-6), "{row:?}");
        // Out-of-range ids and wrong dimensions are skipped, the rest is untouched.
        let fresh = shape(NormPlacement::Post, Positions::Sinusoidal).init(&device);
        assert_eq!(fresh.tokens.weight.dims(), [20, 16]);
        assert!(
            w[8 * 16..9 * 16]
                .iter()
                .any(|&x| (x - 1.0 / 4.0).abs() > 1e-3)
        );
    }

    #[test]
    fn a_tiny_model_overfits_a_tiny_batch() {
        for (norm, positions) in [
            (NormPlacement::Post, Positions::Sinusoidal),
            (NormPlacement::Pre, Positions::Learned),
        ] {
            let device = Device::flex().autodiff();
            let mut model = shape(norm, positions).init(&device);
            let mut optim = AdamWConfig::new().init();
            let ce = CrossEntropyLossConfig::new().init(&device);
            // Two sequences of 8 with positions 2, 5 (first) and 11, 14 (second) masked by id 4.
            let ids = Tensor::<2, Int>::from_ints(
                [[2, 7, 4, 9, 10, 4, 12, 3], [2, 15, 16, 4, 17, 18, 4, 3]],
                &device,
            );
            let at = Tensor::<1, Int>::from_ints([2, 5, 11, 14], &device);
            let targets = Tensor::<1, Int>::from_ints([8, 11, 5, 19], &device);
            let mut losses = Vec::new();
            for _ in 0..60 {
                let logits = model.mlm_logits(model.encode(ids.clone(), None), at.clone());
                let loss = ce.forward(logits, targets.clone());
                losses.push(loss.clone().into_scalar::<f32>());
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(1e-2, model, grads);
            }
            let (first, last) = (losses[0], losses[losses.len() - 1]);
            assert!(first > 2.0 && last < 0.05, "{norm:?}: {first} -> {last}");
        }
    }
}

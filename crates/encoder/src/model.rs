//! The whole masked-language model: token embeddings plus positions (sinusoidal or learned),
//! LayerNorm and dropout, a stack of encoder layers (with a final LayerNorm when the layers are
//! pre-norm), and the MLM head: dense + GELU + LayerNorm, then scores against the token
//! embedding matrix itself (tied weights, as BERT) plus a bias. The head scores only the
//! positions asked for (the masked ones), not every position.

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::nn::{
    Embedding, EmbeddingConfig, Gelu, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::prelude::*;
use burn::tensor::Distribution;

use crate::dropout::Dropout;
use crate::layer::{EncoderLayer, NormPlacement, sinusoidal_positions};

/// The shape of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelShape {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Longest sequence (for learned positions).
    pub max_len: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Hidden size.
    pub hidden: usize,
    /// Attention heads (must divide `hidden`).
    pub heads: usize,
    /// Feed-forward inner size.
    pub ffn: usize,
    /// Dropout probability.
    pub dropout: f64,
    /// LayerNorm placement.
    pub norm: NormPlacement,
    /// Learned position embeddings instead of the sinusoidal encoding.
    pub learned_positions: bool,
    /// How the weights start.
    pub init: Init,
}

/// How a model's weights start. The two differ in scale (and so in how fast the first steps
/// learn), not in what the model computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// Token embeddings N(0, 1/hidden), scaled by sqrt(hidden) on the way in (as the original
    /// Transformer does), so they match the positions' unit scale while the tied output scores
    /// start near N(0, 1); burn's defaults elsewhere (Kaiming-uniform linear layers, N(0, 1)
    /// learned positions); LayerNorm epsilon 1e-5.
    Scaled,
    /// As BERT (and HF `BertForMaskedLM`): every weight matrix and embedding N(0, 0.02), every
    /// bias 0, token embeddings used as they are, LayerNorm epsilon 1e-12. For comparisons with
    /// BERT implementations, with learned positions as BERT's: the sinusoidal encoding's rows
    /// are about 35 times longer than these token rows and would drown them.
    Bert,
}

/// The standard deviation of every weight matrix and embedding under [`Init::Bert`].
const BERT_STD: f64 = 0.02;

impl Init {
    /// The LayerNorm epsilon of this initialisation.
    pub fn norm_epsilon(self) -> f64 {
        match self {
            Init::Scaled => 1e-5,
            Init::Bert => 1e-12,
        }
    }

    /// What the token embeddings are multiplied by on the way in, for width `hidden`.
    fn token_scale(self, hidden: usize) -> f64 {
        match self {
            Init::Scaled => (hidden as f64).sqrt(),
            Init::Bert => 1.0,
        }
    }

    /// The expected length of a freshly drawn token-embedding row of width `hidden`.
    fn token_row_norm(self, hidden: usize) -> f64 {
        match self {
            Init::Scaled => 1.0,
            Init::Bert => BERT_STD * (hidden as f64).sqrt(),
        }
    }
}

/// Re-draws a freshly built model's weights as BERT does: matrices N(0, 0.02), linear biases 0
/// (LayerNorm scales stay 1 and shifts 0, as built).
struct BertInit {
    in_linear: Vec<bool>,
}

impl ModuleMapper for BertInit {
    fn enter_module(&mut self, _name: &str, container_type: &str) {
        self.in_linear.push(container_type == "Struct:Linear");
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.in_linear.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let linear_bias = D == 1 && self.in_linear.last() == Some(&true);
        if D == 1 && !linear_bias {
            return param;
        }
        param.map(|t| {
            let (shape, device) = (t.shape(), t.device());
            let fresh = if linear_bias {
                Tensor::zeros(shape, &device)
            } else {
                Tensor::random(shape, Distribution::Normal(0.0, BERT_STD), &device)
            };
            if t.is_require_grad() {
                fresh.require_grad()
            } else {
                fresh
            }
        })
    }
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
    head_activation: Gelu,
    head_norm: LayerNorm,
    head_bias: Param<Tensor<1>>,
    hidden: usize,
    /// What the token embeddings are multiplied by on the way in ([`Init`]).
    token_scale: f64,
    /// The expected length of a freshly drawn token-embedding row ([`Init`]): what vectors
    /// from word2vec are scaled to.
    token_row_norm: f64,
}

impl MlmModel {
    /// A freshly initialised model on `device`.
    pub fn new(shape: &ModelShape, device: &Device) -> Self {
        let h = shape.hidden;
        let eps = shape.init.norm_epsilon();
        let norm = || LayerNormConfig::new(h).with_epsilon(eps).init(device);
        let model = MlmModel {
            // Init::Scaled: N(0, 1/hidden), scaled by sqrt(hidden) on the way in, so the first
            // loss is about ln(vocab) rather than the ~16 nats that burn's default N(0, 1)
            // embedding gives through the tied head.
            tokens: EmbeddingConfig::new(shape.vocab_size, h)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: 1.0 / (h as f64).sqrt(),
                })
                .init(device),
            positions: shape
                .learned_positions
                .then(|| EmbeddingConfig::new(shape.max_len, h).init(device)),
            embedding_norm: norm(),
            embedding_dropout: Dropout::new(shape.dropout),
            layers: (0..shape.layers)
                .map(|_| {
                    let (heads, ffn, dropout) = (shape.heads, shape.ffn, shape.dropout);
                    EncoderLayer::new(h, heads, ffn, dropout, shape.norm, eps, device)
                })
                .collect(),
            final_norm: (shape.norm == NormPlacement::Pre).then(norm),
            head_dense: LinearConfig::new(h, h).init(device),
            head_activation: Gelu::new(),
            head_norm: norm(),
            head_bias: Param::from_tensor(Tensor::zeros([shape.vocab_size], device)),
            hidden: h,
            token_scale: shape.init.token_scale(h),
            token_row_norm: shape.init.token_row_norm(h),
        };
        match shape.init {
            Init::Scaled => model,
            Init::Bert => model.map(&mut BertInit {
                in_linear: Vec::new(),
            }),
        }
    }

    /// Hidden states `[batch, seq, hidden]` for token ids `[batch, seq]`; `padding` is true at
    /// padding positions.
    pub fn encode(&self, ids: Tensor<2, Int>, padding: Option<Tensor<2, Bool>>) -> Tensor<3> {
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
        let mut x = self.embedding_dropout.forward(
            self.embedding_norm
                .forward(tokens + positions.expand([batch, seq, self.hidden])),
        );
        for layer in &self.layers {
            x = layer.forward(x, padding.clone());
        }
        match &self.final_norm {
            Some(norm) => norm.forward(x),
            None => x,
        }
    }

    /// Every parameter's values under its dotted path in the module tree (e.g.
    /// `layers.0.attention.query.weight`), in module order: what the weight histograms show.
    pub fn parameter_values(&self) -> Vec<(String, Vec<f32>)> {
        #[derive(Default)]
        struct Collect {
            path: Vec<String>,
            found: Vec<(String, Vec<f32>)>,
        }
        impl ModuleVisitor for Collect {
            fn enter_module(&mut self, name: &str, _container_type: &str) {
                self.path.push(name.to_string());
            }
            fn exit_module(&mut self, _name: &str, _container_type: &str) {
                self.path.pop();
            }
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let values = param
                    .val()
                    .into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .unwrap_or_default();
                self.found.push((self.path.join("."), values));
            }
        }
        let mut collect = Collect::default();
        self.visit(&mut collect);
        collect.found
    }

    /// Saves the weights (without autodiff state) as a burnpack file at `path`.
    pub fn save(&self, path: &std::path::Path) -> Result<(), String> {
        self.clone()
            .valid()
            .save_file(path)
            .map_err(|e| format!("{}: {e:?}", path.display()))
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

    /// A model of `shape` with the weights saved at `path` by [`save`](Self::save).
    pub fn load(
        shape: &ModelShape,
        path: &std::path::Path,
        device: &Device,
    ) -> Result<Self, String> {
        MlmModel::new(shape, device)
            .try_load_file(path)
            .map_err(|e| format!("{}: {e:?}", path.display()))
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
        let device = self
            .devices()
            .into_iter()
            .next()
            .unwrap_or_else(Device::flex);
        let input: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
        let tokens = Tensor::<1, Int>::from_ints(input.as_slice(), &device).reshape([1, ids.len()]);
        let at = Tensor::<1, Int>::from_ints(positions.as_slice(), &device);
        let probs =
            burn::tensor::activation::softmax(self.mlm_logits(self.encode(tokens, None), at), 1);
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
        let chosen = hidden.reshape([batch * seq, h]).select(0, at);
        let t = self.head_norm.forward(
            self.head_activation
                .forward(self.head_dense.forward(chosen)),
        );
        let [n, _] = t.dims();
        let vocab = self.head_bias.dims()[0];
        t.matmul(self.tokens.weight.val().transpose())
            + self.head_bias.val().reshape([1, vocab]).expand([n, vocab])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::optim::{AdamWConfig, GradientsParams};

    fn shape(norm: NormPlacement, learned_positions: bool) -> ModelShape {
        ModelShape {
            vocab_size: 20,
            max_len: 8,
            layers: 1,
            hidden: 16,
            heads: 2,
            ffn: 32,
            dropout: 0.0,
            norm,
            learned_positions,
            init: Init::Scaled,
        }
    }

    #[test]
    fn the_output_matrix_is_the_embedding_matrix() {
        // Tied weights: the model holds no separate vocab x hidden output matrix.
        let (v, h, f) = (20, 16, 32);
        let layer = 4 * (h * h + h) + 2 * 2 * h + (h * f + f) + (f * h + h);
        let expected = v * h + 2 * h + layer + (h * h + h) + 2 * h + v;
        let model = MlmModel::new(&shape(NormPlacement::Post, false), &Device::flex());
        assert_eq!(model.num_params(), expected);
    }

    #[test]
    fn parameter_values_name_every_parameter_by_its_path() {
        let model = MlmModel::new(&shape(NormPlacement::Post, true), &Device::flex());
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
        let bert = ModelShape {
            vocab_size: 300,
            hidden: 32,
            ffn: 64,
            init: Init::Bert,
            ..shape(NormPlacement::Pre, true)
        };
        let device = Device::flex().autodiff();
        let model = MlmModel::new(&bert, &device);
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
                assert!(
                    mean.abs() < 0.003 && (std - 0.02).abs() < 0.002,
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
        let scaled = MlmModel::new(&shape(NormPlacement::Pre, true), &device);
        assert_eq!(scaled.token_scale, 4.0);
    }

    #[test]
    fn a_saved_model_loads_back_with_identical_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let device = Device::flex();
        let s = shape(NormPlacement::Pre, true);
        let model = MlmModel::new(&s, &device);
        let path = dir.path().join("m.bpk");
        model.save(&path).unwrap();
        let loaded = MlmModel::load(&s, &path, &device).unwrap();
        let ids = [2, 7, 4, 9, 10, 4, 12, 3];
        assert_eq!(model.fill_mask(&ids, 4, 3), loaded.fill_mask(&ids, 4, 3));
        let top = model.fill_mask(&ids, 4, 20);
        assert_eq!(top.len(), 2);
        let total: f32 = top[0].iter().map(|t| t.1).sum();
        assert!((total - 1.0).abs() < 1e-4, "{total}");
        assert!(top[0].windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(MlmModel::load(&s, &dir.path().join("none.bpk"), &device).is_err());
    }

    #[test]
    fn token_vectors_replace_embedding_rows_at_unit_length() {
        let device = Device::flex();
        let model = MlmModel::new(&shape(NormPlacement::Post, false), &device)
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
        let bert = ModelShape {
            init: Init::Bert,
            ..shape(NormPlacement::Post, false)
        };
        let row: Vec<f32> = MlmModel::new(&bert, &device)
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
        let fresh = MlmModel::new(&shape(NormPlacement::Post, false), &device);
        assert_eq!(fresh.tokens.weight.dims(), [20, 16]);
        assert!(
            w[8 * 16..9 * 16]
                .iter()
                .any(|&x| (x - 1.0 / 4.0).abs() > 1e-3)
        );
    }

    #[test]
    fn a_tiny_model_overfits_a_tiny_batch() {
        for (norm, learned) in [(NormPlacement::Post, false), (NormPlacement::Pre, true)] {
            let device = Device::flex().autodiff();
            let mut model = MlmModel::new(&shape(norm, learned), &device);
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

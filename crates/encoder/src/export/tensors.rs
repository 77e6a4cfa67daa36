//! Our parameters under Hugging Face `BertForMaskedLM`'s names and layouts: what
//! `model.safetensors` holds.
//!
//! A post-LN model is BERT exactly, up to three conversions: a linear layer's weight is
//! transposed (burn stores `[in, out]`, PyTorch `[out, in]`); the token embeddings enter HF's
//! model already multiplied by our `token_scale` (√hidden with `init = "scaled"`), so the output
//! matrix, which uses them unscaled, is written separately and untied (with its own copy of the
//! output bias, which transformers ties only along with the matrix); and sinusoidal positions
//! become the position-embedding table. BERT's token-type embeddings, which we do not have, are
//! zero.

use crate::model::{MlmModel, NamedParameter, Positions, layer::sinusoidal_positions};

/// Rows of the position table exported for sinusoidal positions when `data.seq_len` is shorter:
/// BERT's length, so that HF, like `train fill-mask`, accepts texts longer than the training
/// sequences.
const SINUSOIDAL_ROWS: usize = 512;

/// Token types BERT's embeddings have (sentence A and B); ours are all zero.
const TOKEN_TYPES: usize = 2;

/// One tensor of the exported file.
#[derive(Debug, Clone, PartialEq)]
pub struct HfTensor {
    /// Its name in `BertForMaskedLM`'s state dict.
    pub name: String,
    /// Its dimensions, PyTorch's layout.
    pub dims: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f32>,
}

/// The exported tensors, and what HF's `config.json` must say for them to load.
#[derive(Debug, Clone, PartialEq)]
pub struct HfTensors {
    /// Every tensor: our parameters in module order, then the sinusoidal position table (if
    /// any) and the token-type table, which we do not have as parameters.
    pub tensors: Vec<HfTensor>,
    /// Rows of the position table (`max_position_embeddings`).
    pub positions: usize,
    /// Whether the output matrix is the input embedding matrix (`tie_word_embeddings`): only
    /// when the token scale is 1.
    pub tied: bool,
}

/// Our module paths (after `layers.N.`) and BERT's, for the modules inside a layer, and
/// whether each is a linear layer (whose weight is transposed) or a LayerNorm.
const LAYER_MODULES: [(&str, &str, Kind); 8] = [
    ("attention.query", "attention.self.query", Kind::Linear),
    ("attention.key", "attention.self.key", Kind::Linear),
    ("attention.value", "attention.self.value", Kind::Linear),
    ("attention.output", "attention.output.dense", Kind::Linear),
    ("attention_norm", "attention.output.LayerNorm", Kind::Norm),
    ("feed_forward.inner", "intermediate.dense", Kind::Linear),
    ("feed_forward.outer", "output.dense", Kind::Linear),
    ("feed_forward_norm", "output.LayerNorm", Kind::Norm),
];

/// The modules outside the layers, as [`LAYER_MODULES`].
const TOP_MODULES: [(&str, &str, Kind); 3] = [
    ("embedding_norm", "bert.embeddings.LayerNorm", Kind::Norm),
    (
        "head_dense",
        "cls.predictions.transform.dense",
        Kind::Linear,
    ),
    (
        "head_norm",
        "cls.predictions.transform.LayerNorm",
        Kind::Norm,
    ),
];

/// What a module is, which decides its parameters' names and layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Linear,
    Norm,
}

/// `model`'s parameters as `BertForMaskedLM`'s; an error names a parameter that has no BERT
/// counterpart (a model this mapping does not know). The caller refuses pre-LN models first.
pub fn hf_tensors(model: &MlmModel) -> Result<HfTensors, String> {
    let shape = model.shape();
    let hidden = shape.model.hidden;
    let scale = model.token_scale() as f32;
    let tied = scale == 1.0;
    let mut tensors = Vec::new();
    let mut positions = shape.max_len;
    for p in model.parameters() {
        match p.name.as_str() {
            "tokens.weight" => {
                let scaled = p.values.iter().map(|v| v * scale).collect();
                tensors.push(tensor(
                    "bert.embeddings.word_embeddings.weight",
                    &p.dims,
                    scaled,
                ));
                if !tied {
                    tensors.push(tensor("cls.predictions.decoder.weight", &p.dims, p.values));
                }
            }
            "positions.weight" => {
                positions = p.dims[0];
                tensors.push(tensor(
                    "bert.embeddings.position_embeddings.weight",
                    &p.dims,
                    p.values,
                ));
            }
            "head_bias" => {
                // transformers ties the decoder's bias to `cls.predictions.bias` only with the
                // weights; untied, the decoder's own bias is the one its forward adds.
                if !tied {
                    tensors.push(tensor(
                        "cls.predictions.decoder.bias",
                        &p.dims,
                        p.values.clone(),
                    ));
                }
                tensors.push(tensor("cls.predictions.bias", &p.dims, p.values));
            }
            _ => tensors.push(module_parameter(p)?),
        }
    }
    if shape.model.positions == Positions::Sinusoidal {
        positions = shape.max_len.max(SINUSOIDAL_ROWS);
        let table = sinusoidal_positions(positions, hidden);
        tensors.push(tensor(
            "bert.embeddings.position_embeddings.weight",
            &[positions, hidden],
            table,
        ));
    }
    tensors.push(tensor(
        "bert.embeddings.token_type_embeddings.weight",
        &[TOKEN_TYPES, hidden],
        vec![0.0; TOKEN_TYPES * hidden],
    ));
    Ok(HfTensors {
        tensors,
        positions,
        tied,
    })
}

/// A parameter of a linear layer or LayerNorm, renamed (and transposed when it is a linear
/// layer's weight).
fn module_parameter(p: NamedParameter) -> Result<HfTensor, String> {
    let unknown = || format!("the parameter {} has no counterpart in BERT", p.name);
    let (module, leaf) = p.name.rsplit_once('.').ok_or_else(unknown)?;
    let (hf_module, kind) = hf_module(module).ok_or_else(unknown)?;
    let hf_leaf = match (kind, leaf) {
        (Kind::Linear, "weight" | "bias") => leaf,
        (Kind::Norm, "gamma") => "weight",
        (Kind::Norm, "beta") => "bias",
        _ => return Err(unknown()),
    };
    let name = format!("{hf_module}.{hf_leaf}");
    Ok(match (kind, leaf, p.dims.as_slice()) {
        (Kind::Linear, "weight", &[rows, cols]) => {
            tensor(&name, &[cols, rows], transpose(&p.values, rows, cols))
        }
        _ => tensor(&name, &p.dims, p.values),
    })
}

/// BERT's path for the module at our `path`, and its kind.
fn hf_module(path: &str) -> Option<(String, Kind)> {
    if let Some(&(_, hf, kind)) = TOP_MODULES.iter().find(|(ours, ..)| *ours == path) {
        return Some((hf.to_string(), kind));
    }
    let (index, inner) = path.strip_prefix("layers.")?.split_once('.')?;
    let index: usize = index.parse().ok()?;
    let &(_, hf, kind) = LAYER_MODULES.iter().find(|(ours, ..)| *ours == inner)?;
    Some((format!("bert.encoder.layer.{index}.{hf}"), kind))
}

fn tensor(name: &str, dims: &[usize], values: Vec<f32>) -> HfTensor {
    HfTensor {
        name: name.to_string(),
        dims: dims.to_vec(),
        values,
    }
}

/// The `[cols, rows]` transpose of a row-major `[rows, cols]` matrix.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for (r, row) in values.chunks_exact(cols.max(1)).enumerate().take(rows) {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Init, NormPlacement};
    use crate::test_support::tiny_shape;
    use burn::prelude::Device;
    use std::collections::HashMap;

    fn by_name(t: &HfTensors) -> HashMap<&str, &HfTensor> {
        t.tensors.iter().map(|t| (t.name.as_str(), t)).collect()
    }

    #[test]
    fn every_parameter_lands_once_under_berts_name_and_layout() {
        let mut shape = tiny_shape(20, 8, 16);
        shape.model.norm = NormPlacement::Post;
        shape.model.positions = Positions::Learned;
        shape.model.layers = 2;
        let model = shape.init(&Device::flex());
        let out = hf_tensors(&model).unwrap();
        let names = by_name(&out);
        assert_eq!(names.len(), out.tensors.len(), "no name twice");
        // 5 embedding tensors, 16 a layer, 4 in the head's transform, its bias, and the
        // untied decoder's weight and bias (init "scaled": token scale 4).
        assert_eq!(out.tensors.len(), 5 + 2 * 16 + 4 + 1 + 2);
        assert!(!out.tied);
        let ours: HashMap<String, NamedParameter> = model
            .parameters()
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect();
        // A linear weight is transposed: ours[i][o] is HF's [o][i].
        let q = &ours["layers.1.attention.query.weight"];
        let hf = names["bert.encoder.layer.1.attention.self.query.weight"];
        let (i, o) = (q.dims[0], q.dims[1]);
        assert_eq!(hf.dims, vec![o, i]);
        for (r, c) in [(0, 0), (3, 5), (i - 1, o - 1)] {
            assert_eq!(q.values[r * o + c], hf.values[c * i + r]);
        }
        let ffn = names["bert.encoder.layer.0.intermediate.dense.weight"];
        assert_eq!(ffn.dims, vec![shape.model.ffn, 16]);
        let gamma = &ours["layers.0.feed_forward_norm.gamma"];
        assert_eq!(
            names["bert.encoder.layer.0.output.LayerNorm.weight"].values,
            gamma.values
        );
        // The token scale goes into the input embeddings; the decoder keeps them unscaled.
        let tokens = &ours["tokens.weight"];
        let input = names["bert.embeddings.word_embeddings.weight"];
        let decoder = names["cls.predictions.decoder.weight"];
        assert_eq!(decoder.values, tokens.values);
        assert_eq!(input.values[7], tokens.values[7] * 4.0);
        assert_eq!(
            names["bert.embeddings.position_embeddings.weight"].dims,
            [8, 16]
        );
        assert_eq!(out.positions, 8);
        let types = names["bert.embeddings.token_type_embeddings.weight"];
        assert!(types.values.iter().all(|&v| v == 0.0));
        assert_eq!(names["cls.predictions.bias"].dims, [20]);
        assert_eq!(
            names["cls.predictions.decoder.bias"].values,
            ours["head_bias"].values
        );
    }

    #[test]
    fn sinusoidal_positions_become_a_table_and_bert_init_ties_the_decoder() {
        let mut shape = tiny_shape(20, 8, 16);
        shape.model.norm = NormPlacement::Post;
        shape.model.positions = Positions::Sinusoidal;
        shape.model.init = Init::Bert;
        let out = hf_tensors(&shape.init(&Device::flex())).unwrap();
        let names = by_name(&out);
        assert!(
            out.tied,
            "token scale 1: the decoder is the embedding matrix"
        );
        assert!(!names.contains_key("cls.predictions.decoder.weight"));
        assert!(!names.contains_key("cls.predictions.decoder.bias"));
        let table = names["bert.embeddings.position_embeddings.weight"];
        assert_eq!(table.dims, [512, 16]);
        assert_eq!(out.positions, 512);
        assert_eq!(table.values, sinusoidal_positions(512, 16));
    }

    #[test]
    fn an_unknown_parameter_is_an_error_naming_it() {
        let p = NamedParameter {
            name: "layers.0.gate.weight".into(),
            dims: vec![2, 2],
            values: vec![0.0; 4],
        };
        let e = module_parameter(p).unwrap_err();
        assert!(e.contains("layers.0.gate.weight"), "{e}");
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        assert_eq!(
            transpose(&[1., 2., 3., 4., 5., 6.], 2, 3),
            [1., 4., 2., 5., 3., 6.]
        );
    }

    #[test]
    fn sinusoidal_tables_are_as_long_as_the_training_sequences_when_longer_than_512() {
        let shape = tiny_shape(20, 600, 16);
        let out = hf_tensors(&shape.init(&Device::flex())).unwrap();
        assert_eq!(out.positions, 600);
        let table = by_name(&out)["bert.embeddings.position_embeddings.weight"];
        assert_eq!(table.dims, [600, 16]);
    }
}

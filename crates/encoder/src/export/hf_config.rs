//! The JSON files beside the weights that transformers reads: the model's `config.json` and
//! the tokenizer's `tokenizer_config.json` and `special_tokens_map.json`.

use serde_json::{Map, Value, json};

use super::tensors::HfTensors;
use crate::data::tokenizer::{SPECIAL_TOKENS, SpecialIds};
use crate::model::ModelShape;

/// The token-type embeddings' rows, as BERT's ([`super::tensors`] writes them as zeros).
const TYPE_VOCAB_SIZE: usize = 2;

/// `config.json` of a `BertForMaskedLM` with `shape`'s sizes; `tensors` says how many
/// positions were exported and whether the output matrix is tied to the input embeddings.
/// The dropouts are ours, for fine-tuning; the LayerNorm epsilon is our init's.
pub fn model_config(shape: &ModelShape, tensors: &HfTensors, special: &SpecialIds) -> Value {
    let m = &shape.model;
    json!({
        "architectures": ["BertForMaskedLM"],
        "model_type": "bert",
        "vocab_size": shape.vocab_size,
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": m.dropout,
        "attention_probs_dropout_prob": m.dropout,
        "max_position_embeddings": tensors.positions,
        "type_vocab_size": TYPE_VOCAB_SIZE,
        "initializer_range": 0.02,
        "layer_norm_eps": m.init.norm_epsilon(),
        "pad_token_id": special.pad,
        "position_embedding_type": "absolute",
        "tie_word_embeddings": tensors.tied,
        "torch_dtype": "float32",
    })
}

/// The special tokens under the names transformers gives them, in [`SPECIAL_TOKENS`]' order.
fn special_tokens() -> Map<String, Value> {
    let names = [
        "pad_token",
        "unk_token",
        "cls_token",
        "sep_token",
        "mask_token",
    ];
    names
        .iter()
        .zip(SPECIAL_TOKENS)
        .map(|(name, token)| (name.to_string(), json!(token)))
        .collect()
}

/// `tokenizer_config.json`: the generic fast tokenizer over `tokenizer.json` (which holds the
/// normalizer, pre-tokenizer and the `[CLS] … [SEP]` template, so WordPiece and BPE load
/// alike), its special tokens, and the longest input the exported positions allow.
pub fn tokenizer_config(tensors: &HfTensors) -> Value {
    let mut config = special_tokens();
    config.insert("tokenizer_class".into(), json!("PreTrainedTokenizerFast"));
    config.insert("model_max_length".into(), json!(tensors.positions));
    config.insert(
        "model_input_names".into(),
        json!(["input_ids", "token_type_ids", "attention_mask"]),
    );
    Value::Object(config)
}

/// `special_tokens_map.json`.
pub fn special_tokens_map() -> Value {
    Value::Object(special_tokens())
}

//! Comparing two configs key by key: what a resumed run checks before it continues a run
//! folder with a config that may differ from the one the run started with.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// The dotted keys whose values differ between `old` and `new`, other than those in
/// `allowed`, each as `key (old -> new)` (`absent` for a key only one of them has).
pub fn changed_keys<T: Serialize>(old: &T, new: &T, allowed: &[&str]) -> Vec<String> {
    let (old, new) = (flatten(old), flatten(new));
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let show = |v: Option<&String>| v.map_or_else(|| "absent".to_string(), Clone::clone);
    keys.into_iter()
        .filter(|k| !allowed.contains(&k.as_str()) && old.get(*k) != new.get(*k))
        .map(|k| format!("{k} ({} -> {})", show(old.get(k)), show(new.get(k))))
        .collect()
}

/// A config as `dotted.key -> value` pairs.
fn flatten<T: Serialize>(cfg: &T) -> BTreeMap<String, String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            v => {
                out.insert(prefix.to_string(), v.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    // Serialising plain data to a JSON value cannot fail (no maps with non-string keys).
    if let Ok(value) = serde_json::to_value(cfg) {
        walk("", &value, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Inner {
        a: u32,
        b: Option<String>,
    }

    #[derive(Serialize)]
    struct Cfg {
        x: Inner,
        y: f64,
    }

    #[test]
    fn differences_are_listed_by_dotted_key_except_the_allowed_ones() {
        let old = Cfg {
            x: Inner { a: 1, b: None },
            y: 0.5,
        };
        let new = Cfg {
            x: Inner {
                a: 2,
                b: Some("s".into()),
            },
            y: 0.25,
        };
        assert_eq!(
            changed_keys(&old, &new, &["y"]),
            ["x.a (1 -> 2)", "x.b (null -> \"s\")"]
        );
        assert!(changed_keys(&old, &old, &[]).is_empty());
    }
}

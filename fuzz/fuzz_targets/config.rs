//! The config parser: any text, with any `--set` overrides (the lines after a `---` line), gives
//! a validated Word2Vec config or a one-line error, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use train::config::{Word2VecConfig, parse};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (config, sets) = text.split_once("\n---\n").unwrap_or((&text, ""));
    let sets: Vec<String> = sets.lines().map(str::to_string).collect();
    let parsed = parse::<Word2VecConfig>(config, Path::new("fuzz.toml"), &sets)
        .and_then(|mut cfg| cfg.validate().map(|()| cfg));
    if let Err(e) = parsed {
        let message = format!("{e:#}");
        assert!(!message.contains('\n'), "a multi-line error: {message}");
    }
});

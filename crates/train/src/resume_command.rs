//! The command that continues a stopped run: the process's own command line with
//! `--out DIR --resume`, quoted for a POSIX shell, printed when a signal stops a run.

use std::path::Path;

/// The command that continues a run in `out`: this process's own command line with `--out
/// out --resume` (replacing any `--out` and `--resume` it had), quoted for a POSIX shell.
pub fn resume_command(out: &Path) -> String {
    let mut words: Vec<String> = vec!["train".into()];
    // Arguments that are not UTF-8 (a path) are shown with U+FFFD: the command is for a person.
    let mut args = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--resume" => {}
            "--out" => {
                args.next();
            }
            _ if arg.starts_with("--out=") => {}
            _ => words.push(arg),
        }
    }
    words.extend(["--out".into(), out.display().to_string(), "--resume".into()]);
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// `word` as one POSIX shell word.
fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_they_need_it() {
        assert_eq!(quote("configs/encoder.toml"), "configs/encoder.toml");
        assert_eq!(quote("train.steps=5"), "train.steps=5");
        assert_eq!(quote("train.device=\"wgpu\""), "'train.device=\"wgpu\"'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}

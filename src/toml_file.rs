//! One TOML reader for every file a user edits (configuration, model,
//! benchmarks, probes catalogue, theme strings, front matter): a parse error
//! keeps the line it happened on, so every message can name it.

use serde::de::DeserializeOwned;

/// A TOML file that did not parse into the expected shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlError {
    /// 1-based line in the text parsed, when the parser knows it.
    pub line: Option<usize>,
    /// What was wrong or expected, on one line.
    pub message: String,
}

impl TomlError {
    /// `name:line: message` (or `name: message`) as an error for the user.
    pub fn located(&self, name: &str) -> anyhow::Error {
        match self.line {
            Some(l) => anyhow::anyhow!("{name}:{l}: {}", self.message),
            None => anyhow::anyhow!("{name}: {}", self.message),
        }
    }
}

/// Parses `text` as a `T`.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, TomlError> {
    toml::from_str(text).map_err(|e| TomlError {
        line: e
            .span()
            .map(|s| crate::diagnostics::line_of_offset(text, s.start)),
        message: e.message().trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Shape {
        title: String,
    }

    #[test]
    fn errors_keep_their_line() {
        let e = parse::<Shape>("\n\ntitel = \"x\"\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(
            e.message.starts_with("unknown field `titel`"),
            "{}",
            e.message
        );
        assert_eq!(
            e.located("opsmeter.toml").to_string(),
            format!("opsmeter.toml:3: {}", e.message)
        );
        assert_eq!(parse::<Shape>("title = \"x\"").unwrap().title, "x");
    }
}

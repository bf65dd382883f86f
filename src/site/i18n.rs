//! Theme strings per language (`i18n/<lang>.toml`), layered like templates:
//! the embedded default theme, the theme folder, then the site's own
//! `i18n/`. A key missing in a language falls back to the default language,
//! then to English.

use std::collections::BTreeMap;
use std::path::Path;

use super::templates::theme_dir;
use crate::config::Config;
use crate::diagnostics::Diagnostic;
use crate::message::Message;

const EMBEDDED: &[(&str, &str)] = &[
    ("en", include_str!("../../themes/default/i18n/en.toml")),
    ("zh", include_str!("../../themes/default/i18n/zh.toml")),
];

/// Strings for each configured language.
pub type Strings = BTreeMap<String, BTreeMap<String, String>>;

fn parse(text: &str, file: &Path) -> Result<BTreeMap<String, String>, Diagnostic> {
    toml::from_str::<BTreeMap<String, String>>(text).map_err(|e| {
        Diagnostic::new(
            file,
            e.span()
                .map(|s| crate::diagnostics::line_of_offset(text, s.start)),
            format!(
                "invalid theme strings (expected `key = \"text\"` lines): {}",
                e.message().trim()
            ),
        )
    })
}

pub fn load(root: &Path, config: &Config) -> Result<Strings, Vec<Diagnostic>> {
    let mut layers: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (lang, text) in EMBEDDED {
        match parse(
            text,
            Path::new(&format!("<embedded default theme>/i18n/{lang}.toml")),
        ) {
            Ok(map) => {
                layers.insert(lang.to_string(), map);
            }
            Err(d) => problems.push(d),
        }
    }
    let dirs = [
        theme_dir(root, config).map(|t| t.join("i18n")),
        Some(root.join("i18n")),
    ];
    for dir in dirs.into_iter().flatten() {
        for lang in &config.languages {
            let path = dir.join(format!("{lang}.toml"));
            if !path.is_file() {
                continue;
            }
            let shown = crate::diagnostics::display_path(root, &path);
            match crate::diagnostics::read_text(&path, &shown) {
                Ok(text) => match parse(&text, &shown) {
                    Ok(map) => {
                        problems.extend(check_messages(&map, &text, &shown));
                        layers.entry(lang.clone()).or_default().extend(map);
                    }
                    Err(d) => problems.push(d),
                },
                Err(d) => problems.push(d),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let english = layers.get("en").cloned().unwrap_or_default();
    let default = layers
        .get(&config.default_language)
        .cloned()
        .unwrap_or_default();
    let mut out = Strings::new();
    for lang in &config.languages {
        let mut merged = english.clone();
        merged.extend(default.clone());
        if let Some(own) = layers.get(lang) {
            merged.extend(own.clone());
        }
        out.insert(lang.clone(), merged);
    }
    Ok(out)
}

/// A theme's or site's rewording of the assessment's sentences (`msg_…`)
/// must name the same placeholders as the built-in sentence: one left out
/// would drop its data from every report, an unknown one would show as
/// `{name}`. A `msg_` key the catalogue does not have is a typo.
fn check_messages(map: &BTreeMap<String, String>, text: &str, file: &Path) -> Vec<Diagnostic> {
    let english = crate::message::english();
    let line_of = |key: &str| {
        text.lines()
            .position(|l| {
                l.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map(|i| i + 1)
    };
    let mut problems = Vec::new();
    for (key, own) in map
        .iter()
        .filter(|(k, _)| k.starts_with(crate::message::PREFIX))
    {
        let Some(builtin) = english.get(key) else {
            problems.push(Diagnostic::new(
                file,
                line_of(key),
                format!(
                    "`{key}` is not a sentence of the assessment (no built-in string has this key)"
                ),
            ));
            continue;
        };
        let want = crate::message::placeholders(builtin);
        let got = crate::message::placeholders(own);
        if want != got {
            let names = |v: &[String]| {
                if v.is_empty() {
                    "none".to_string()
                } else {
                    v.iter()
                        .map(|n| format!("{{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            problems.push(Diagnostic::new(
                file,
                line_of(key),
                format!(
                    "`{key}` names the placeholders {}, expected those of the built-in sentence: {}",
                    names(&got),
                    names(&want)
                ),
            ));
        }
    }
    problems
}

/// One language's theme strings, for text made in code (charts, dashboard
/// values): `get` a string by key, `fill` its `{placeholders}`.
#[derive(Clone, Copy)]
pub struct Words<'a> {
    strings: &'a BTreeMap<String, String>,
}

impl<'a> Words<'a> {
    pub fn new(strings: &'a BTreeMap<String, String>) -> Words<'a> {
        Words { strings }
    }

    /// The string of `key`; the key itself when no layer has it (every key
    /// used in code is in the embedded English file, tested).
    pub fn get(&self, key: &'a str) -> &'a str {
        self.strings.get(key).map(String::as_str).unwrap_or(key)
    }

    /// The string of `key` with each `{name}` replaced by its value (in one
    /// pass: a value's own braces stay as they are).
    pub fn fill(&self, key: &'a str, values: &[(&str, &str)]) -> String {
        crate::message::fill(self.get(key), values)
    }

    /// A sentence of the assessment ([`Message`]) in this language.
    pub fn message(&self, m: &Message) -> String {
        let strings = self.strings;
        m.render(&|key| strings.get(key).map(String::as_str))
    }

    /// The same in parts, `true` on another program's English words
    /// ([`Message::render_parts`]).
    pub fn message_parts(&self, m: &Message) -> Vec<(String, bool)> {
        let strings = self.strings;
        m.render_parts(&|key| strings.get(key).map(String::as_str))
    }
}

/// The embedded English strings, for tests that every key used exists.
#[cfg(test)]
pub(crate) fn embedded(lang: &str) -> BTreeMap<String, String> {
    EMBEDDED
        .iter()
        .find(|(l, _)| *l == lang)
        .and_then(|(_, text)| toml::from_str(text).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_chinese_have_the_same_keys() {
        let en: Vec<String> = embedded("en").into_keys().collect();
        let zh: Vec<String> = embedded("zh").into_keys().collect();
        assert!(!en.is_empty());
        assert_eq!(en, zh);
    }

    #[test]
    fn every_key_used_in_code_is_in_both_languages() {
        let en = embedded("en");
        let zh = embedded("zh");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/site");
        let re = regex::Regex::new(r#"\.(?:get|fill)\(\s*"([a-z0-9_]+)""#).unwrap();
        let mut seen = 0;
        for file in ["dashboards.rs", "build.rs", "output.rs"] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            for c in re.captures_iter(&text) {
                let key = &c[1];
                assert!(
                    en.contains_key(key),
                    "{file}: `{key}` is not in i18n/en.toml"
                );
                assert!(
                    zh.contains_key(key),
                    "{file}: `{key}` is not in i18n/zh.toml"
                );
                seen += 1;
            }
        }
        assert!(seen > 20, "found only {seen} keys");
    }
}

//! Theme strings per language (`i18n/<lang>.toml`), layered like templates:
//! the embedded default theme, the theme folder, then the site's own
//! `i18n/`. A key missing in a language falls back to the default language,
//! then to English.

use std::collections::BTreeMap;
use std::path::Path;

use super::templates::theme_dir;
use crate::config::Config;
use crate::diagnostics::Diagnostic;

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
                    Ok(map) => layers.entry(lang.clone()).or_default().extend(map),
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

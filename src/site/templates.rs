//! tera templates, layered: the embedded default theme, then the theme folder
//! on disk (`themes/<theme>/templates/`), then the site's own `templates/`.
//! Each later layer replaces single files of the one before.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tera::Tera;
use walkdir::WalkDir;

use super::theme;
use crate::config::Config;
use crate::diagnostics::{display_path, Diagnostic};

/// Loaded templates, with where each came from for error messages.
pub struct Templates {
    pub tera: Tera,
    /// Template name → file it was read from (`templates/page.html`, `<embedded>/page.html`).
    pub sources: BTreeMap<String, PathBuf>,
}

/// The theme folder on disk, if the configured theme has one.
pub fn theme_dir(root: &Path, config: &Config) -> Option<PathBuf> {
    let dir = root.join("themes").join(&config.theme);
    dir.is_dir().then_some(dir)
}

pub fn load(root: &Path, config: &Config) -> Result<Templates, Vec<Diagnostic>> {
    let mut files: BTreeMap<String, (PathBuf, String)> = BTreeMap::new();
    for (name, text) in theme::TEMPLATES {
        files.insert(
            name.to_string(),
            (
                PathBuf::from(format!("<embedded default theme>/templates/{name}")),
                text.to_string(),
            ),
        );
    }
    let mut problems = Vec::new();
    let theme = theme_dir(root, config);
    if theme.is_none() && config.theme != "default" {
        return Err(vec![Diagnostic::new(
            crate::config::CONFIG_FILE,
            None,
            format!(
                "theme `{}` not found: expected a folder themes/{}/",
                config.theme, config.theme
            ),
        )]);
    }
    let layers = [
        theme.map(|t| t.join("templates")),
        Some(root.join("templates")),
    ];
    for dir in layers.into_iter().flatten() {
        if !dir.is_dir() {
            continue;
        }
        for item in WalkDir::new(&dir).sort_by_file_name() {
            let Ok(item) = item else { continue };
            if !item.file_type().is_file() {
                continue;
            }
            let rel = item.path().strip_prefix(&dir).unwrap_or(item.path());
            let name = rel.to_string_lossy().replace('\\', "/");
            if name.starts_with('.') || name.contains("/.") {
                continue;
            }
            let shown = display_path(root, item.path());
            match std::fs::read_to_string(item.path()) {
                Ok(text) => {
                    files.insert(name, (shown, text));
                }
                Err(e) => problems.push(Diagnostic::new(shown, None, format!("cannot read: {e}"))),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".htm", ".xml", ".svg"]);
    // Escape what HTML needs, and leave `/` alone so URLs stay readable.
    tera.set_escape_fn(super::highlight::escape_html);
    super::filters::register(&mut tera);
    let sources: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|(n, (p, _))| (n.clone(), p.clone()))
        .collect();
    let list: Vec<(String, String)> = files.into_iter().map(|(n, (_, t))| (n, t)).collect();
    if let Err(e) = tera.add_raw_templates(list.clone()) {
        return Err(vec![template_error(&e, &sources, &list)]);
    }
    Ok(Templates { tera, sources })
}

/// A tera error turned into a diagnostic naming the template file and, for
/// syntax errors, the line.
pub fn template_error(
    e: &tera::Error,
    sources: &BTreeMap<String, PathBuf>,
    _list: &[(String, String)],
) -> Diagnostic {
    let mut chain = vec![e.to_string()];
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = cur {
        chain.push(s.to_string());
        cur = s.source();
    }
    let full = chain.join("\n");
    // "Failed to parse 'page.html'", "Failed to render 'page.html'", or an inheritance error naming a template.
    let name = chain
        .iter()
        .find_map(|m| {
            quoted_after(m, "Failed to parse '").or_else(|| quoted_after(m, "Failed to render '"))
        })
        .or_else(|| {
            sources
                .keys()
                .find(|n| full.contains(&format!("'{n}'")))
                .cloned()
        });
    let line = full
        .split("--> ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.trim().parse::<usize>().ok());
    let file = name
        .as_ref()
        .and_then(|n| sources.get(n).cloned())
        .unwrap_or_else(|| PathBuf::from("templates"));
    let detail: Vec<&str> = chain
        .iter()
        .skip(1)
        .map(|s| s.as_str())
        .filter(|s| !s.trim().is_empty())
        .collect();
    let message = if detail.is_empty() {
        chain[0].clone()
    } else {
        format!(
            "{}: {}",
            chain[0],
            detail
                .join(": ")
                .replace('\n', " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    Diagnostic::new(file, line, message)
}

fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)? + prefix.len();
    let end = text[start..].find('\'')? + start;
    Some(text[start..end].to_string())
}

//! `opsmeter check`: every internal link, anchor and image of a loaded site,
//! verified against what the build would produce.

use std::collections::HashSet;

use super::build::Site;
use super::markdown::LocalAsset;
use crate::diagnostics::Diagnostic;

/// Problems with links and images in rendered Markdown: missing anchors
/// (`@/page.md#x`, `#x`) and missing local images. Broken `@/` page links are
/// reported by [`Site::render_markdown`] already.
pub fn check(site: &Site) -> Vec<Diagnostic> {
    let statics: HashSet<String> = site
        .static_files()
        .into_iter()
        .map(|(p, _)| p)
        .chain(
            [super::urls::HIGHLIGHT_CSS, super::urls::CHARTS_CSS]
                .map(|p| p.trim_start_matches('/').to_string()),
        )
        .collect();
    let tree = &site.content;
    // Sets, so a page with many links to many headings is checked in linear time.
    let anchors: Vec<HashSet<&str>> = tree
        .entries
        .iter()
        .map(|e| e.rendered.anchors.iter().map(String::as_str).collect())
        .collect();
    let mut problems = Vec::new();
    for e in &tree.entries {
        for link in &e.rendered.links {
            let Some(anchor) = &link.anchor else { continue };
            if anchor.is_empty() {
                continue;
            }
            let target = match &link.target {
                Some(path) => match tree.lookup(path, &e.lang, &site.config.default_language) {
                    Some(t) => t,
                    None => continue, // reported as a broken link
                },
                None => tree.by_key[&(e.key.clone(), e.lang.clone())],
            };
            let t = &tree.entries[target];
            if !anchors[target].contains(anchor.as_str()) {
                let what = match &link.target {
                    Some(p) => format!("@/{p}#{anchor}"),
                    None => format!("#{anchor}"),
                };
                problems.push(Diagnostic::new(
                    &e.file,
                    Some(link.line),
                    format!(
                        "link to {what}: no heading with id `{anchor}` in {}",
                        t.file.display()
                    ),
                ));
            }
        }
        for img in &e.rendered.images {
            let missing = match &img.local {
                None => false,
                Some(LocalAsset::Content(p)) => !site.root.join("content").join(p).is_file(),
                Some(LocalAsset::Static(p)) => !statics.contains(p),
            };
            if missing {
                let expected = match &img.local {
                    Some(LocalAsset::Content(p)) => format!("content/{p}"),
                    Some(LocalAsset::Static(p)) => format!("static/{p}"),
                    None => String::new(),
                };
                problems.push(Diagnostic::new(
                    &e.file,
                    Some(img.line),
                    format!("image {}: file not found (expected {expected})", img.src),
                ));
            }
        }
    }
    problems.sort();
    problems
}

/// Pages of the default language without a translation into every other
/// language, unless the page declares it (`untranslated = true`, or a list of
/// languages, under `[extra]`).
pub fn check_translations(site: &Site) -> Vec<Diagnostic> {
    let config = &site.config;
    if config.languages.len() < 2 {
        return Vec::new();
    }
    let tree = &site.content;
    let mut problems = Vec::new();
    for e in tree
        .entries
        .iter()
        // The built-in handbook is translated where it is; a site adds no file for it.
        .filter(|e| e.lang == config.default_language && !e.implicit && !e.built_in)
    {
        let declared = e.meta.extra.get("untranslated");
        for lang in config.other_languages() {
            if tree.by_key.contains_key(&(e.key.clone(), lang.to_string())) {
                continue;
            }
            let excused = match declared {
                Some(toml::Value::Boolean(b)) => *b,
                Some(toml::Value::Array(list)) => list.iter().any(|v| v.as_str() == Some(lang)),
                _ => false,
            };
            if !excused {
                let stem = e.key.trim_end_matches(".md");
                problems.push(Diagnostic::new(
                    &e.file,
                    None,
                    format!(
                        "no `{lang}` translation (add content/{stem}.{lang}.md, or declare `untranslated = true` under [extra])"
                    ),
                ));
            }
        }
    }
    problems
}

/// In a site with the handbook (the built-in one, or chapters of its own),
/// every practice of the model names an existing chapter, and so does the
/// reports' "how this was measured" link: the dashboards link them in every
/// language, falling back to the default language's chapter.
pub fn check_practice_chapters(site: &Site) -> Vec<Diagnostic> {
    let tree = &site.content;
    let lang = &site.config.default_language;
    let chapter_exists = |chapter: &str| {
        tree.by_key
            .contains_key(&(format!("guide/{chapter}.md"), lang.clone()))
    };
    let has_handbook = site
        .model
        .areas
        .iter()
        .flat_map(|a| &a.practices)
        .any(|p| chapter_exists(&p.chapter));
    if !has_handbook {
        return Vec::new();
    }
    let model_file = if site.root.join("data/model.toml").is_file() {
        "data/model.toml"
    } else {
        "built-in data/model.toml"
    };
    let mut problems = Vec::new();
    for area in &site.model.areas {
        for p in &area.practices {
            if !chapter_exists(&p.chapter) {
                problems.push(Diagnostic::new(
                    model_file,
                    None,
                    format!(
                        "practice `{}` names chapter `{}`, but content/guide/{}.md does not exist \
                         (in the site or the built-in handbook)",
                        p.id, p.chapter, p.chapter
                    ),
                ));
            }
        }
    }
    let measured = super::dashboards::MEASUREMENT_CHAPTER;
    if !chapter_exists(measured) {
        problems.push(Diagnostic::new(
            crate::config::CONFIG_FILE,
            None,
            format!(
                "the reports' \"how this was measured\" links to chapter `{measured}`, but \
                 content/guide/{measured}.md does not exist (add it, or keep the built-in handbook)"
            ),
        ));
    }
    problems
}

/// Links written as site paths (`[x](/guide/testing/)`) that lead to no page
/// or file of the site. Paths the dashboards generate (`/repos/`, `/teams/`,
/// `/api/`, `/badges/`) and the generated files are taken on trust, since
/// `check` does not assess repositories.
pub fn check_path_links(site: &Site) -> Vec<Diagnostic> {
    let routes = super::urls::Routes::new(&site.config);
    let base = site.config.base_path();
    let pages: HashSet<&str> = site
        .content
        .entries
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    let statics: HashSet<String> = site.static_files().into_iter().map(|(p, _)| p).collect();
    let aliases: HashSet<String> = site
        .content
        .entries
        .iter()
        .flat_map(|e| {
            e.meta
                .aliases
                .iter()
                .filter_map(|a| super::content::alias_output(a))
        })
        .collect();
    let mut problems = Vec::new();
    for e in &site.content.entries {
        for (line, link) in &e.rendered.path_links {
            let path = link.split(['#', '?']).next().unwrap_or(link);
            let Some(path) = path
                .strip_prefix(base.as_str())
                .filter(|p| p.starts_with('/'))
            else {
                problems.push(Diagnostic::new(
                    &e.file,
                    Some(*line),
                    format!("link to {link}: outside the site's base path {base}/"),
                ));
                continue;
            };
            let rel = path.trim_start_matches('/');
            let as_dir = if path.ends_with('/') {
                path.to_string()
            } else {
                format!("{path}/")
            };
            let found = pages.contains(path)
                || pages.contains(as_dir.as_str())
                || statics.contains(rel)
                || aliases.contains(rel)
                || aliases.contains(&format!("{}index.html", as_dir.trim_start_matches('/')))
                || routes.is_generated(path, &site.config.languages);
            if !found {
                problems.push(Diagnostic::new(
                    &e.file,
                    Some(*line),
                    format!("link to {link}: no page or file at this path (write @/path/to/page.md to link a page)"),
                ));
            }
        }
    }
    problems
}

/// Built-in model and probe texts the site shows that lack a translation into
/// a configured language the built-in overlays cover (`data/model.zh.toml`,
/// `data/probes.zh.toml`).
pub fn check_model_texts(site: &Site) -> Vec<Diagnostic> {
    site.model_texts.missing_built_in(&site.model)
}

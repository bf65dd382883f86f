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
        .chain(std::iter::once("highlight.css".to_string()))
        .collect();
    let tree = &site.content;
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
            if !t.rendered.anchors.iter().any(|a| a == anchor) {
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

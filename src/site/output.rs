//! The files of a built site beside its pages: static files of the theme
//! layers and the content tree, `sitemap.xml`, redirect pages for aliases, JSON
//! safe to embed; and writing everything into a staging folder that is swapped
//! into place only when the whole build succeeded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result};
use rayon::prelude::*;
use tracing::debug;
use walkdir::WalkDir;

use super::build::{OutputFile, Site};
use super::highlight::escape_html;
use super::outputs::Owner;
use super::templates;
use super::theme;
use crate::fsutil::StagingDir;

/// Where a static file's bytes come from.
pub enum StaticSource {
    Embedded(&'static [u8]),
    File(PathBuf),
}

impl Site {
    /// Static files: the theme layers (embedded theme, theme folder, site
    /// `static/`, each later one replacing single files of the one before), then
    /// the content tree's own assets. Returns (output path, source) pairs.
    pub fn static_files(&self) -> Vec<(String, StaticSource)> {
        self.static_sources()
            .into_iter()
            .map(|(p, s, _)| (p, s))
            .collect()
    }

    /// [`Site::static_files`] with the owner of each, for the one-owner check.
    /// An asset may clash with a static file; the theme layers do not clash.
    pub(super) fn static_sources(&self) -> Vec<(String, StaticSource, Owner)> {
        let mut layered: std::collections::BTreeMap<String, (StaticSource, Owner)> = theme::STATIC
            .iter()
            .map(|(p, b)| {
                (
                    p.to_string(),
                    (StaticSource::Embedded(b), Owner::Theme(p.to_string())),
                )
            })
            .collect();
        let mut dirs = Vec::new();
        if let Some(t) = templates::theme_dir(&self.root, &self.config) {
            dirs.push(t.join("static"));
        }
        dirs.push(self.root.join("static"));
        for dir in dirs {
            if !dir.is_dir() {
                continue;
            }
            for item in WalkDir::new(&dir).sort_by_file_name().into_iter().flatten() {
                if item.file_type().is_file() {
                    if let Ok(rel) = item.path().strip_prefix(&dir) {
                        layered.insert(
                            rel.to_string_lossy().replace('\\', "/"),
                            (
                                StaticSource::File(item.path().to_path_buf()),
                                Owner::File(crate::diagnostics::display_path(
                                    &self.root,
                                    item.path(),
                                )),
                            ),
                        );
                    }
                }
            }
        }
        let mut out: Vec<(String, StaticSource, Owner)> =
            layered.into_iter().map(|(p, (s, o))| (p, s, o)).collect();
        for asset in &self.content.assets {
            out.push((
                asset.clone(),
                StaticSource::File(self.root.join("content").join(asset)),
                Owner::File(PathBuf::from("content").join(asset)),
            ));
        }
        out
    }

    /// Writes rendered files and static files into a staging folder, then swaps it
    /// into `output`. The staging folder is the tree of the build before last
    /// when there is one, and only files whose bytes changed are written in it
    /// (see [`StagingDir`]).
    pub fn write(&self, files: &[OutputFile], output: &Path) -> Result<usize> {
        let t = Instant::now();
        let staging = StagingDir::new(output)?;
        let mut statics: HashMap<String, StaticSource> = HashMap::new();
        for (p, s) in self.static_files() {
            statics.insert(p, s);
        }
        let rendered: std::collections::HashSet<&str> =
            files.iter().map(|f| f.path.as_str()).collect();
        statics.retain(|p, _| !rendered.contains(p.as_str()));
        let count = files.len() + statics.len();
        statics.par_iter().try_for_each(|(p, s)| -> Result<()> {
            match s {
                StaticSource::Embedded(b) => staging.write(p, b),
                StaticSource::File(src) => {
                    let bytes =
                        std::fs::read(src).with_context(|| format!("reading {}", src.display()))?;
                    staging.write(p, &bytes)
                }
            }
        })?;
        files
            .par_iter()
            .try_for_each(|f| staging.write(&f.path, &f.bytes))?;
        if staging.reused() {
            let mut keep = rendered;
            keep.extend(statics.keys().map(String::as_str));
            staging.remove_stale(&keep)?;
        }
        staging.commit()?;
        debug!("wrote {count} files in {:?}", t.elapsed());
        Ok(count)
    }
}

impl Site {
    /// `sitemap.xml`: every page and section, with `hreflang` alternates for translations.
    pub fn sitemap(&self) -> String {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
        );
        let mut order: Vec<usize> = (0..self.content.entries.len()).collect();
        order.sort_by(|&a, &b| {
            self.content.entries[a]
                .path
                .cmp(&self.content.entries[b].path)
        });
        for i in order {
            let e = &self.content.entries[i];
            out.push_str("  <url>\n    <loc>");
            out.push_str(&escape_html(&self.permalink(&e.path)));
            out.push_str("</loc>\n");
            if let Some(d) = &e.date {
                out.push_str(&format!(
                    "    <lastmod>{}</lastmod>\n",
                    escape_html(&d[..d.len().min(10)])
                ));
            }
            let translations = self.content.translations(i, &self.config);
            if translations.len() > 1 {
                for t in translations {
                    let te = &self.content.entries[t];
                    out.push_str(&format!(
                        "    <xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>\n",
                        escape_html(&te.lang),
                        escape_html(&self.permalink(&te.path))
                    ));
                }
            }
            out.push_str("  </url>\n");
        }
        if let Some(d) = &self.dashboards {
            // Reports, services' reports and team pages, in every language, each with its alternates.
            type PathOf<'a> = Box<dyn Fn(&str) -> String + 'a>;
            let routes = &self.routes;
            let generated: Vec<PathOf> = d
                .report
                .repos
                .iter()
                .map(|r| Box::new(move |l: &str| routes.report(l, &r.slug)) as PathOf)
                .chain(d.report.repos.iter().flat_map(|r| {
                    r.services.iter().flatten().map(move |s| {
                        Box::new(move |l: &str| routes.service(l, &r.slug, &s.slug)) as PathOf
                    })
                }))
                .chain(
                    d.teams
                        .iter()
                        .map(|t| Box::new(move |l: &str| routes.team(l, &t.slug)) as PathOf),
                )
                .collect();
            let languages = &self.config.languages;
            for path_of in &generated {
                for lang in languages {
                    out.push_str("  <url>\n    <loc>");
                    out.push_str(&escape_html(&self.permalink(&path_of(lang))));
                    out.push_str("</loc>\n");
                    if languages.len() > 1 {
                        for l in languages {
                            out.push_str(&format!(
                                "    <xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>\n",
                                escape_html(l),
                                escape_html(&self.permalink(&path_of(l)))
                            ));
                        }
                    }
                    out.push_str("  </url>\n");
                }
            }
        }
        out.push_str("</urlset>\n");
        out
    }
}

/// JSON with `<`, `>` and `&` written as `\u003c`, `\u003e`, `\u0026`: the same
/// data, but no file of the site holds markup from repository data, wherever
/// it is served or embedded.
pub fn json_for_the_web<T: serde::Serialize>(value: &T, pretty: bool) -> Vec<u8> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .unwrap_or_default();
    // These characters only occur inside JSON strings, where the escapes mean the same.
    text.replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .into_bytes()
}

/// A page that sends the reader on to `url` (front-matter aliases). It names
/// the favicon, so browsers do not ask for a missing `/favicon.ico`.
pub(super) fn redirect_page(url: &str, base_path: &str) -> String {
    let u = escape_html(url);
    let icon = escape_html(&format!("{base_path}/favicon.svg"));
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Redirecting…</title>\
<link rel=\"icon\" href=\"{icon}\" type=\"image/svg+xml\">\
<link rel=\"canonical\" href=\"{u}\"><meta http-equiv=\"refresh\" content=\"0; url={u}\"></head>\
<body><a href=\"{u}\">{u}</a></body></html>\n"
    )
}

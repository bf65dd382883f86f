//! A built site kept in memory between edits, for `serve`: each change is
//! classified (as Zola's `ChangeKind` does) and only what it can affect is
//! rendered again.
//!
//! - A page's body: that page's Markdown and HTML, and its language's search
//!   index. Nothing else shows a body (summaries hold titles, dates, weights
//!   and descriptions, never content).
//! - Anything else of a page that other pages show (its front matter: title,
//!   weight, date, description, …): every page is rendered again from the
//!   Markdown already rendered, since sidebars, breadcrumbs, previous/next,
//!   language switchers, the sitemap and the search index show it.
//! - A page added, removed or renamed, a URL changed, an asset added: the
//!   content is rendered again whole (every `@/` link may resolve differently).
//! - A static file: read again; one added or removed re-renders the pages too
//!   (it may replace a generated file, such as `robots.txt`, or clash with one).
//! - Templates, themes and theme strings: the site is loaded and rendered
//!   again, reusing the assessed repositories.
//! - `data/` and `opsmeter.toml`: loaded, assessed and rendered again.
//!
//! The content tree is read again on every content change and compared entry
//! by entry with the one served, so an edit is classified by what it changed,
//! not by which file it touched. A failed rebuild leaves the served files as
//! they were; one that failed after the site was partly updated makes the
//! next change render everything again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result};
use bytes::Bytes;
use tracing::debug;

use super::build::{OutputFile, Site, StaticSource};
use super::content::{self, ContentTree, Entry};
use super::dashboards::{self, DashboardOptions, Dashboards};
use crate::diagnostics::{Diagnostic, Diagnostics};

/// The files of a site by output path (`guide/testing/index.html`).
pub type Files = BTreeMap<String, Bytes>;

/// Static files by output path, with where their bytes were read from.
type Statics = BTreeMap<String, (StaticSource, Bytes)>;

/// The source paths changed since the last rebuild, sorted by what they ask for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Files under `content/`.
    pub content: BTreeSet<PathBuf>,
    /// Files under `static/`.
    pub statics: BTreeSet<PathBuf>,
    /// Something under `templates/`, `themes/` or `i18n/`.
    pub templates: bool,
    /// Something under `data/` (not `data/cache/`) or `opsmeter.toml`.
    pub reassess: bool,
}

impl Changes {
    /// Notes a changed path of the site at `root`; paths the site does not
    /// read (the output, `data/cache/`, hidden files in `content/`) are ignored.
    pub fn note(&mut self, root: &Path, path: &Path) {
        let Ok(rel) = path.strip_prefix(root) else {
            return;
        };
        let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
        let Some(first) = parts.next() else { return };
        match first.as_ref() {
            // Hidden files (an editor's swap file) are no part of the site.
            "content" if !parts.any(|p| p.starts_with('.')) => {
                self.content.insert(path.to_path_buf());
            }
            "static" => {
                self.statics.insert(path.to_path_buf());
            }
            "templates" | "themes" | "i18n" => self.templates = true,
            "data" if !rel.starts_with("data/cache") => self.reassess = true,
            "opsmeter.toml" => self.reassess = true,
            _ => {}
        }
    }

    pub fn is_empty(&self) -> bool {
        self.content.is_empty() && self.statics.is_empty() && !self.templates && !self.reassess
    }
}

/// What a rebuild did, for the line `serve` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuilt {
    /// Nothing served changed (a file saved as it was, an editor's backup file).
    Nothing,
    /// `pages` pages rendered again, `statics` static files read again.
    Parts { pages: usize, statics: usize },
    /// The whole site rendered again.
    Site,
    /// The repositories assessed again and the whole site rendered.
    Assessed,
}

/// A built site and its files, kept between edits.
pub struct LiveSite {
    root: PathBuf,
    drafts: bool,
    options: DashboardOptions,
    site: Site,
    /// Rendered files (pages, indexes, sitemap, …).
    pages: Files,
    /// Static files (theme layers, `static/`, content assets) and where they came from.
    statics: Statics,
    /// Rendered files over static files, as served.
    files: Arc<Files>,
    /// A rebuild failed after the site was partly updated: the next one starts over.
    stale: bool,
    /// Languages whose search index is behind their pages ([`LiveSite::finish`]).
    indexes_behind: BTreeSet<String>,
}

fn fail(problems: Vec<Diagnostic>) -> anyhow::Error {
    anyhow::Error::new(Diagnostics(problems))
}

/// How a freshly read content tree differs from the one served.
#[derive(Debug, PartialEq, Eq)]
enum ContentDiff {
    /// Entries whose body (or its position in the file) changed, and nothing else.
    Bodies(BTreeSet<usize>),
    /// Entries that changed in something other pages show; same URLs.
    Navigation(BTreeSet<usize>),
    /// Entries or assets added, removed, renamed, or a URL changed.
    Structure,
}

/// Compares two content trees entry by entry (the same files in the same
/// order give the same indexes). Every field of [`Entry`] is named, so a new
/// field does not compile until it is sorted here.
fn compare(old: &ContentTree, new: &ContentTree) -> ContentDiff {
    if old.entries.len() != new.entries.len() || old.assets != new.assets || old.roots != new.roots
    {
        return ContentDiff::Structure;
    }
    let mut changed = BTreeSet::new();
    let mut navigation = false;
    for (i, (a, b)) in old.entries.iter().zip(&new.entries).enumerate() {
        let Entry {
            kind,
            file,
            key,
            lang,
            meta,
            date,
            body,
            line_offset,
            content_dir,
            path,
            title,
            parent,
            pages,
            subsections,
            earlier,
            later,
            rendered: _,
            implicit,
            built_in,
            key_lines,
        } = a;
        // Where the entry is and what its links resolve against.
        if (kind, file, key, lang, content_dir, path, implicit, built_in)
            != (
                &b.kind,
                &b.file,
                &b.key,
                &b.lang,
                &b.content_dir,
                &b.path,
                &b.implicit,
                &b.built_in,
            )
        {
            return ContentDiff::Structure;
        }
        // What other pages show of it, or how it is placed among them.
        if (
            meta,
            date,
            title,
            parent,
            pages,
            subsections,
            earlier,
            later,
        ) != (
            &b.meta,
            &b.date,
            &b.title,
            &b.parent,
            &b.pages,
            &b.subsections,
            &b.earlier,
            &b.later,
        ) {
            navigation = true;
            changed.insert(i);
        }
        // Its own text (and the file lines its messages name).
        if (body, line_offset, key_lines) != (&b.body, &b.line_offset, &b.key_lines) {
            changed.insert(i);
        }
    }
    if navigation {
        ContentDiff::Navigation(changed)
    } else {
        ContentDiff::Bodies(changed)
    }
}

/// Loads, assesses (unless `dashboards` are given) and renders the Markdown of a site.
fn load(
    root: &Path,
    drafts: bool,
    options: &DashboardOptions,
    dashboards: Option<Arc<Dashboards>>,
) -> Result<Site> {
    let mut site = Site::load(root, drafts)?;
    site.dashboards = match dashboards {
        Some(d) => Some(d),
        None => dashboards::assess_site(&site.workspace, options)?.map(Arc::new),
    };
    let problems = site.render_markdown();
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    Ok(site)
}

fn by_path(files: Vec<OutputFile>) -> Files {
    files
        .into_iter()
        .map(|f| (f.path, Bytes::from(f.bytes)))
        .collect()
}

fn same_source(a: &StaticSource, b: &StaticSource) -> bool {
    match (a, b) {
        (StaticSource::Embedded(x), StaticSource::Embedded(y)) => std::ptr::eq(*x, *y),
        (StaticSource::File(x), StaticSource::File(y)) => x == y,
        _ => false,
    }
}

/// The static files of `site`, reusing the bytes of `previous` for those
/// from the same source that is not among `changed`. Returns them and how
/// many were read.
fn read_statics(
    site: &Site,
    previous: &Statics,
    changed: &BTreeSet<PathBuf>,
) -> Result<(Statics, usize)> {
    let mut out = BTreeMap::new();
    let mut read = 0;
    for (path, source) in site.static_files() {
        let kept = previous.get(&path).and_then(|(s, bytes)| {
            let unchanged = same_source(s, &source)
                && !matches!(&source, StaticSource::File(f) if changed.contains(f));
            unchanged.then(|| bytes.clone())
        });
        let bytes = match (kept, &source) {
            (Some(b), _) => b,
            (None, StaticSource::Embedded(b)) => Bytes::from_static(b),
            (None, StaticSource::File(f)) => {
                read += 1;
                Bytes::from(std::fs::read(f).with_context(|| format!("reading {}", f.display()))?)
            }
        };
        out.insert(path, (source, bytes));
    }
    Ok((out, read))
}

/// Rendered files over static files (a generated file replaces a static one
/// of the same path, as in `build`).
fn merge(pages: &Files, statics: &Statics) -> Files {
    let mut files: Files = statics
        .iter()
        .map(|(p, (_, b))| (p.clone(), b.clone()))
        .collect();
    files.extend(pages.iter().map(|(p, b)| (p.clone(), b.clone())));
    files
}

/// How many paths differ between two sets of files (changed, added or removed).
fn differing(a: &Files, b: &Files) -> usize {
    let changed = a.iter().filter(|(p, x)| b.get(*p) != Some(*x)).count();
    changed + b.keys().filter(|p| !a.contains_key(*p)).count()
}

impl LiveSite {
    /// Loads, assesses and renders the site at `root` in memory.
    pub fn build(root: &Path, drafts: bool, options: &DashboardOptions) -> Result<LiveSite> {
        let site = load(root, drafts, options, None)?;
        let pages = by_path(site.render_pages().map_err(fail)?);
        let (statics, _) = read_statics(&site, &BTreeMap::new(), &BTreeSet::new())?;
        let files = Arc::new(merge(&pages, &statics));
        Ok(LiveSite {
            root: root.to_path_buf(),
            drafts,
            options: options.clone(),
            site,
            pages,
            statics,
            files,
            stale: false,
            indexes_behind: BTreeSet::new(),
        })
    }

    /// The files to serve.
    pub fn files(&self) -> Arc<Files> {
        self.files.clone()
    }

    /// Counts of the site's pages, sections, files and reports.
    pub fn summary(&self) -> super::build::Summary {
        self.site.summary(self.files.len())
    }

    /// Brings the site up to date with `changes`, all but the search indexes
    /// of edited pages' languages, which [`LiveSite::finish`] brings up to date
    /// (so an edited page is served without waiting for its index). On an
    /// error the served files stay as they were.
    pub fn apply(&mut self, changes: &Changes) -> Result<Rebuilt> {
        if changes.is_empty() {
            return Ok(Rebuilt::Nothing);
        }
        let result = if changes.reassess || changes.templates || self.stale {
            self.rebuild(changes.reassess)
        } else {
            self.update(changes)
        };
        let rebuilt = result?;
        self.stale = false;
        Ok(if self.swap() == 0 {
            Rebuilt::Nothing
        } else {
            rebuilt
        })
    }

    /// Renders the search indexes [`LiveSite::apply`] left behind. Returns
    /// whether a served file changed.
    pub fn finish(&mut self) -> bool {
        if self.indexes_behind.is_empty() {
            return false;
        }
        let t = Instant::now();
        for lang in std::mem::take(&mut self.indexes_behind) {
            let f = self.site.search_index(&lang);
            self.pages.insert(f.path, Bytes::from(f.bytes));
        }
        debug!("search indexes rendered in {:?}", t.elapsed());
        self.swap() > 0
    }

    /// Makes the current files the served ones; returns how many paths differ.
    fn swap(&mut self) -> usize {
        let files = merge(&self.pages, &self.statics);
        let differ = differing(&self.files, &files);
        debug!("{differ} files changed");
        self.files = Arc::new(files);
        differ
    }

    /// Loads and renders everything again (and assesses again if `reassess`).
    fn rebuild(&mut self, reassess: bool) -> Result<Rebuilt> {
        let dashboards = if reassess {
            None
        } else {
            self.site.dashboards.clone()
        };
        let site = load(&self.root, self.drafts, &self.options, dashboards)?;
        let pages = by_path(site.render_pages().map_err(fail)?);
        let (statics, _) = read_statics(&site, &BTreeMap::new(), &BTreeSet::new())?;
        self.site = site;
        self.pages = pages;
        self.statics = statics;
        self.indexes_behind.clear();
        Ok(if reassess {
            Rebuilt::Assessed
        } else {
            Rebuilt::Site
        })
    }

    /// Content and static files changed: render what they affect.
    fn update(&mut self, changes: &Changes) -> Result<Rebuilt> {
        let t = Instant::now();
        let diff = if changes.content.is_empty() {
            None
        } else {
            let tree = content::load(&self.root, &self.site.config, self.drafts).map_err(fail)?;
            // From here on the site is partly updated until this succeeds.
            self.stale = true;
            let mut old = std::mem::replace(&mut self.site.content, tree);
            let diff = compare(&old, &self.site.content);
            if diff != ContentDiff::Structure {
                // Same entries at the same indexes: keep the Markdown already rendered.
                for (i, (from, to)) in old
                    .entries
                    .iter_mut()
                    .zip(self.site.content.entries.iter_mut())
                    .enumerate()
                {
                    let redo = match &diff {
                        ContentDiff::Bodies(c) | ContentDiff::Navigation(c) => c.contains(&i),
                        ContentDiff::Structure => true,
                    };
                    if !redo {
                        to.rendered = std::mem::take(&mut from.rendered);
                    }
                }
            }
            debug!(
                "content read again and compared in {:?}: {diff:?}",
                t.elapsed()
            );
            Some(diff)
        };
        let mut touched = changes.statics.clone();
        touched.extend(changes.content.iter().cloned());
        let (statics, read) = read_statics(&self.site, &self.statics, &touched)?;
        let statics_listed_again = statics.keys().ne(self.statics.keys());
        let (redo_markdown, all_pages): (Vec<usize>, bool) = match &diff {
            None => (Vec::new(), statics_listed_again),
            Some(ContentDiff::Bodies(c)) => (c.iter().copied().collect(), statics_listed_again),
            Some(ContentDiff::Navigation(c)) => (c.iter().copied().collect(), true),
            Some(ContentDiff::Structure) => ((0..self.site.content.entries.len()).collect(), true),
        };
        let problems = self.site.render_markdown_of(&redo_markdown);
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        let rendered = if all_pages {
            let files = by_path(self.site.render_pages().map_err(fail)?);
            let count = self.site.content.entries.len();
            self.pages = files;
            self.indexes_behind.clear();
            count
        } else if redo_markdown.is_empty() {
            0
        } else {
            let only: BTreeSet<usize> = redo_markdown.iter().copied().collect();
            let files = self.site.render_pages_of(Some(&only)).map_err(fail)?;
            self.pages.extend(by_path(files));
            let content = &self.site.content;
            self.indexes_behind
                .extend(only.iter().map(|&i| content.entries[i].lang.clone()));
            only.len()
        };
        self.statics = statics;
        debug!("updated in {:?}", t.elapsed());
        Ok(match diff {
            Some(ContentDiff::Structure) => Rebuilt::Site,
            _ => Rebuilt::Parts {
                pages: rendered,
                statics: read,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_sorted_by_what_they_ask_for() {
        let root = Path::new("/s");
        let mut c = Changes::default();
        for p in [
            "/s/content/a.md",
            "/s/content/guide/.a.md.swp",
            "/s/content/.git/x",
            "/s/static/app.css",
            "/s/public/index.html",
            "/s/data/cache/x.json",
            "/elsewhere/content/b.md",
        ] {
            c.note(root, Path::new(p));
        }
        assert_eq!(
            c,
            Changes {
                content: BTreeSet::from([PathBuf::from("/s/content/a.md")]),
                statics: BTreeSet::from([PathBuf::from("/s/static/app.css")]),
                templates: false,
                reassess: false,
            }
        );
        let mut t = Changes::default();
        t.note(root, Path::new("/s/i18n/zh.toml"));
        assert!(t.templates && !t.reassess);
        for p in ["/s/opsmeter.toml", "/s/data/model.toml"] {
            let mut r = Changes::default();
            r.note(root, Path::new(p));
            assert!(r.reassess, "{p}");
        }
        let mut none = Changes::default();
        none.note(root, Path::new("/s/public/a.html"));
        assert!(none.is_empty());
    }

    /// A copy of `tests/fixtures/site` (two languages, sections, a template
    /// of its own, a static file, a content asset), outside any git repository.
    fn fixture() -> tempfile::TempDir {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site");
        let dir = tempfile::tempdir().unwrap();
        for item in walkdir::WalkDir::new(&src) {
            let item = item.unwrap();
            let dest = dir.path().join(item.path().strip_prefix(&src).unwrap());
            if item.file_type().is_dir() {
                std::fs::create_dir_all(&dest).unwrap();
            } else {
                std::fs::copy(item.path(), &dest).unwrap();
            }
        }
        dir
    }

    fn options() -> DashboardOptions {
        DashboardOptions {
            window: crate::assess::WindowArgs {
                since: None,
                until: None,
                now: chrono::DateTime::parse_from_rfc3339("2024-06-01T00:00:00Z")
                    .unwrap()
                    .into(),
            },
            lenient: false,
        }
    }

    /// Writes `text` to `rel` under `root` (or removes it for `None`) and
    /// applies the change as `serve` would, then the deferred indexes.
    fn edit(live: &mut LiveSite, root: &Path, rel: &str, text: Option<&str>) -> Result<Rebuilt> {
        let path = root.join(rel);
        match text {
            Some(t) => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, t).unwrap();
            }
            None => std::fs::remove_file(&path).unwrap(),
        }
        let mut changes = Changes::default();
        changes.note(root, &path);
        let rebuilt = live.apply(&changes)?;
        live.finish();
        Ok(rebuilt)
    }

    /// The paths whose bytes differ between two sets of files.
    fn paths_differing(a: &Files, b: &Files) -> Vec<String> {
        let mut paths: Vec<String> = a
            .keys()
            .chain(b.keys())
            .filter(|p| a.get(*p) != b.get(*p))
            .cloned()
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    /// What the site serves after the edits is what a fresh build serves.
    fn assert_as_built(live: &LiveSite, root: &Path, after: &str) {
        let fresh = LiveSite::build(root, false, &options()).unwrap().files();
        assert_eq!(
            paths_differing(&live.files(), &fresh),
            Vec::<String>::new(),
            "after {after}, these files differ from a fresh build's"
        );
    }

    #[test]
    fn every_rebuild_serves_what_a_fresh_build_serves() {
        let dir = fixture();
        let root = dir.path();
        let mut live = LiveSite::build(root, false, &options()).unwrap();
        let pages = live.site.content.entries.len();
        let about = std::fs::read_to_string(root.join("content/about.md")).unwrap();

        // A body: that page and its language's search index, nothing else.
        let before = live.files();
        let edited = about.replace("No front matter surprises here.", "A new sentence.");
        let rebuilt = edit(&mut live, root, "content/about.md", Some(&edited)).unwrap();
        assert_eq!(
            rebuilt,
            Rebuilt::Parts {
                pages: 1,
                statics: 0
            }
        );
        assert_eq!(
            paths_differing(&before, &live.files()),
            vec!["about/index.html", "search/en.json"]
        );
        assert_as_built(&live, root, "a body edit");

        // Saved again unchanged: nothing.
        let rebuilt = edit(&mut live, root, "content/about.md", Some(&edited)).unwrap();
        assert_eq!(rebuilt, Rebuilt::Nothing);

        // A title other pages show: every page, from the Markdown already rendered.
        let second = std::fs::read_to_string(root.join("content/guide/second.md")).unwrap();
        let retitled = second.replace("title = \"Second\"", "title = \"Renamed\"");
        let rebuilt = edit(&mut live, root, "content/guide/second.md", Some(&retitled)).unwrap();
        assert_eq!(rebuilt, Rebuilt::Parts { pages, statics: 0 });
        assert_as_built(&live, root, "a title edit");

        // A weight that reorders a section.
        let reweighed = retitled.replace("weight = 2", "weight = 0");
        edit(&mut live, root, "content/guide/second.md", Some(&reweighed)).unwrap();
        assert_as_built(&live, root, "a weight edit");

        // A page added, then removed.
        let third = "+++\ntitle = \"Third\"\n+++\nSee [about](@/about.md).\n";
        let rebuilt = edit(&mut live, root, "content/guide/third.md", Some(third)).unwrap();
        assert_eq!(rebuilt, Rebuilt::Site);
        assert!(live.files().contains_key("guide/third/index.html"));
        assert_as_built(&live, root, "a page added");
        let rebuilt = edit(&mut live, root, "content/guide/third.md", None).unwrap();
        assert_eq!(rebuilt, Rebuilt::Site);
        assert!(!live.files().contains_key("guide/third/index.html"));
        assert_as_built(&live, root, "a page removed");

        // A static file added (listed anew: the pages are checked again), then changed.
        let rebuilt = edit(&mut live, root, "static/notes.txt", Some("one\n")).unwrap();
        assert_eq!(rebuilt, Rebuilt::Parts { pages, statics: 1 });
        assert_eq!(live.files()["notes.txt"].as_ref(), b"one\n");
        let before = live.files();
        let rebuilt = edit(&mut live, root, "static/notes.txt", Some("two\n")).unwrap();
        assert_eq!(
            rebuilt,
            Rebuilt::Parts {
                pages: 0,
                statics: 1
            }
        );
        assert_eq!(paths_differing(&before, &live.files()), vec!["notes.txt"]);
        assert_as_built(&live, root, "a static file changed");

        // A content asset changed.
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n";
        let rebuilt = edit(&mut live, root, "content/guide/img/diagram.svg", Some(svg)).unwrap();
        assert_eq!(
            rebuilt,
            Rebuilt::Parts {
                pages: 0,
                statics: 1
            }
        );
        assert_as_built(&live, root, "an asset changed");

        // A template: the site again.
        let section = std::fs::read_to_string(root.join("templates/section.html")).unwrap();
        let changed = section.replace("overridden-section", "overridden-again");
        let rebuilt = edit(&mut live, root, "templates/section.html", Some(&changed)).unwrap();
        assert_eq!(rebuilt, Rebuilt::Site);
        assert!(std::str::from_utf8(&live.files()["guide/index.html"])
            .unwrap()
            .contains("overridden-again"));
        assert_as_built(&live, root, "a template edit");
    }

    #[test]
    fn a_failed_rebuild_keeps_the_files_served_and_the_next_one_recovers() {
        let dir = fixture();
        let root = dir.path();
        let mut live = LiveSite::build(root, false, &options()).unwrap();
        let about = std::fs::read_to_string(root.join("content/about.md")).unwrap();
        let served = live.files();

        // Front matter that does not parse: nothing is read into the site.
        let broken = "+++\ntitle = \"About\nbroken\n+++\nBroken text.\n";
        let err = edit(&mut live, root, "content/about.md", Some(broken)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("content/about.md:2: invalid front matter"),
            "{err}"
        );
        assert!(Arc::ptr_eq(&served, &live.files()));

        // A body that fails after the new content was read (a broken link).
        let dangling = about.replace("(@/guide/intro.md#code)", "(@/guide/missing.md)");
        let err = edit(&mut live, root, "content/about.md", Some(&dangling)).unwrap_err();
        assert!(
            err.to_string().contains("@/guide/missing.md: no such page"),
            "{err}"
        );
        assert!(Arc::ptr_eq(&served, &live.files()));

        // Fixed: served as a fresh build would.
        let fixed = about.replace("No front matter surprises here.", "Fixed.");
        edit(&mut live, root, "content/about.md", Some(&fixed)).unwrap();
        assert!(std::str::from_utf8(&live.files()["about/index.html"])
            .unwrap()
            .contains("Fixed."));
        assert_as_built(&live, root, "the fix");
    }
}

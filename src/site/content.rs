//! The content tree: `content/` walked into sections (`_index.md`) and pages
//! (`*.md`, or `index.md` in a folder with its assets), per language, with
//! their URLs, order and relations (parent, previous/next, translations).
//!
//! Loading only reads and parses; Markdown is rendered later, in parallel.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use walkdir::WalkDir;

use super::front_matter::{self, FrontMatter};
use super::handbook;
use super::markdown::Rendered;
use crate::config::Config;
use crate::diagnostics::Diagnostic;

/// Whether a content file is a section index or a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Section,
    Page,
}

/// A page or a section: one Markdown file in one language.
#[derive(Debug)]
pub struct Entry {
    pub kind: Kind,
    /// The file, relative to the site root (`content/guide/testing.md`), for messages.
    pub file: PathBuf,
    /// Language-neutral content path: `guide/testing.md`, `guide/_index.md`. Links use it.
    pub key: String,
    pub lang: String,
    pub meta: FrontMatter,
    pub date: Option<String>,
    pub body: String,
    pub line_offset: usize,
    /// Folder of the source inside `content/`, with a trailing `/` (`guide/`), for relative assets.
    pub content_dir: String,
    /// URL path without the site prefix: `/guide/testing/`, `/zh/guide/`.
    pub path: String,
    /// Title, falling back to the file name.
    pub title: String,
    /// For pages: the section they belong to; for sections: their parent section.
    pub parent: Option<usize>,
    /// For sections: their pages, in order.
    pub pages: Vec<usize>,
    /// For sections: their subsections, in order.
    pub subsections: Vec<usize>,
    /// For pages: neighbours in their section's order.
    pub earlier: Option<usize>,
    pub later: Option<usize>,
    /// Filled by the Markdown pass.
    pub rendered: Rendered,
    /// True for a root section that has no `_index.md` (created so every language has a home).
    pub implicit: bool,
    /// True for a chapter of the handbook built into the binary (no file of the site).
    pub built_in: bool,
    /// File line of each front-matter key, for messages about its value.
    pub key_lines: Vec<(String, usize)>,
}

impl Entry {
    /// The file line of a front-matter key, or 1 when absent.
    pub fn key_line(&self, key: &str) -> usize {
        self.key_lines
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, l)| *l)
            .unwrap_or(1)
    }

    /// File path of the rendered HTML inside the output folder.
    pub fn output_file(&self) -> String {
        format!("{}index.html", self.path.trim_start_matches('/'))
    }
}

/// Every entry of the site and the indexes over them.
#[derive(Debug, Default)]
pub struct ContentTree {
    pub entries: Vec<Entry>,
    /// (key, lang) → entry.
    pub by_key: HashMap<(String, String), usize>,
    /// lang → its root section.
    pub roots: BTreeMap<String, usize>,
    /// Non-Markdown files under `content/`, copied beside the pages (`guide/img/a.png`).
    pub assets: Vec<String>,
}

struct RawFile {
    abs: PathBuf,
    rel: String,
}

/// Reads `content/` under `root`. Drafts are left out unless `drafts`.
/// Every problem found is returned, not just the first.
pub fn load(root: &Path, config: &Config, drafts: bool) -> Result<ContentTree, Vec<Diagnostic>> {
    let content = root.join("content");
    let mut files = Vec::new();
    let mut assets = Vec::new();
    let mut problems = Vec::new();
    if content.is_dir() {
        for item in WalkDir::new(&content).sort_by_file_name() {
            let item = match item {
                Ok(i) => i,
                Err(e) => {
                    problems.push(Diagnostic::new(
                        e.path()
                            .map(Path::to_path_buf)
                            .unwrap_or_else(|| content.clone()),
                        None,
                        format!("cannot read: {e}"),
                    ));
                    continue;
                }
            };
            if !item.file_type().is_file() {
                continue;
            }
            let rel_path = item.path().strip_prefix(&content).unwrap_or(item.path());
            if rel_path
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let Some(rel) = rel_path.to_str().map(|s| s.replace('\\', "/")) else {
                problems.push(Diagnostic::new(
                    item.path(),
                    None,
                    "file name is not valid UTF-8",
                ));
                continue;
            };
            if rel.ends_with(".md") {
                files.push(RawFile {
                    abs: item.path().to_path_buf(),
                    rel,
                });
            } else {
                assets.push(rel);
            }
        }
    }

    let parsed: Vec<Result<Option<Entry>, Diagnostic>> = files
        .par_iter()
        .map(|f| read_entry(root, f, config, drafts))
        .collect();
    let mut entries = Vec::new();
    let own: std::collections::HashSet<(String, String)> = parsed
        .iter()
        .zip(&files)
        // A draft left out leaves the built-in chapter in place until it is published.
        .filter(|(p, _)| !matches!(p, Ok(None)))
        .map(|(_, f)| language_of(&f.rel, config))
        .collect();
    let built_in = if config.handbook {
        built_in_chapters(config, drafts, &own)
    } else {
        Vec::new()
    };
    for p in parsed.into_iter().chain(built_in) {
        match p {
            Ok(Some(e)) => entries.push(e),
            Ok(None) => {}
            Err(d) => problems.push(d),
        }
    }
    let mut tree = ContentTree {
        entries,
        assets,
        ..Default::default()
    };
    link(&mut tree, config, &mut problems);
    if problems.is_empty() {
        Ok(tree)
    } else {
        problems.sort();
        Err(problems)
    }
}

/// Splits `name.zh.md` into (`name.md`, `zh`) when `zh` is a configured language.
fn language_of(rel: &str, config: &Config) -> (String, String) {
    let stem = &rel[..rel.len() - 3];
    if let Some((base, lang)) = stem.rsplit_once('.') {
        if !base.ends_with('/')
            && config.languages.iter().any(|l| l == lang)
            && lang != config.default_language
        {
            return (format!("{base}.md"), lang.to_string());
        }
    }
    (rel.to_string(), config.default_language.clone())
}

fn read_entry(
    root: &Path,
    f: &RawFile,
    config: &Config,
    drafts: bool,
) -> Result<Option<Entry>, Diagnostic> {
    let file = crate::diagnostics::display_path(root, &f.abs);
    let text = crate::diagnostics::read_text(&f.abs, &file)?;
    let (key, lang) = language_of(&f.rel, config);
    parse_entry(file, &f.rel, &text, key, lang, config, drafts)
}

/// The built-in handbook's chapters in the configured languages that the site
/// has no file of its own for (same content key, same language).
fn built_in_chapters(
    config: &Config,
    drafts: bool,
    own: &std::collections::HashSet<(String, String)>,
) -> Vec<Result<Option<Entry>, Diagnostic>> {
    handbook::FILES
        .iter()
        .filter_map(|(name, text)| {
            let (key, lang) = handbook::key_and_language(name);
            if !config.languages.iter().any(|l| l == lang)
                || own.contains(&(key.clone(), lang.to_string()))
            {
                return None;
            }
            let rel = format!("{}/{name}", handbook::FOLDER);
            let file = PathBuf::from(handbook::ORIGIN).join(&rel);
            let entry = parse_entry(file, &rel, text, key, lang.to_string(), config, drafts);
            Some(entry.map(|e| {
                e.map(|mut e| {
                    e.built_in = true;
                    e
                })
            }))
        })
        .collect()
}

fn parse_entry(
    file: PathBuf,
    rel: &str,
    text: &str,
    key: String,
    lang: String,
    config: &Config,
    drafts: bool,
) -> Result<Option<Entry>, Diagnostic> {
    let split =
        front_matter::split(text).map_err(|e| Diagnostic::new(&file, Some(e.line), e.message))?;
    if split.front_matter.draft && !drafts {
        return Ok(None);
    }
    let date = split
        .front_matter
        .date_string()
        .map_err(|m| Diagnostic::new(&file, Some(split.key_line("date")), m))?;
    if let Some(slug) = &split.front_matter.slug {
        if !is_safe_segment(slug) {
            return Err(Diagnostic::new(
                &file,
                Some(split.key_line("slug")),
                format!("slug {slug:?} must be one URL segment (no `/`, `\\`, `..` or control characters)"),
            ));
        }
    }
    for alias in &split.front_matter.aliases {
        if alias_output(alias).is_none() {
            return Err(Diagnostic::new(
                &file,
                Some(split.key_line("aliases")),
                format!("alias {alias:?} must be a path inside the site (no `..`, no scheme)"),
            ));
        }
    }
    let file_name = key.rsplit('/').next().unwrap_or(&key);
    let kind = if file_name == "_index.md" {
        Kind::Section
    } else {
        Kind::Page
    };
    let content_dir = match rel.rfind('/') {
        Some(i) => rel[..=i].to_string(),
        None => String::new(),
    };
    let path = url_path(&key, kind, &split.front_matter, &lang, config);
    let title = split.front_matter.title.clone().unwrap_or_else(|| {
        let stem = file_name.trim_end_matches(".md");
        if kind == Kind::Section || stem == "index" {
            let dir = content_dir.trim_end_matches('/');
            dir.rsplit('/').next().unwrap_or(dir).to_string()
        } else {
            stem.to_string()
        }
    });
    Ok(Some(Entry {
        kind,
        file,
        key,
        lang,
        meta: split.front_matter.clone(),
        date,
        body: split.body.to_string(),
        line_offset: split.body_line_offset,
        content_dir,
        path,
        title,
        parent: None,
        pages: Vec::new(),
        subsections: Vec::new(),
        earlier: None,
        later: None,
        rendered: Rendered::default(),
        implicit: false,
        built_in: false,
        key_lines: split.key_lines.clone(),
    }))
}

fn is_safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && !s.contains(['/', '\\', '?', '#'])
        && !s.chars().any(char::is_control)
}

/// The output file (`old/page/index.html`) of a redirect from `alias`, if it is a safe site path.
pub fn alias_output(alias: &str) -> Option<String> {
    if alias.contains("://") || alias.starts_with("//") || alias.chars().any(char::is_control) {
        return None;
    }
    let parts: Vec<&str> = alias.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty()
        || parts
            .iter()
            .any(|p| *p == "." || *p == ".." || p.contains('\\'))
    {
        return None;
    }
    let joined = parts.join("/");
    if joined.ends_with(".html") || joined.ends_with(".htm") {
        Some(joined)
    } else {
        Some(format!("{joined}/index.html"))
    }
}

fn url_path(key: &str, kind: Kind, fm: &FrontMatter, lang: &str, config: &Config) -> String {
    let mut parts: Vec<String> = key.split('/').map(str::to_string).collect();
    let file = parts.pop().unwrap_or_default();
    match kind {
        Kind::Section => {}
        Kind::Page if file == "index.md" => {
            // A page bundle: the folder is the page.
            if let Some(last) = parts.last_mut() {
                if let Some(slug) = &fm.slug {
                    *last = slug.clone();
                }
            }
        }
        Kind::Page => {
            let stem = file.trim_end_matches(".md").to_string();
            parts.push(fm.slug.clone().unwrap_or(stem));
        }
    }
    super::urls::Routes::new(config).content(lang, &parts)
}

/// Sorting: lower weight first, unweighted last, then title, then path.
fn order_key(e: &Entry) -> (bool, i64, String, String) {
    (
        e.meta.weight.is_none(),
        e.meta.weight.unwrap_or(0),
        e.title.to_lowercase(),
        e.key.clone(),
    )
}

fn link(tree: &mut ContentTree, config: &Config, problems: &mut Vec<Diagnostic>) {
    // Every language has a root section, even without `_index.md`.
    for lang in &config.languages {
        let exists = tree
            .entries
            .iter()
            .any(|e| e.kind == Kind::Section && e.key == "_index.md" && &e.lang == lang);
        if !exists {
            let path = super::urls::Routes::new(config).home(lang);
            tree.entries.push(Entry {
                kind: Kind::Section,
                file: PathBuf::from("content/_index.md"),
                key: "_index.md".into(),
                lang: lang.clone(),
                meta: FrontMatter::default(),
                date: None,
                body: String::new(),
                line_offset: 0,
                content_dir: String::new(),
                path,
                title: config.title.clone(),
                parent: None,
                pages: Vec::new(),
                subsections: Vec::new(),
                earlier: None,
                later: None,
                rendered: Rendered::default(),
                implicit: true,
                built_in: false,
                key_lines: Vec::new(),
            });
        }
    }

    // Indexes, and clashes between two files wanting one URL.
    let mut by_output: HashMap<String, usize> = HashMap::new();
    for (i, e) in tree.entries.iter().enumerate() {
        tree.by_key.insert((e.key.clone(), e.lang.clone()), i);
        if e.kind == Kind::Section && e.key == "_index.md" {
            tree.roots.insert(e.lang.clone(), i);
        }
        if let Some(&other) = by_output.get(&e.path) {
            // Reported where it is fixed: at the `slug` that made the URL, if one did.
            let o = &tree.entries[other];
            let (here, there) = if e.meta.slug.is_none() && o.meta.slug.is_some() {
                (o, e)
            } else {
                (e, o)
            };
            let line = here.meta.slug.as_ref().map(|_| here.key_line("slug"));
            problems.push(Diagnostic::new(
                &here.file,
                line,
                format!(
                    "URL {} is also produced by {}; every URL has one page: change a `slug` or rename a file",
                    e.path,
                    there.file.display()
                ),
            ));
        } else {
            by_output.insert(e.path.clone(), i);
        }
    }

    // Parents: the nearest ancestor folder with a section in the same language.
    let parents: Vec<Option<usize>> = tree
        .entries
        .iter()
        .map(|e| {
            let mut dir = e.key.rsplit_once('/').map(|(d, _)| d.to_string());
            if e.kind == Kind::Page && e.key.ends_with("/index.md") {
                // A bundle's own folder is the page, not its section.
                dir = dir.and_then(|d| d.rsplit_once('/').map(|(p, _)| p.to_string()));
            }
            if e.kind == Kind::Section {
                if e.key == "_index.md" {
                    return None;
                }
                dir = dir.and_then(|d| d.rsplit_once('/').map(|(p, _)| p.to_string()));
            }
            loop {
                let key = match &dir {
                    Some(d) => format!("{d}/_index.md"),
                    None => "_index.md".to_string(),
                };
                if let Some(&i) = tree.by_key.get(&(key, e.lang.clone())) {
                    return Some(i);
                }
                dir = dir.and_then(|d| d.rsplit_once('/').map(|(p, _)| p.to_string()));
                if dir.is_none() {
                    return tree.roots.get(&e.lang).copied();
                }
            }
        })
        .collect();
    for (i, p) in parents.iter().enumerate() {
        tree.entries[i].parent = *p;
        if let Some(p) = *p {
            match tree.entries[i].kind {
                Kind::Page => tree.entries[p].pages.push(i),
                Kind::Section => tree.entries[p].subsections.push(i),
            }
        }
    }

    // Order children and link neighbours.
    for s in 0..tree.entries.len() {
        if tree.entries[s].kind != Kind::Section {
            continue;
        }
        let mut pages = std::mem::take(&mut tree.entries[s].pages);
        pages.sort_by_key(|&i| order_key(&tree.entries[i]));
        for w in pages.windows(2) {
            tree.entries[w[0]].later = Some(w[1]);
            tree.entries[w[1]].earlier = Some(w[0]);
        }
        tree.entries[s].pages = pages;
        let mut subs = std::mem::take(&mut tree.entries[s].subsections);
        subs.sort_by_key(|&i| order_key(&tree.entries[i]));
        tree.entries[s].subsections = subs;
    }
}

impl ContentTree {
    /// The entry for a language-neutral content path in `lang`, falling back to
    /// the default language when there is no translation.
    pub fn lookup(&self, key: &str, lang: &str, default_lang: &str) -> Option<usize> {
        let key = key.trim_start_matches('/');
        self.by_key
            .get(&(key.to_string(), lang.to_string()))
            .or_else(|| {
                self.by_key
                    .get(&(key.to_string(), default_lang.to_string()))
            })
            .copied()
    }

    /// Chain from the root section down to the parent of `i`.
    pub fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut cur = self.entries[i].parent;
        while let Some(p) = cur {
            chain.push(p);
            cur = self.entries[p].parent;
        }
        chain.reverse();
        chain
    }

    /// Other languages' versions of entry `i`, in configured language order.
    pub fn translations(&self, i: usize, config: &Config) -> Vec<usize> {
        let key = &self.entries[i].key;
        config
            .languages
            .iter()
            .filter_map(|l| self.by_key.get(&(key.clone(), l.clone())).copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[(&str, &str)], config: &Config) -> ContentTree {
        let dir = tempfile::tempdir().unwrap();
        for (p, t) in files {
            let path = dir.path().join("content").join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, t).unwrap();
        }
        load(dir.path(), config, false).unwrap()
    }

    fn no_handbook() -> Config {
        Config {
            handbook: false,
            ..Config::defaults()
        }
    }

    #[test]
    fn the_built_in_handbook_fills_in_what_the_site_does_not_have() {
        let config = Config {
            languages: vec!["en".into(), "zh".into()],
            ..Config::defaults()
        };
        let t = site(
            &[
                // Replaces one English chapter; its Chinese version stays built in.
                ("guide/testing.md", "+++\ntitle = \"Our testing\"\n+++\n"),
                // A chapter of the site's own.
                ("guide/runbooks.md", "+++\ntitle = \"Runbooks\"\n+++\n"),
            ],
            &config,
        );
        let testing = by_key(&t, "guide/testing.md", "en");
        assert_eq!(testing.title, "Our testing");
        assert!(!testing.built_in);
        assert_eq!(testing.file, PathBuf::from("content/guide/testing.md"));
        let testing_zh = by_key(&t, "guide/testing.md", "zh");
        assert!(testing_zh.built_in);
        assert_eq!(testing_zh.path, "/zh/guide/testing/");
        assert_eq!(
            testing_zh.file,
            PathBuf::from("<built-in handbook>/guide/testing.zh.md")
        );
        let ci = by_key(&t, "guide/continuous-integration.md", "en");
        assert!(ci.built_in);
        assert_eq!(ci.path, "/guide/continuous-integration/");
        // The site's own chapter sits in the built-in section with the others.
        let guide = by_key(&t, "guide/_index.md", "en");
        let runbooks = t.by_key[&("guide/runbooks.md".to_string(), "en".to_string())];
        assert!(guide.pages.contains(&runbooks));
        let built_in_pages = handbook::FILES
            .iter()
            .filter(|(n, _)| !n.starts_with("_index"))
            .count();
        // Every built-in chapter in both languages, the site's own one more in English.
        assert_eq!(
            guide.pages.len() + by_key(&t, "guide/_index.md", "zh").pages.len(),
            built_in_pages + 1
        );
        // One language only: no Chinese chapter is loaded.
        let en_only = site(&[], &Config::defaults());
        assert!(en_only.entries.iter().all(|e| e.lang == "en"));
        assert!(en_only
            .by_key
            .contains_key(&("guide/testing.md".to_string(), "en".to_string())));
        // A Chinese-first site serves the Chinese chapters at /guide/.
        let zh_first = Config {
            default_language: "zh".into(),
            languages: vec!["zh".into(), "en".into()],
            ..Config::defaults()
        };
        let t = site(&[], &zh_first);
        assert_eq!(by_key(&t, "guide/testing.md", "zh").path, "/guide/testing/");
        assert_eq!(
            by_key(&t, "guide/testing.md", "en").path,
            "/en/guide/testing/"
        );
        // handbook = false: none of it.
        assert!(site(&[], &no_handbook())
            .entries
            .iter()
            .all(|e| !e.built_in));
    }

    fn by_key<'a>(t: &'a ContentTree, key: &str, lang: &str) -> &'a Entry {
        &t.entries[t.by_key[&(key.to_string(), lang.to_string())]]
    }

    #[test]
    fn urls_order_and_neighbours() {
        let t = site(
            &[
                ("guide/_index.md", "+++\ntitle = \"Guide\"\n+++\n"),
                ("guide/b.md", "+++\ntitle = \"B\"\nweight = 1\n+++\n"),
                ("guide/a.md", "+++\ntitle = \"A\"\nweight = 2\n+++\n"),
                ("guide/z.md", "+++\ntitle = \"Z\"\nslug = \"zed\"\n+++\n"),
                ("guide/deep/er/c.md", "+++\ntitle = \"C\"\n+++\n"),
                ("guide/bundle/index.md", "+++\ntitle = \"Bundle\"\n+++\n"),
                ("guide/bundle/pic.png", "x"),
                ("draft.md", "+++\ndraft = true\n+++\n"),
            ],
            &no_handbook(),
        );
        let guide = by_key(&t, "guide/_index.md", "en");
        assert_eq!(guide.path, "/guide/");
        let titles: Vec<&str> = guide
            .pages
            .iter()
            .map(|&i| t.entries[i].title.as_str())
            .collect();
        // Weighted first (1, 2), then unweighted by title.
        assert_eq!(titles, vec!["B", "A", "Bundle", "C", "Z"]);
        assert_eq!(by_key(&t, "guide/z.md", "en").path, "/guide/zed/");
        assert_eq!(
            by_key(&t, "guide/deep/er/c.md", "en").path,
            "/guide/deep/er/c/"
        );
        assert_eq!(
            by_key(&t, "guide/bundle/index.md", "en").path,
            "/guide/bundle/"
        );
        let b = by_key(&t, "guide/b.md", "en");
        assert_eq!(b.earlier, None);
        assert_eq!(t.entries[b.later.unwrap()].title, "A");
        assert!(!t.by_key.contains_key(&("draft.md".into(), "en".into())));
        assert_eq!(t.assets, vec!["guide/bundle/pic.png".to_string()]);
        assert_eq!(t.entries[t.roots["en"]].path, "/");
    }

    #[test]
    fn translations_live_under_the_language_prefix() {
        let config = Config {
            languages: vec!["en".into(), "zh".into()],
            ..no_handbook()
        };
        let t = site(
            &[
                ("guide/_index.md", "+++\ntitle = \"Guide\"\n+++\n"),
                ("guide/_index.zh.md", "+++\ntitle = \"手册\"\n+++\n"),
                ("guide/a.md", "+++\ntitle = \"A\"\n+++\n"),
                ("guide/a.zh.md", "+++\ntitle = \"甲\"\n+++\n"),
            ],
            &config,
        );
        let a_zh = by_key(&t, "guide/a.md", "zh");
        assert_eq!(a_zh.path, "/zh/guide/a/");
        assert_eq!(t.entries[a_zh.parent.unwrap()].title, "手册");
        let tr = t.translations(t.by_key[&("guide/a.md".into(), "en".into())], &config);
        assert_eq!(tr.len(), 2);
        assert_eq!(t.entries[t.roots["zh"]].path, "/zh/");
    }

    #[test]
    fn url_clashes_and_unsafe_slugs_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path().join("content");
        std::fs::create_dir_all(&c).unwrap();
        std::fs::write(c.join("a.md"), "+++\nslug = \"b\"\n+++\n").unwrap();
        std::fs::write(c.join("b.md"), "").unwrap();
        std::fs::write(
            c.join("c.md"),
            "+++\ntitle = \"x\"\nslug = \"../../etc\"\n+++\n",
        )
        .unwrap();
        let errs = load(dir.path(), &Config::defaults(), false).unwrap_err();
        let text: Vec<String> = errs.iter().map(|d| d.to_string()).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("URL /b/ is also produced by")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.starts_with("content/c.md:3: slug")),
            "{text:?}"
        );
    }

    #[test]
    fn aliases_stay_inside_the_site() {
        assert_eq!(
            alias_output("/old/page/").as_deref(),
            Some("old/page/index.html")
        );
        assert_eq!(alias_output("old.html").as_deref(), Some("old.html"));
        assert_eq!(alias_output("/../etc/"), None);
        assert_eq!(alias_output("https://evil/"), None);
    }
}

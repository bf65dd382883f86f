//! Building a site: load everything (config, content, templates), then render
//! Markdown and templates in parallel into memory. The files beside the pages
//! (statics, sitemap, redirects) and the writing of the output are in
//! [`super::output`]. Any problem stops the build before the output is
//! swapped in, so the previous output survives a failed build untouched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use rayon::prelude::*;
use tracing::debug;

use super::content::{self, ContentTree, Kind};
use super::context::{
    BaseContext, ChapterPractice, EntryContext, EntrySummary, LanguageHome, LevelStep, NavNode,
    NavRoot, Neighbours, Overview, PracticeLevel, SidebarSection, SiteConfig, Translation,
};
use super::highlight::{self, escape_html};
use super::i18n::{self, Strings};
use super::markdown::{self, LinkResolver, Source};
pub use super::output::json_for_the_web;
use super::output::redirect_page;
pub use super::output::StaticSource;
use super::outputs::{self, Owner};
use super::templates::{self, Templates};
use crate::config::Config;
use crate::diagnostics::{Diagnostic, Diagnostics};

/// Sidebars list at most this many pages of a section; longer sections link
/// to their section page instead, so page size does not grow with the site.
const SIDEBAR_PAGE_LIMIT: usize = 50;

/// A loaded site, ready to render.
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    pub content: ContentTree,
    pub templates: Templates,
    /// Theme strings per language.
    pub strings: Strings,
    /// Assessed repositories, when the site has any.
    pub dashboards: Option<std::sync::Arc<super::dashboards::Dashboards>>,
    /// The maturity model, whose practices link into handbook chapters.
    pub model: crate::model::Model,
    /// The model's and probes' texts in every language of the site.
    pub model_texts: super::model_texts::ModelTexts,
    /// Every URL the site generates.
    pub routes: super::urls::Routes,
    /// The configuration and data files, as the assessment reads them.
    pub workspace: std::sync::Arc<crate::workspace::Workspace>,
    base_path: String,
}

/// One file of the built site, in memory.
pub struct OutputFile {
    /// Path inside the output folder, `/`-separated.
    pub path: String,
    pub bytes: Vec<u8>,
    /// Who writes it, for a clash with another claimant of the path.
    pub owner: Owner,
}

impl OutputFile {
    fn generated(path: impl Into<String>, what: impl Into<String>, bytes: Vec<u8>) -> OutputFile {
        OutputFile {
            path: path.into(),
            bytes,
            owner: Owner::Generated(what.into()),
        }
    }
}

/// What a build produced, for the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub pages: usize,
    pub sections: usize,
    pub files: usize,
    /// Repository reports rendered.
    pub reports: usize,
}

fn fail(problems: Vec<Diagnostic>) -> anyhow::Error {
    anyhow::Error::new(Diagnostics(problems))
}

impl Site {
    /// Loads config, content and templates from `root`. Reports every problem found.
    pub fn load(root: &Path, drafts: bool) -> Result<Site> {
        let t = Instant::now();
        // Configuration, probe catalogue, model and benchmarks: loaded once,
        // shared by the pages and the assessment of the repositories.
        let workspace = crate::workspace::Workspace::load(root)?;
        let config = workspace.config.clone();
        let content_result = content::load(root, &config, drafts);
        let templates_result = templates::load(root, &config);
        let mut problems = Vec::new();
        let strings = i18n::load(root, &config).unwrap_or_else(|mut p| {
            problems.append(&mut p);
            Strings::new()
        });
        let probe_texts = crate::probes::texts(&workspace.catalogue);
        let model_texts = super::model_texts::ModelTexts::load(root, &config, probe_texts)?;
        let content = content_result.unwrap_or_else(|mut p| {
            problems.append(&mut p);
            ContentTree::default()
        });
        let templates = match templates_result {
            Ok(t) => Some(t),
            Err(mut p) => {
                problems.append(&mut p);
                None
            }
        };
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        let templates = templates.expect("no problems means templates loaded");
        debug!(
            "loaded {} content files in {:?}",
            content.entries.len(),
            t.elapsed()
        );
        let base_path = config.base_path();
        let routes = super::urls::Routes::new(&config);
        Ok(Site {
            root: root.to_path_buf(),
            config,
            content,
            templates,
            strings,
            dashboards: None,
            model: workspace.model.clone(),
            model_texts,
            routes,
            workspace: std::sync::Arc::new(workspace),
            base_path,
        })
    }

    /// Renders every Markdown body in parallel. Returns broken `@/` links and
    /// front-matter templates that do not exist.
    pub fn render_markdown(&mut self) -> Vec<Diagnostic> {
        let all: Vec<usize> = (0..self.content.entries.len()).collect();
        self.render_markdown_of(&all)
    }

    /// [`Site::render_markdown`] for the entries `only` (indexes into
    /// `content.entries`): `serve` renders again the bodies that changed.
    pub fn render_markdown_of(&mut self, only: &[usize]) -> Vec<Diagnostic> {
        let t = Instant::now();
        let resolver = Resolver {
            content: &self.content,
            config: &self.config,
            base_path: &self.base_path,
        };
        let rendered: Vec<_> = only
            .par_iter()
            .map(|&i| {
                let e = &self.content.entries[i];
                markdown::render(
                    &e.body,
                    &Source {
                        lang: &e.lang,
                        content_dir: &e.content_dir,
                        line_offset: e.line_offset,
                    },
                    &resolver,
                )
            })
            .collect();
        let mut problems = Vec::new();
        for (&i, r) in only.iter().zip(rendered) {
            let e = &mut self.content.entries[i];
            for (line, target) in &r.broken_links {
                problems.push(Diagnostic::new(
                    &e.file,
                    Some(*line),
                    format!(
                        "link to @/{target}: no such page (expected a file content/{})",
                        target.split('#').next().unwrap_or(target)
                    ),
                ));
            }
            e.rendered = r;
        }
        for e in only.iter().map(|&i| &self.content.entries[i]) {
            if let Some(t) = &e.meta.template {
                if !self.templates.sources.contains_key(t) {
                    problems.push(Diagnostic::new(
                        &e.file,
                        Some(e.key_line("template")),
                        format!("template {t:?} not found in the theme or templates/"),
                    ));
                }
            }
        }
        debug!("rendered Markdown in {:?}", t.elapsed());
        problems.sort();
        problems
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_path, path)
    }

    pub(super) fn permalink(&self, path: &str) -> String {
        match self.config.absolute_base() {
            Some(base) => format!("{base}{path}"),
            None => self.url(path),
        }
    }

    fn summary_of(&self, i: usize) -> EntrySummary<'_> {
        let e = &self.content.entries[i];
        EntrySummary {
            title: &e.title,
            description: e.meta.description.as_deref(),
            url: self.url(&e.path),
            date: e.date.as_deref(),
            weight: e.meta.weight,
            lang: &e.lang,
        }
    }

    fn config_context(&self) -> SiteConfig<'_> {
        SiteConfig {
            title: &self.config.title,
            description: &self.config.description,
            base_url: &self.config.base_url,
            base_path: &self.base_path,
            default_language: &self.config.default_language,
            languages: &self.config.languages,
            extra: &self.config.extra,
        }
    }

    fn nav_tree(&self, section: usize) -> NavNode<'_> {
        let s = &self.content.entries[section];
        NavNode {
            title: &s.title,
            url: self.url(&s.path),
            children: s.subsections.iter().map(|&c| self.nav_tree(c)).collect(),
        }
    }

    /// The fields of an entry every template sees as `page` or `section`.
    fn entry_context(&self, i: usize) -> EntryContext<'_> {
        let e = &self.content.entries[i];
        let translations = self
            .content
            .translations(i, &self.config)
            .into_iter()
            .map(|t| {
                let te = &self.content.entries[t];
                Translation {
                    lang: &te.lang,
                    url: self.url(&te.path),
                    permalink: self.permalink(&te.path),
                    title: Some(&te.title),
                    current: t == i,
                }
            })
            .collect();
        let ancestors = self
            .content
            .ancestors(i)
            .into_iter()
            .map(|a| self.summary_of(a))
            .collect();
        let neighbours = match e.kind {
            Kind::Page => Neighbours::Page {
                earlier: e.earlier.map(|x| self.summary_of(x)),
                later: e.later.map(|x| self.summary_of(x)),
            },
            Kind::Section => Neighbours::Section {
                pages: e.pages.iter().map(|&p| self.summary_of(p)).collect(),
                subsections: e.subsections.iter().map(|&p| self.summary_of(p)).collect(),
            },
        };
        EntryContext {
            title: &e.title,
            description: e.meta.description.as_deref(),
            date: e.date.as_deref(),
            weight: e.meta.weight,
            extra: &e.meta.extra,
            lang: &e.lang,
            url: self.url(&e.path),
            permalink: self.permalink(&e.path),
            content: &e.rendered.html,
            toc: &e.rendered.toc,
            word_count: e.rendered.word_count,
            reading_time: e.rendered.word_count.div_ceil(200).max(1),
            translations,
            ancestors,
            file: e.file.to_string_lossy(),
            practices: self.chapter_practices(&e.key, &e.lang),
            neighbours,
        }
    }

    /// The practices a handbook chapter (`guide/<chapter>.md`) teaches, with the
    /// level each assessed repository reached, in the chapter's language.
    fn chapter_practices(&self, key: &str, lang: &str) -> Option<Vec<ChapterPractice<'_>>> {
        let chapter = key.strip_prefix("guide/")?.strip_suffix(".md")?;
        let list: Vec<ChapterPractice> = self
            .model
            .areas
            .iter()
            .flat_map(|a| a.practices.iter().map(move |p| (a, p)))
            .filter(|(_, p)| p.chapter == chapter)
            .map(|(a, p)| {
                let repos = self
                    .dashboards
                    .iter()
                    .flat_map(|d| d.report.repos.iter())
                    .filter_map(|r| {
                        let score = r.practices.iter().find(|s| s.id == p.id)?;
                        Some(PracticeLevel {
                            name: &r.name,
                            url: self.url(&self.routes.report(lang, &r.slug)),
                            level: score.level,
                            status: score.status,
                            max_level: score.max_level,
                        })
                    })
                    .collect();
                let texts = &self.model_texts;
                let name = texts.practice(lang, &p.id, &p.name);
                let area = texts.area(lang, &a.id, &a.name);
                let levels = p
                    .levels
                    .iter()
                    .map(|l| {
                        let next = texts.next(lang, &p.id, l.level, &l.next);
                        LevelStep {
                            level: l.level,
                            next: next.text,
                            next_lang: next.lang,
                        }
                    })
                    .collect();
                ChapterPractice {
                    id: &p.id,
                    name: name.text,
                    name_lang: name.lang,
                    area: area.text,
                    area_lang: area.lang,
                    max_level: p.levels.len(),
                    levels,
                    repos,
                }
            })
            .collect();
        (!list.is_empty()).then_some(list)
    }

    /// Renders templates for every entry, the 404 page and alias redirects, in memory.
    pub fn render_pages(&self) -> Result<Vec<OutputFile>, Vec<Diagnostic>> {
        self.render_pages_of(None)
    }

    /// [`Site::render_pages`], or with `only`, the pages of those entries
    /// (indexes into `content.entries`) and nothing else: `serve` renders
    /// again the pages whose body changed, then their languages' search
    /// indexes ([`Site::search_index`]). The caller knows that nothing another
    /// page shows changed.
    pub fn render_pages_of(
        &self,
        only: Option<&std::collections::BTreeSet<usize>>,
    ) -> Result<Vec<OutputFile>, Vec<Diagnostic>> {
        let t = Instant::now();
        let wanted = |i: usize| only.is_none_or(|o| o.contains(&i));
        // The sections whose sidebar the wanted entries show.
        let sidebar_sections: Option<std::collections::BTreeSet<usize>> = only.map(|o| {
            o.iter()
                .filter_map(|&i| match self.content.entries[i].kind {
                    Kind::Section => Some(i),
                    Kind::Page => self.content.entries[i].parent,
                })
                .collect()
        });
        let config = self.config_context();
        // Per-language work done once: the navigation tree and the context
        // every page of the language starts from, then one sidebar per section.
        let mut navs: HashMap<&str, NavRoot> = HashMap::new();
        for (lang, &root) in &self.content.roots {
            let pages = self.content.entries[root]
                .pages
                .iter()
                .take(SIDEBAR_PAGE_LIMIT)
                .map(|&p| self.summary_of(p))
                .collect();
            let tree = self.nav_tree(root);
            navs.insert(lang.as_str(), NavRoot { tree, pages });
        }
        let bases: HashMap<&str, tera::Context> = navs
            .iter()
            .map(|(&lang, nav)| Ok((lang, self.base_context(&config, lang, nav)?)))
            .collect::<Result<_, Diagnostic>>()
            .map_err(|d| vec![d])?;
        let sections: Vec<usize> = (0..self.content.entries.len())
            .filter(|&i| self.content.entries[i].kind == Kind::Section)
            .filter(|i| sidebar_sections.as_ref().is_none_or(|s| s.contains(i)))
            .collect();
        let sidebars: Vec<Result<(usize, String), Diagnostic>> = sections
            .par_iter()
            .map(|&s| {
                let e = &self.content.entries[s];
                let pages = e
                    .pages
                    .iter()
                    .take(SIDEBAR_PAGE_LIMIT)
                    .map(|&p| self.summary_of(p))
                    .collect();
                let mut ctx = bases[e.lang.as_str()].clone();
                ctx.insert(
                    "section",
                    &SidebarSection {
                        title: &e.title,
                        url: self.url(&e.path),
                        pages,
                        page_count: e.pages.len(),
                        root: self.content.roots.get(&e.lang) == Some(&s),
                    },
                );
                self.render_template("partials/nav.html", &ctx)
                    .map(|html| (s, html))
            })
            .collect();
        let mut sidebar_of: HashMap<usize, String> = HashMap::new();
        let mut problems = Vec::new();
        for r in sidebars {
            match r {
                Ok((s, html)) => {
                    sidebar_of.insert(s, html);
                }
                Err(d) => problems.push(d),
            }
        }
        if !problems.is_empty() {
            problems.dedup();
            return Err(problems);
        }

        // The overview on each language's home page.
        let overviews: HashMap<&str, Overview> = match &self.dashboards {
            Some(d) => self
                .config
                .languages
                .iter()
                .filter(|lang| {
                    self.content
                        .roots
                        .get(lang.as_str())
                        .is_none_or(|&r| wanted(r))
                })
                .map(|lang| {
                    let loc = self.locale(lang);
                    let mut overview = d.overview_value(&loc);
                    overview.names = Some(loc.names());
                    (lang.as_str(), overview)
                })
                .collect(),
            None => HashMap::new(),
        };
        let results: Vec<Result<OutputFile, (Diagnostic, PathBuf, bool)>> = self
            .content
            .entries
            .par_iter()
            .enumerate()
            .filter(|(i, _)| wanted(*i))
            .map(|(i, e)| {
                let sidebar_section = match e.kind {
                    Kind::Section => Some(i),
                    Kind::Page => e.parent,
                };
                let url = self.url(&e.path);
                let sidebar = sidebar_section
                    .and_then(|s| sidebar_of.get(&s))
                    .map(|html| mark_current(html, &url))
                    .unwrap_or_default();
                let mut ctx = bases[e.lang.as_str()].clone();
                ctx.insert("sidebar", &sidebar);
                ctx.insert("current_url", &url);
                let value = self.entry_context(i);
                let template = match e.kind {
                    Kind::Page => {
                        ctx.insert("page", &value);
                        e.meta
                            .template
                            .clone()
                            .unwrap_or_else(|| "page.html".into())
                    }
                    Kind::Section => {
                        if e.key == "_index.md" {
                            if let Some(o) = overviews.get(e.lang.as_str()) {
                                ctx.insert("names", &o.names);
                                ctx.insert("overview", o);
                            }
                        }
                        ctx.insert("section", &value);
                        let default = if e.key == "_index.md" {
                            "index.html"
                        } else {
                            "section.html"
                        };
                        e.meta.template.clone().unwrap_or_else(|| default.into())
                    }
                };
                let html = self
                    .render_template(&template, &ctx)
                    .map_err(|d| (d, e.file.clone(), e.built_in))?;
                Ok(OutputFile {
                    path: e.output_file(),
                    bytes: html.into_bytes(),
                    owner: Owner::Page {
                        file: e.file.clone(),
                        line: e.meta.slug.as_ref().map(|_| e.key_line("slug")),
                    },
                })
            })
            .collect();
        let mut files = Vec::with_capacity(results.len() + 8);
        let mut failed = Vec::new();
        for r in results {
            match r {
                Ok(f) => files.push(f),
                Err(e) => failed.push(e),
            }
        }
        if !failed.is_empty() {
            return Err(one_problem_per_template_error(failed));
        }
        if only.is_some() {
            debug!("rendered {} files in {:?}", files.len(), t.elapsed());
            return Ok(files);
        }

        // The 404 page, in the default language.
        let lang = &self.config.default_language;
        let mut ctx = bases[lang.as_str()].clone();
        ctx.insert("sidebar", "");
        ctx.insert("current_url", &self.url(super::urls::NOT_FOUND));
        match self.render_template("404.html", &ctx) {
            Ok(html) => files.push(OutputFile::generated(
                super::urls::output_file(super::urls::NOT_FOUND),
                "the 404 page",
                html.into_bytes(),
            )),
            Err(d) => return Err(vec![d]),
        }

        if let Some(d) = &self.dashboards {
            let root_sidebars: HashMap<&str, String> = self
                .content
                .roots
                .iter()
                .map(|(lang, r)| {
                    (
                        lang.as_str(),
                        sidebar_of.get(r).cloned().unwrap_or_default(),
                    )
                })
                .collect();
            files.extend(self.render_dashboards(d, &bases, &root_sidebars)?);
        }

        // Redirects from front-matter aliases.
        for e in &self.content.entries {
            for alias in &e.meta.aliases {
                if let Some(path) = content::alias_output(alias) {
                    files.push(OutputFile {
                        path,
                        bytes: redirect_page(&self.url(&e.path), &self.base_path).into_bytes(),
                        owner: Owner::Alias {
                            file: e.file.clone(),
                            line: e.key_line("aliases"),
                            alias: alias.clone(),
                        },
                    });
                }
            }
        }
        files.push(OutputFile::generated(
            super::urls::output_file(super::urls::HIGHLIGHT_CSS),
            "the code highlighting stylesheet",
            highlight::stylesheet().into_bytes(),
        ));
        files.push(OutputFile::generated(
            super::urls::output_file(super::urls::CHARTS_CSS),
            "the charts' stylesheet",
            super::charts::CHART_CSS.as_bytes().to_vec(),
        ));
        files.push(OutputFile::generated(
            super::urls::output_file(super::urls::SITEMAP),
            "the sitemap",
            self.sitemap().into_bytes(),
        ));
        let statics: std::collections::HashSet<String> =
            self.static_files().into_iter().map(|(p, _)| p).collect();
        let robots = super::urls::output_file(super::urls::ROBOTS);
        if !statics.contains(&robots) {
            // A site's own static/robots.txt replaces this one (documented).
            files.push(OutputFile::generated(
                robots,
                "robots.txt",
                format!(
                    "User-agent: *\nAllow: /\nSitemap: {}\n",
                    self.permalink(super::urls::SITEMAP)
                )
                .into_bytes(),
            ));
        }
        let indexes: Vec<OutputFile> = self
            .content
            .roots
            .keys()
            .collect::<Vec<_>>()
            .par_iter()
            .map(|lang| self.search_index(lang))
            .collect();
        files.extend(indexes);
        let clashes = self.check_owners(&files);
        if !clashes.is_empty() {
            return Err(clashes);
        }
        debug!("rendered {} files in {:?}", files.len(), t.elapsed());
        Ok(files)
    }

    /// The search index of the pages of `lang`.
    pub fn search_index(&self, lang: &str) -> OutputFile {
        let idx = super::search::build(
            self.content
                .entries
                .iter()
                .filter(|e| e.lang == lang && !e.implicit)
                .map(|e| {
                    (
                        e.title.as_str(),
                        self.url(&e.path),
                        e.meta.description.as_deref(),
                        e.rendered.html.as_str(),
                    )
                }),
        );
        OutputFile::generated(
            super::urls::output_file(&super::urls::search_index(lang)),
            format!("the search index of language `{lang}`"),
            json_for_the_web(&idx, false),
        )
    }

    /// Every output path has one owner: rendered files, static files, content
    /// assets and the output marker never claim the same path, nor a file
    /// where another needs a folder.
    fn check_owners(&self, files: &[OutputFile]) -> Vec<Diagnostic> {
        let marker = Owner::Generated("the marker of a folder opsmeter built".into());
        let statics = self.static_sources();
        let claims: Vec<(&str, &Owner)> = std::iter::once((crate::fsutil::OUTPUT_MARKER, &marker))
            .chain(files.iter().map(|f| (f.path.as_str(), &f.owner)))
            .chain(statics.iter().map(|(p, _, o)| (p.as_str(), o)))
            .collect();
        outputs::check(&claims)
    }

    /// A section of a handbook chapter in `lang`: `anchor` is the section's
    /// id in the English chapter; a translation's section is the heading at
    /// the same place in its table of contents (headings are translated, so
    /// their ids differ). The chapter's URL alone when the section is not found.
    pub(super) fn section_url(&self, lang: &str, chapter: &str, anchor: &str) -> Option<String> {
        let key = format!("guide/{chapter}.md");
        let default = self.config.default_language.as_str();
        let entry = self.content.lookup(&key, lang, default)?;
        let url = self.url(&self.content.entries[entry].path);
        fn place(toc: &[super::markdown::TocEntry], id: &str, at: &mut Vec<usize>) -> bool {
            for (n, t) in toc.iter().enumerate() {
                at.push(n);
                if t.id == id || place(&t.children, id, at) {
                    return true;
                }
                at.pop();
            }
            false
        }
        let english = self.content.lookup(&key, "en", default)?;
        let mut at = Vec::new();
        if !place(&self.content.entries[english].rendered.toc, anchor, &mut at) {
            return Some(url);
        }
        let mut toc = &self.content.entries[entry].rendered.toc[..];
        let mut id = None;
        for n in at {
            let Some(t) = toc.get(n) else {
                return Some(url);
            };
            id = Some(&t.id);
            toc = &t.children;
        }
        Some(match id {
            Some(id) => format!("{url}#{id}"),
            None => url,
        })
    }

    /// The words, texts and URLs of dashboard pages in `lang`.
    pub(super) fn locale<'a>(&'a self, lang: &'a str) -> super::dashboards::Locale<'a> {
        super::dashboards::Locale {
            lang,
            words: self.words(lang),
            texts: &self.model_texts,
            model: &self.model,
            routes: &self.routes,
            base_path: &self.base_path,
        }
    }

    /// The theme strings of `lang` (none for a language without a file).
    fn strings_of(&self, lang: &str) -> &std::collections::BTreeMap<String, String> {
        static EMPTY: std::sync::OnceLock<std::collections::BTreeMap<String, String>> =
            std::sync::OnceLock::new();
        self.strings
            .get(lang)
            .unwrap_or_else(|| EMPTY.get_or_init(Default::default))
    }

    fn words(&self, lang: &str) -> i18n::Words<'_> {
        i18n::Words::new(self.strings_of(lang))
    }

    /// The same dashboard page in every language, for the switcher and
    /// `hreflang` alternates: `path_of(lang)` is its path in `lang`.
    fn alternates(&self, lang: &str, path_of: &dyn Fn(&str) -> String) -> Vec<Translation<'_>> {
        self.config
            .languages
            .iter()
            .map(|l| {
                let path = path_of(l);
                Translation {
                    lang: l,
                    url: self.url(&path),
                    permalink: self.permalink(&path),
                    title: None,
                    current: l == lang,
                }
            })
            .collect()
    }

    /// Report and team pages in every language, `/api/report.json`,
    /// `/api/report.csv` and badges.
    /// What every dashboard page (a report, a service, a team) starts from:
    /// the language's base context, its sidebar, and the page's own URL,
    /// permalink and translations (`path_of` gives its path in a language).
    fn dashboard_context(
        &self,
        bases: &HashMap<&str, tera::Context>,
        sidebars: &HashMap<&str, String>,
        lang: &str,
        path_of: &dyn Fn(&str) -> String,
    ) -> tera::Context {
        let path = path_of(lang);
        let mut ctx = bases[lang].clone();
        ctx.insert("sidebar", &sidebars.get(lang).cloned().unwrap_or_default());
        ctx.insert("current_url", &self.url(&path));
        ctx.insert("permalink", &self.permalink(&path));
        ctx.insert("translations", &self.alternates(lang, path_of));
        ctx
    }

    fn render_dashboards(
        &self,
        d: &super::dashboards::Dashboards,
        bases: &HashMap<&str, tera::Context>,
        sidebars: &HashMap<&str, String>,
    ) -> Result<Vec<OutputFile>, Vec<Diagnostic>> {
        let default = self.config.default_language.as_str();
        let pages: Vec<(usize, &str)> = self
            .config
            .languages
            .iter()
            .flat_map(|lang| (0..d.report.repos.len()).map(move |i| (i, lang.as_str())))
            .collect();
        let chapter_url = |lang: &str, chapter: &str| {
            self.content
                .lookup(&format!("guide/{chapter}.md"), lang, default)
                .map(|i| self.url(&self.content.entries[i].path))
        };
        let mut rendered: Vec<Result<OutputFile, Diagnostic>> = pages
            .into_par_iter()
            .map(|(i, lang)| {
                let r = &d.report.repos[i];
                let loc = self.locale(lang);
                let chapter_url = |chapter: &str| chapter_url(lang, chapter);
                let section_url =
                    |chapter: &str, anchor: &str| self.section_url(lang, chapter, anchor);
                let path = self.routes.report(lang, &r.slug);
                let mut ctx = self
                    .dashboard_context(bases, sidebars, lang, &|l| self.routes.report(l, &r.slug));
                ctx.insert("report", &d.repo_value(i, &loc, &chapter_url, &section_url));
                ctx.insert("names", &loc.names());
                ctx.insert("overview_url", &self.url(&self.routes.home(lang)));
                let html = self.render_template("report.html", &ctx)?;
                Ok(OutputFile::generated(
                    super::urls::output_file(&path),
                    if lang == default {
                        format!("the report of repository `{}`", r.name)
                    } else {
                        format!("the `{lang}` report of repository `{}`", r.name)
                    },
                    html.into_bytes(),
                ))
            })
            .collect();
        // Each service's report, in every language.
        let service_pages: Vec<(usize, usize, &str)> = self
            .config
            .languages
            .iter()
            .flat_map(|lang| {
                d.report.repos.iter().enumerate().flat_map(move |(i, r)| {
                    let n = r.services.as_ref().map_or(0, Vec::len);
                    (0..n).map(move |k| (i, k, lang.as_str()))
                })
            })
            .collect();
        rendered.par_extend(service_pages.into_par_iter().map(|(i, k, lang)| {
            let r = &d.report.repos[i];
            let Some(s) = r.services.as_ref().and_then(|list| list.get(k)) else {
                return Err(Diagnostic::new(
                    "opsmeter.toml",
                    None,
                    format!("service {k} of repository `{}` is missing", r.name),
                ));
            };
            let loc = self.locale(lang);
            let chapter_url = |chapter: &str| chapter_url(lang, chapter);
            let section_url = |chapter: &str, anchor: &str| self.section_url(lang, chapter, anchor);
            let path = self.routes.service(lang, &r.slug, &s.slug);
            let mut ctx = self.dashboard_context(bases, sidebars, lang, &|l| {
                self.routes.service(l, &r.slug, &s.slug)
            });
            if let Some(report) = d.service_report_value(i, k, &loc, &chapter_url) {
                ctx.insert("report", &report);
            }
            ctx.insert("service", &d.service_value(i, k, &loc, &section_url));
            ctx.insert("names", &loc.names());
            ctx.insert("overview_url", &self.url(&self.routes.home(lang)));
            let html = self.render_template("service.html", &ctx)?;
            Ok(OutputFile::generated(
                super::urls::output_file(&path),
                if lang == default {
                    format!(
                        "the report of service `{}` of repository `{}`",
                        s.name, r.name
                    )
                } else {
                    format!(
                        "the `{lang}` report of service `{}` of repository `{}`",
                        s.name, r.name
                    )
                },
                html.into_bytes(),
            ))
        }));
        let mut files = Vec::new();
        let mut problems = Vec::new();
        for p in rendered {
            match p {
                Ok(f) => files.push(f),
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            problems.dedup();
            return Err(problems);
        }
        for lang in &self.config.languages {
            let lang = lang.as_str();
            let loc = self.locale(lang);
            for team in &d.teams {
                let path = self.routes.team(lang, &team.slug);
                let mut ctx = self
                    .dashboard_context(bases, sidebars, lang, &|l| self.routes.team(l, &team.slug));
                ctx.insert("team", &team.name);
                ctx.insert("overview", &d.overview_of(&team.members, Some(team), &loc));
                ctx.insert("names", &loc.names());
                ctx.insert("overview_url", &self.url(&self.routes.home(lang)));
                let html = self
                    .render_template("team.html", &ctx)
                    .map_err(|e| vec![e])?;
                files.push(OutputFile::generated(
                    super::urls::output_file(&path),
                    if lang == self.config.default_language {
                        format!("the page of team `{}`", team.name)
                    } else {
                        format!("the `{lang}` page of team `{}`", team.name)
                    },
                    html.into_bytes(),
                ));
            }
        }
        files.push(OutputFile::generated(
            super::urls::output_file(super::urls::REPORT_JSON),
            "the JSON report",
            json_for_the_web(&d.report, true),
        ));
        files.push(OutputFile::generated(
            super::urls::output_file(super::urls::REPORT_CSV),
            "the CSV report",
            super::reports::report_csv(&d.report).into_bytes(),
        ));
        for r in &d.report.repos {
            files.push(OutputFile::generated(
                super::urls::output_file(&super::urls::badge(&r.slug)),
                format!("the badge of repository `{}`", r.name),
                super::reports::badge(r).into_bytes(),
            ));
        }
        Ok(files)
    }

    /// The context every template of `lang` starts from (config, language,
    /// its strings, navigation, homes), built once per language.
    fn base_context(
        &self,
        config: &SiteConfig,
        lang: &str,
        nav: &NavRoot,
    ) -> Result<tera::Context, Diagnostic> {
        let language_homes = self
            .content
            .roots
            .iter()
            .map(|(l, &r)| LanguageHome {
                lang: l,
                url: self.url(&self.content.entries[r].path),
            })
            .collect();
        let home_url = self
            .content
            .roots
            .get(lang)
            .map(|&r| self.url(&self.content.entries[r].path))
            .unwrap_or_else(|| self.url(&self.routes.home(lang)));
        let base = BaseContext {
            config,
            lang,
            t: self.strings_of(lang),
            nav,
            search_index: self.url(&super::urls::search_index(lang)),
            language_homes,
            home_url,
        };
        tera::Context::from_serialize(&base).map_err(|e| {
            Diagnostic::new(
                "opsmeter.toml",
                None,
                format!("the values given to the templates of language `{lang}` (`[extra]`) cannot be used: {e}"),
            )
        })
    }

    fn render_template(&self, name: &str, ctx: &tera::Context) -> Result<String, Diagnostic> {
        self.templates.render(name, ctx)
    }

    pub fn summary(&self, files: usize) -> Summary {
        let pages = self
            .content
            .entries
            .iter()
            .filter(|e| e.kind == Kind::Page)
            .count();
        Summary {
            pages,
            sections: self.content.entries.len() - pages,
            files,
            reports: self
                .dashboards
                .as_ref()
                .map(|d| d.report.repos.len())
                .unwrap_or(0),
        }
    }
}

/// A template error is said once, naming the page it was rendering (a
/// page of the site's own rather than of the built-in handbook) and how many
/// other pages failed the same way.
fn one_problem_per_template_error(failed: Vec<(Diagnostic, PathBuf, bool)>) -> Vec<Diagnostic> {
    let mut groups: Vec<(Diagnostic, Vec<(bool, PathBuf)>)> = Vec::new();
    for (d, page, built_in) in failed {
        match groups.iter_mut().find(|(g, _)| *g == d) {
            Some((_, pages)) => pages.push((built_in, page)),
            None => groups.push((d, vec![(built_in, page)])),
        }
    }
    let mut problems: Vec<Diagnostic> = groups
        .into_iter()
        .map(|(mut d, mut pages)| {
            pages.sort();
            let first = pages[0].1.display();
            d.message = match pages.len() - 1 {
                0 => format!("{} (rendering {first})", d.message),
                1 => format!("{} (rendering {first} and 1 other page)", d.message),
                n => format!("{} (rendering {first} and {n} other pages)", d.message),
            };
            d
        })
        .collect();
    problems.sort();
    problems
}

struct Resolver<'a> {
    content: &'a ContentTree,
    config: &'a Config,
    base_path: &'a str,
}

impl LinkResolver for Resolver<'_> {
    fn resolve(&self, path: &str, lang: &str) -> Option<String> {
        self.content
            .lookup(path, lang, &self.config.default_language)
            .map(|i| format!("{}{}", self.base_path, self.content.entries[i].path))
    }
    fn base_path(&self) -> &str {
        self.base_path
    }
}

/// Marks the sidebar link to the current page with `aria-current="page"`.
fn mark_current(sidebar: &str, url: &str) -> String {
    let needle = format!("href=\"{}\"", escape_html(url));
    sidebar.replacen(&needle, &format!("{needle} aria-current=\"page\""), 1)
}

/// Options of `opsmeter build`.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub root: PathBuf,
    pub output: PathBuf,
    pub drafts: bool,
    /// The window and strictness of the repository assessments.
    pub dashboards: super::dashboards::DashboardOptions,
}

/// Loads, renders and writes a site. On any problem, nothing is written.
/// Highlighted code is kept between builds (see [`highlight::load_stored`]).
pub fn build(opts: &BuildOptions) -> Result<Summary> {
    highlight::load_stored(&opts.root);
    let summary = build_reusing(opts, None)?.0;
    highlight::save_stored(&opts.root);
    Ok(summary)
}

/// As [`build`], reusing already assessed dashboards when given (`serve`
/// re-renders on a content edit without re-collecting git facts). Returns the
/// dashboards used, for the next rebuild.
pub fn build_reusing(
    opts: &BuildOptions,
    dashboards: Option<std::sync::Arc<super::dashboards::Dashboards>>,
) -> Result<(
    Summary,
    Option<std::sync::Arc<super::dashboards::Dashboards>>,
)> {
    let started = Instant::now();
    crate::fsutil::check_output(&opts.root, &opts.output)?;
    let mut site = Site::load(&opts.root, opts.drafts)?;
    site.dashboards = match dashboards {
        Some(d) => Some(d),
        None => super::dashboards::assess_site(&site.workspace, &opts.dashboards)?
            .map(std::sync::Arc::new),
    };
    let problems = site.render_markdown();
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    let files = site.render_pages().map_err(fail)?;
    let count = site.write(&files, &opts.output)?;
    debug!("build finished in {:?}", started.elapsed());
    Ok((site.summary(count), site.dashboards.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_error_is_said_once_naming_a_page_of_the_site() {
        let d = |m: &str| Diagnostic::new("templates/page.html", Some(3), m);
        let failed = vec![
            (
                d("boom"),
                PathBuf::from("<built-in handbook>/guide/a.md"),
                true,
            ),
            (d("boom"), PathBuf::from("content/z.md"), false),
            (
                d("boom"),
                PathBuf::from("<built-in handbook>/guide/b.md"),
                true,
            ),
            (d("other"), PathBuf::from("content/y.md"), false),
            (d("once"), PathBuf::from("content/x.md"), false),
            (d("once"), PathBuf::from("content/w.md"), false),
        ];
        let text: Vec<String> = one_problem_per_template_error(failed)
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            text,
            vec![
                "templates/page.html:3: boom (rendering content/z.md and 2 other pages)",
                "templates/page.html:3: once (rendering content/w.md and 1 other page)",
                "templates/page.html:3: other (rendering content/y.md)",
            ]
        );
    }
}

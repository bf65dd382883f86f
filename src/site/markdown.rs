//! Markdown to HTML: pulldown-cmark with the extensions a handbook needs, plus
//! what a site generator adds on top: heading anchors and a table of contents,
//! highlighted code, `@/page.md` links resolved to URLs, and a record of every
//! internal link and image so `check` can verify them.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use super::highlight::{escape_html, highlight};
use crate::diagnostics::LineIndex;

/// One heading in the table of contents, with the headings nested under it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TocEntry {
    pub level: u32,
    pub id: String,
    pub title: String,
    pub children: Vec<TocEntry>,
}

/// A link to another content file (`@/path.md#anchor`) or to an anchor on the same page.
#[derive(Debug, Clone, PartialEq)]
pub struct InternalLink {
    /// Content path of the target (`guide/testing.md`), or `None` for `#anchor` on this page.
    pub target: Option<String>,
    pub anchor: Option<String>,
    /// Line in the source file.
    pub line: usize,
}

/// An image reference, resolved against the content tree or the site root.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRef {
    /// What the Markdown said.
    pub src: String,
    /// For local images: the path it must exist at, relative to `content/` (for
    /// relative and `@/` sources) or to the static folders (for `/…` sources).
    pub local: Option<LocalAsset>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LocalAsset {
    Content(String),
    Static(String),
}

/// How a page's links are turned into URLs.
pub trait LinkResolver {
    /// URL of the content file at `path` (`guide/testing.md`) for a reader of `lang`.
    fn resolve(&self, path: &str, lang: &str) -> Option<String>;
    /// URL prefix of the site (`""` or `/sub`).
    fn base_path(&self) -> &str;
}

/// The rendered body of one content file.
#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub toc: Vec<TocEntry>,
    /// Every heading id on the page.
    pub anchors: Vec<String>,
    pub links: Vec<InternalLink>,
    pub images: Vec<ImageRef>,
    /// `@/` links whose target does not exist: (line, target).
    pub broken_links: Vec<(usize, String)>,
    /// Links written as site paths (`/guide/testing/`), for `check`: (line, path).
    pub path_links: Vec<(usize, String)>,
    pub word_count: usize,
}

/// Where a file sits: its language and its folder inside `content/` (`guide/`, or `""`).
pub struct Source<'a> {
    pub lang: &'a str,
    pub content_dir: &'a str,
    /// Lines before the body in the file.
    pub line_offset: usize,
}

pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION
}

/// Renders `body` to HTML, resolving links with `resolver`.
pub fn render(body: &str, source: &Source<'_>, resolver: &dyn LinkResolver) -> Rendered {
    let mut out = Rendered::default();
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut slugs = SlugSet::default();
    let mut headings: Vec<(u32, String, String)> = Vec::new();
    let lines = LineIndex::new(body);
    let line_at = |offset: usize| lines.line_of(offset) + source.line_offset;

    let parser = Parser::new_ext(body, options()).into_offset_iter();
    // Heading state: index of the Start event, and the text collected so far.
    let mut heading: Option<(usize, String)> = None;
    let mut code: Option<(String, String)> = None;

    for (event, range) in parser {
        if let Some((lang, text)) = code.as_mut() {
            match event {
                Event::Text(t) => text.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    let html = highlight(text, lang);
                    events.push(Event::Html(CowStr::from(html)));
                    code = None;
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::TaskListMarker(done) => {
                // pulldown-cmark's checkbox has no label; screen readers need one.
                let label = match (source.lang, done) {
                    ("zh", true) => "已完成",
                    ("zh", false) => "未完成",
                    (_, true) => "done",
                    (_, false) => "not done",
                };
                let checked = if done { " checked=\"\"" } else { "" };
                events.push(Event::Html(CowStr::from(format!(
                    "<input disabled=\"\" type=\"checkbox\"{checked} aria-label=\"{label}\"/>\n"
                ))));
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => l.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            Event::Start(Tag::Heading { .. }) => {
                heading = Some((events.len(), String::new()));
                events.push(event);
            }
            Event::End(TagEnd::Heading(level)) => {
                if let Some((start, text)) = heading.take() {
                    let title = text.trim().to_string();
                    let id = match &events[start] {
                        Event::Start(Tag::Heading { id: Some(id), .. }) => slugs.claim(id),
                        _ => slugs.claim(&slugify(&title)),
                    };
                    if let Event::Start(Tag::Heading {
                        level,
                        classes,
                        attrs,
                        ..
                    }) = &events[start]
                    {
                        events[start] = Event::Start(Tag::Heading {
                            level: *level,
                            id: Some(CowStr::from(id.clone())),
                            classes: classes.clone(),
                            attrs: attrs.clone(),
                        });
                    }
                    events.push(Event::Html(CowStr::from(format!(
                        " <a class=\"anchor\" href=\"#{}\" aria-hidden=\"true\">#</a>",
                        escape_html(&id)
                    ))));
                    headings.push((heading_level(level), id.clone(), title));
                    out.anchors.push(id);
                }
                events.push(event);
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let line = line_at(range.start);
                let dest = rewrite_link(&dest_url, line, source, resolver, &mut out);
                events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let line = line_at(range.start);
                let dest = rewrite_image(&dest_url, line, source, resolver, &mut out);
                events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                }));
            }
            Event::Text(ref t) | Event::Code(ref t) => {
                if let Some((_, h)) = heading.as_mut() {
                    h.push_str(t);
                }
                out.word_count += count_words(t);
                events.push(event);
            }
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    out.html = html;
    out.toc = nest_toc(headings);
    out
}

fn heading_level(level: HeadingLevel) -> u32 {
    level as u32
}

/// Words for reading time: runs of letters, with each CJK character a word.
fn count_words(text: &str) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for c in text.chars() {
        if is_cjk(c) {
            n += 1;
            in_word = false;
        } else if c.is_alphanumeric() {
            if !in_word {
                n += 1;
                in_word = true;
            }
        } else {
            in_word = false;
        }
    }
    n
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

fn has_scheme(url: &str) -> bool {
    match url.find(':') {
        Some(i) => url[..i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')),
        None => false,
    }
}

fn split_anchor(s: &str) -> (&str, Option<&str>) {
    match s.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (s, None),
    }
}

fn rewrite_link<'a>(
    dest: &CowStr<'a>,
    line: usize,
    source: &Source<'_>,
    resolver: &dyn LinkResolver,
    out: &mut Rendered,
) -> CowStr<'a> {
    if let Some(target) = dest.strip_prefix("@/") {
        let (path, anchor) = split_anchor(target);
        out.links.push(InternalLink {
            target: Some(path.to_string()),
            anchor: anchor.map(str::to_string),
            line,
        });
        return match resolver.resolve(path, source.lang) {
            Some(url) => match anchor {
                Some(a) => CowStr::from(format!("{url}#{a}")),
                None => CowStr::from(url),
            },
            None => {
                out.broken_links.push((line, target.to_string()));
                dest.clone()
            }
        };
    }
    if dest.starts_with('/') && !dest.starts_with("//") {
        out.path_links.push((line, dest.to_string()));
    }
    if let Some(anchor) = dest.strip_prefix('#') {
        out.links.push(InternalLink {
            target: None,
            anchor: Some(anchor.to_string()),
            line,
        });
    }
    dest.clone()
}

fn rewrite_image<'a>(
    dest: &CowStr<'a>,
    line: usize,
    source: &Source<'_>,
    resolver: &dyn LinkResolver,
    out: &mut Rendered,
) -> CowStr<'a> {
    let src = dest.to_string();
    if has_scheme(&src) || src.starts_with("//") {
        out.images.push(ImageRef {
            src,
            local: None,
            line,
        });
        return dest.clone();
    }
    let (path, _) = split_anchor(&src);
    let path = path.split('?').next().unwrap_or(path);
    let (local, url) = if let Some(p) = path.strip_prefix("@/") {
        let p = normalise(p);
        let url = format!("{}/{}", resolver.base_path(), p);
        (LocalAsset::Content(p), url)
    } else if let Some(p) = path.strip_prefix('/') {
        let p = normalise(p);
        let url = format!("{}/{}", resolver.base_path(), p);
        (LocalAsset::Static(p), url)
    } else {
        let p = normalise(&format!("{}{}", source.content_dir, path));
        let url = format!("{}/{}", resolver.base_path(), p);
        (LocalAsset::Content(p), url)
    };
    out.images.push(ImageRef {
        src,
        local: Some(local),
        line,
    });
    CowStr::from(url)
}

/// Resolves `.` and `..` in a relative path; `..` above the root is dropped.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn nest_toc(headings: Vec<(u32, String, String)>) -> Vec<TocEntry> {
    fn insert(list: &mut Vec<TocEntry>, entry: TocEntry) {
        if let Some(last) = list.last_mut() {
            if entry.level > last.level {
                insert(&mut last.children, entry);
                return;
            }
        }
        list.push(entry);
    }
    let mut toc = Vec::new();
    for (level, id, title) in headings {
        insert(
            &mut toc,
            TocEntry {
                level,
                id,
                title,
                children: Vec::new(),
            },
        );
    }
    toc
}

/// A URL fragment for a heading: lowercase, letters and digits of any script
/// kept (so Chinese headings keep their characters), spaces and dashes joined
/// by single `-`, other punctuation dropped.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.extend(c.to_lowercase());
        } else if c.is_whitespace() || c == '-' || c == '_' {
            dash = true;
        }
    }
    if slug.is_empty() {
        "section".to_string()
    } else {
        slug
    }
}

/// Keeps heading ids unique on a page: the second "Setup" becomes `setup-1`.
#[derive(Default)]
struct SlugSet {
    used: std::collections::HashSet<String>,
}

impl SlugSet {
    fn claim(&mut self, base: &str) -> String {
        if self.used.insert(base.to_string()) {
            return base.to_string();
        }
        let mut i = 1;
        loop {
            let candidate = format!("{base}-{i}");
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl LinkResolver for Fixed {
        fn resolve(&self, path: &str, lang: &str) -> Option<String> {
            (path == "guide/a.md").then(|| {
                if lang == "zh" {
                    "/zh/guide/a/".to_string()
                } else {
                    "/guide/a/".to_string()
                }
            })
        }
        fn base_path(&self) -> &str {
            ""
        }
    }

    fn render_en(body: &str) -> Rendered {
        render(
            body,
            &Source {
                lang: "en",
                content_dir: "guide/",
                line_offset: 3,
            },
            &Fixed,
        )
    }

    #[test]
    fn slugs_keep_chinese_and_drop_punctuation() {
        assert_eq!(slugify("Hello, World!"), "hello-world");
        assert_eq!(slugify("持续集成 (CI)"), "持续集成-ci");
        assert_eq!(slugify("  A -- B  "), "a-b");
        assert_eq!(slugify("!!!"), "section");
    }

    #[test]
    fn headings_get_unique_ids_and_nested_toc() {
        let r = render_en("# One\n## Two\n## Two\n# Three\n");
        assert_eq!(r.anchors, vec!["one", "two", "two-1", "three"]);
        assert_eq!(r.toc.len(), 2);
        assert_eq!(r.toc[0].children.len(), 2);
        assert_eq!(r.toc[0].children[1].id, "two-1");
        assert!(r
            .html
            .contains("<h1 id=\"one\">One <a class=\"anchor\" href=\"#one\""));
    }

    #[test]
    fn at_links_resolve_per_language_and_broken_ones_are_reported_with_line() {
        let r = render_en("text\n\n[a](@/guide/a.md#x) and [b](@/guide/missing.md)\n");
        assert!(r.html.contains("href=\"/guide/a/#x\""), "{}", r.html);
        assert_eq!(r.broken_links, vec![(6, "guide/missing.md".to_string())]);
        assert_eq!(r.links.len(), 2);
        assert_eq!(r.links[0].anchor.as_deref(), Some("x"));
    }

    #[test]
    fn relative_images_point_into_the_content_tree() {
        let r = render_en("![d](img/d.png) ![s](/logo.svg) ![w](https://x/y.png)\n");
        assert!(r.html.contains("src=\"/guide/img/d.png\""), "{}", r.html);
        assert_eq!(
            r.images[0].local,
            Some(LocalAsset::Content("guide/img/d.png".into()))
        );
        assert_eq!(
            r.images[1].local,
            Some(LocalAsset::Static("logo.svg".into()))
        );
        assert_eq!(r.images[2].local, None);
    }

    #[test]
    fn extensions_are_on() {
        let r = render_en("| a |\n|---|\n| b |\n\n~~x~~ [^1]\n\n- [x] done\n\n[^1]: note\n");
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("<del>x</del>"));
        assert!(r.html.contains("type=\"checkbox\""));
        assert!(r.html.contains("footnote-definition"));
    }

    #[test]
    fn code_is_highlighted_and_raw_text_escaped() {
        let r = render_en("```rust\nlet x = \"<s>\";\n```\n");
        assert!(r.html.contains("data-lang=\"rust\""));
        assert!(r.html.contains("&lt;s&gt;"));
        assert!(!r.html.contains("<s>"));
    }
}

//! tera templates, layered: the embedded default theme, then the theme folder
//! on disk (`themes/<theme>/templates/`), then the site's own `templates/`.
//! Each later layer replaces single files of the one before.
//!
//! Parsing is most of the cost of loading them, and most of the default
//! theme is dashboards ([`theme::DASHBOARD_TEMPLATES`]), which a content-only
//! site never renders. So the default theme's dashboard templates that the
//! site does not replace are left out of the first parse, unless a parsed
//! template extends or imports one, or includes one in a way a missing
//! template would change silently (a list of names, `ignore missing`). The
//! first render that asks for one of them, by name or by a plain `include`
//! (which fails with "template not found" without them), is made again with
//! every template: the same [`Tera`] plus those, parsed once per process.
//! Every file of the site and of its theme folder is still parsed at load,
//! so their errors are reported there; the embedded templates parse (tested).
//!
//! tera has no limit on how deep includes and macro calls nest, so a template
//! that includes itself (or a macro that calls itself without end) would
//! overflow the stack and kill the process, `serve` included. Every template
//! body and macro body is therefore wrapped, after parsing, in two calls that
//! count the nesting on the rendering thread; past [`MAX_NESTING`] the render
//! stops with an error naming the template, the line and the cycle.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::prelude::*;
use tera::ast::{Expr, ExprVal, FunctionCall, Node, WS};
use tera::{Template, Tera, Value};
use walkdir::WalkDir;

use super::theme;
use crate::config::Config;
use crate::diagnostics::{display_path, Diagnostic};

/// How deep includes and macro calls may nest in one render. A real theme
/// nests a few levels (a table of contents once per heading level); a render
/// thread's stack holds several hundred levels even in a debug build.
pub const MAX_NESTING: usize = 64;

/// The functions wrapped around every template and macro body.
const ENTER: &str = "__opsmeter_enter";
const LEAVE: &str = "__opsmeter_leave";

/// Loaded templates, with where each came from for error messages.
pub struct Templates {
    /// Every template but the deferred ones.
    tera: Tera,
    /// Default-theme dashboard templates not parsed yet (see the module's doc).
    deferred: BTreeSet<String>,
    /// `tera` with the deferred templates too, made on first need.
    full: OnceLock<Result<Tera, Diagnostic>>,
    /// Template name → file it was read from (`templates/page.html`, `<embedded>/page.html`).
    pub sources: BTreeMap<String, PathBuf>,
    /// Template name → its text, to find the line of a runtime error.
    texts: BTreeMap<String, String>,
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
    // Dashboard templates of the default theme; a file on disk of the same
    // name takes its place (and is parsed now) below.
    let mut deferred: BTreeSet<String> = theme::DASHBOARD_TEMPLATES
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut problems = Vec::new();
    let theme = theme_dir(root, config);
    if theme.is_none() && config.theme != "default" {
        let line = std::fs::read_to_string(root.join(crate::config::CONFIG_FILE))
            .ok()
            .and_then(|text| crate::diagnostics::toml_key_line(&text, "theme"));
        return Err(vec![Diagnostic::new(
            crate::config::CONFIG_FILE,
            line,
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
            match crate::diagnostics::read_text(item.path(), &shown) {
                Ok(text) => {
                    deferred.remove(&name);
                    files.insert(name, (shown, text));
                }
                Err(d) => problems.push(d),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Templates::new(files, deferred).map_err(|d| vec![d])
}

impl Templates {
    /// Templates from (name → (file, text)), those of `deferred` parsed on first need.
    fn new(
        files: BTreeMap<String, (PathBuf, String)>,
        deferred: BTreeSet<String>,
    ) -> Result<Templates, Diagnostic> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html", ".htm", ".xml", ".svg"]);
        // Escape what HTML needs, and leave `/` alone so URLs stay readable.
        tera.set_escape_fn(super::highlight::escape_html);
        super::filters::register(&mut tera);
        tera.register_function(ENTER, enter);
        tera.register_function(LEAVE, leave);
        let sources: BTreeMap<String, PathBuf> = files
            .iter()
            .map(|(n, (p, _))| (n.clone(), p.clone()))
            .collect();
        let texts: BTreeMap<String, String> = files.into_iter().map(|(n, (_, t))| (n, t)).collect();
        let mut templates = Templates {
            tera,
            deferred,
            full: OnceLock::new(),
            sources,
            texts,
        };
        if let Err(e) = templates.parse_now() {
            return Err(templates.error(&e));
        }
        let names: Vec<String> = templates.tera.templates.keys().cloned().collect();
        guard_nesting(&mut templates.tera, &names);
        Ok(templates)
    }
}

/// Parses `names` (each one's text in `texts`), in parallel; the first error
/// in name order, as tera's `add_raw_templates` gives it.
fn parse_all(names: &[&String], texts: &BTreeMap<String, String>) -> tera::Result<Vec<Template>> {
    names
        .par_iter()
        .map(|name| {
            Template::new(name, None, &texts[*name])
                .map_err(|e| tera::Error::chain(format!("Failed to parse '{name}'"), e))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// The deferred templates that `template` needs at parse time (extends,
/// imports), or includes so that their absence would pass unnoticed (a list
/// of names, or `ignore missing`).
fn needed_now(template: &Template, deferred: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    fn walk(nodes: &[Node], deferred: &BTreeSet<String>, out: &mut BTreeSet<String>) {
        for node in nodes {
            match node {
                Node::Include(_, names, ignore_missing) if *ignore_missing || names.len() > 1 => {
                    out.extend(names.iter().filter(|n| deferred.contains(*n)).cloned());
                }
                Node::MacroDefinition(_, m, _) => walk(&m.body, deferred, out),
                Node::FilterSection(_, f, _) => walk(&f.body, deferred, out),
                Node::Block(_, b, _) => walk(&b.body, deferred, out),
                Node::Forloop(_, f, _) => {
                    walk(&f.body, deferred, out);
                    walk(f.empty_body.as_deref().unwrap_or_default(), deferred, out);
                }
                Node::If(i, _) => {
                    for (_, _, body) in &i.conditions {
                        walk(body, deferred, out);
                    }
                    walk(
                        i.otherwise.as_ref().map_or(&[][..], |(_, b)| b),
                        deferred,
                        out,
                    );
                }
                _ => {}
            }
        }
    }
    let at_parse = template
        .parent
        .iter()
        .chain(template.imported_macro_files.iter().map(|(file, _)| file));
    out.extend(at_parse.filter(|n| deferred.contains(*n)).cloned());
    walk(&template.ast, deferred, out);
}

impl Templates {
    /// Parses every template but the deferred ones (and those the others
    /// need now), then links them as `add_raw_templates` does.
    fn parse_now(&mut self) -> tera::Result<()> {
        let mut todo: Vec<&String> = self
            .texts
            .keys()
            .filter(|n| !self.deferred.contains(*n))
            .collect();
        let mut parsed = Vec::new();
        while !todo.is_empty() {
            let batch = parse_all(&todo, &self.texts)?;
            let mut wanted = BTreeSet::new();
            for t in &batch {
                needed_now(t, &self.deferred, &mut wanted);
            }
            parsed.extend(batch);
            for n in &wanted {
                self.deferred.remove(n);
            }
            todo = self.texts.keys().filter(|n| wanted.contains(*n)).collect();
        }
        for t in parsed {
            self.tera.templates.insert(t.name.clone(), t);
        }
        self.tera.build_inheritance_chains()?;
        self.tera.check_macro_files()
    }

    /// Every template: the loaded ones and the deferred, parsed on first call.
    fn full(&self) -> Result<&Tera, Diagnostic> {
        self.full
            .get_or_init(|| {
                let mut tera = self.tera.clone();
                let names: Vec<&String> = self.deferred.iter().collect();
                let linked = parse_all(&names, &self.texts).and_then(|parsed| {
                    for t in parsed {
                        tera.templates.insert(t.name.clone(), t);
                    }
                    tera.build_inheritance_chains()?;
                    tera.check_macro_files()
                });
                match linked {
                    Ok(()) => {
                        let names: Vec<String> = self.deferred.iter().cloned().collect();
                        guard_nesting(&mut tera, &names);
                        tracing::debug!("parsed {} dashboard templates", names.len());
                        Ok(tera)
                    }
                    Err(e) => Err(self.error(&e)),
                }
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Whether a render failed because a template it includes does not exist.
fn template_not_found(e: &tera::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(tera::Error {
            kind: tera::ErrorKind::TemplateNotFound(_),
            ..
        }) = err.downcast_ref::<tera::Error>()
        {
            return true;
        }
        cur = err.source();
    }
    false
}

impl Templates {
    /// Renders template `name`: the output, or a diagnostic naming the
    /// template file and, where it can be found, the line.
    pub fn render(&self, name: &str, ctx: &tera::Context) -> Result<String, Diagnostic> {
        let result = if self.deferred.contains(name) {
            self.render_with(self.full()?, name, ctx)
        } else {
            match self.render_with(&self.tera, name, ctx) {
                // A plain `include` of a deferred template: again with all of them.
                Err(Rendering::Failed(e))
                    if !self.deferred.is_empty() && template_not_found(&e) =>
                {
                    self.render_with(self.full()?, name, ctx)
                }
                result => result,
            }
        };
        result.map_err(|failure| match failure {
            Rendering::TooDeep(frames) => self.nesting_error(&frames),
            Rendering::Failed(e) => self.error(&e),
        })
    }

    fn render_with(
        &self,
        tera: &Tera,
        name: &str,
        ctx: &tera::Context,
    ) -> Result<String, Rendering> {
        FRAMES.with(|f| f.borrow_mut().clear());
        TOO_DEEP.with(|t| t.borrow_mut().take());
        let result = tera.render(name, ctx);
        FRAMES.with(|f| f.borrow_mut().clear());
        result.map_err(|e| match TOO_DEEP.with(|t| t.borrow_mut().take()) {
            Some(frames) => Rendering::TooDeep(frames),
            None => Rendering::Failed(e),
        })
    }

    /// A tera error turned into a diagnostic naming the template file and the
    /// line: tera's own for syntax errors; for the others, the first line of
    /// the template that holds what the message names (the variable, the
    /// filter, the included template, the `extends`).
    pub fn error(&self, e: &tera::Error) -> Diagnostic {
        let mut chain = vec![e.to_string()];
        let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
        while let Some(s) = cur {
            chain.push(s.to_string());
            cur = s.source();
        }
        let full = chain.join("\n");
        // The innermost template named: "… while rendering 'partials/nav.html'",
        // else "Failed to parse 'page.html'", "Failed to render 'page.html'", or
        // an inheritance error naming a template.
        let name = chain
            .iter()
            .rev()
            .find_map(|m| quoted_after(m, "while rendering '"))
            .or_else(|| {
                chain.iter().find_map(|m| {
                    quoted_after(m, "Failed to parse '")
                        .or_else(|| quoted_after(m, "Failed to render '"))
                })
            })
            .or_else(|| {
                self.sources
                    .keys()
                    .find(|n| full.contains(&format!("'{n}'")))
                    .cloned()
            });
        let parse_line = full
            .split("--> ")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.trim().parse::<usize>().ok());
        let (name, line) = match parse_line {
            Some(l) => (name, Some(l)),
            None => self.locate(name, &needles(&chain)),
        };
        let file = name
            .as_ref()
            .and_then(|n| self.sources.get(n).cloned())
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

    /// The template and line holding the first of `needles` found: in the
    /// template `name` first, else in the one other template that holds it.
    fn locate(&self, name: Option<String>, needles: &[String]) -> (Option<String>, Option<usize>) {
        for needle in needles {
            if let Some(line) = name
                .as_ref()
                .and_then(|n| self.texts.get(n))
                .and_then(|text| line_containing(text, needle))
            {
                return (name, Some(line));
            }
            let holders: Vec<(&String, usize)> = self
                .texts
                .iter()
                .filter_map(|(n, text)| line_containing(text, needle).map(|l| (n, l)))
                .collect();
            if let [(n, line)] = holders[..] {
                return (Some(n.clone()), Some(line));
            }
        }
        (name, None)
    }

    /// The error for a render that nested past [`MAX_NESTING`]: the cycle in
    /// words, at the include or call that closes it.
    fn nesting_error(&self, frames: &[Frame]) -> Diagnostic {
        let Some((last, before)) = frames.split_last() else {
            return Diagnostic::new("templates", None, "templates nest too deeply");
        };
        // The cycle: from the previous time the last frame was entered.
        let cycle: Vec<&Frame> = match before.iter().rposition(|f| f == last) {
            Some(start) => before[start..].iter().collect(),
            None => vec![last],
        };
        let closing = cycle.last().copied().unwrap_or(last);
        let reentered = cycle.first().copied().unwrap_or(last);
        let path: Vec<String> = cycle
            .iter()
            .chain(std::iter::once(&reentered))
            .map(|f| f.describe())
            .collect();
        let file = self
            .sources
            .get(&closing.template)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(&closing.template));
        let line = self.call_line(closing, reentered);
        Diagnostic::new(
            file,
            line,
            format!(
                "templates include or call each other without end ({}); \
                 rendering stopped at {MAX_NESTING} levels of includes and macro calls",
                path.join(" → ")
            ),
        )
    }

    /// The line in `from` (a template, or a macro inside it) that includes or
    /// calls `to`; else the line defining the macro `from`.
    fn call_line(&self, from: &Frame, to: &Frame) -> Option<usize> {
        let text = self.texts.get(&from.template)?;
        let (span, definition) = match &from.r#macro {
            Some(m) => {
                let start =
                    regex::Regex::new(&format!(r"\{{%-?\s*macro\s+{}\s*\(", regex::escape(m)))
                        .ok()?;
                let def = text.lines().position(|l| start.is_match(l))? + 1;
                let end = text
                    .lines()
                    .enumerate()
                    .skip(def)
                    .find(|(_, l)| l.contains("endmacro"))
                    .map(|(i, _)| i + 1)
                    .unwrap_or(usize::MAX);
                (def..end.saturating_add(1), Some(def))
            }
            None => (1..usize::MAX, None),
        };
        let call = match &to.r#macro {
            Some(m) => format!(r"::\s*{}\s*\(", regex::escape(m)),
            None => format!(
                r#"\{{%-?\s*include\s+(\[[^\]]*)?["']{}["']"#,
                regex::escape(&to.template)
            ),
        };
        let call = regex::Regex::new(&call).ok()?;
        text.lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .filter(|(n, _)| span.contains(n))
            .find(|(_, l)| call.is_match(l))
            .map(|(n, _)| n)
            .or(definition)
    }
}

/// Why a render failed, before it is told as a [`Diagnostic`].
enum Rendering {
    TooDeep(Vec<Frame>),
    Failed(tera::Error),
}

/// One open include (a template body) or macro call, while rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Frame {
    template: String,
    r#macro: Option<String>,
}

impl Frame {
    fn describe(&self) -> String {
        match &self.r#macro {
            Some(m) => format!("macro {m} of {}", self.template),
            None => self.template.clone(),
        }
    }
}

thread_local! {
    /// The includes and macro calls open in the render running on this thread.
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
    /// The open frames when a render went past [`MAX_NESTING`], for the message.
    static TOO_DEEP: RefCell<Option<Vec<Frame>>> = const { RefCell::new(None) };
}

fn enter(args: &HashMap<String, Value>) -> tera::Result<Value> {
    let frame = Frame {
        template: args
            .get("template")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        r#macro: args
            .get("macro")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    FRAMES.with(|frames| {
        let mut frames = frames.borrow_mut();
        frames.push(frame);
        if frames.len() > MAX_NESTING {
            let open = frames.clone();
            TOO_DEEP.with(|t| *t.borrow_mut() = Some(open));
            return Err(tera::Error::msg(format!(
                "includes and macro calls nest more than {MAX_NESTING} levels deep"
            )));
        }
        Ok(Value::String(String::new()))
    })
}

fn leave(_: &HashMap<String, Value>) -> tera::Result<Value> {
    FRAMES.with(|frames| frames.borrow_mut().pop());
    Ok(Value::String(String::new()))
}

/// Wraps every template body and macro body in [`ENTER`] and [`LEAVE`]. A body
/// always runs to its end or fails the whole render (`break` only leaves a
/// loop), so the two calls pair up.
fn guard_nesting(tera: &mut Tera, names: &[String]) {
    for (name, template) in tera.templates.iter_mut().filter(|(n, _)| names.contains(n)) {
        wrap(&mut template.ast, name, None);
        for (m, definition) in template.macros.iter_mut() {
            wrap(&mut definition.body, name, Some(m));
        }
    }
}

fn wrap(body: &mut Vec<Node>, template: &str, r#macro: Option<&str>) {
    let call = |name: &str, args: HashMap<String, Expr>| {
        Node::VariableBlock(
            WS::default(),
            Expr::new(ExprVal::FunctionCall(FunctionCall {
                name: name.to_string(),
                args,
            })),
        )
    };
    let mut args = HashMap::new();
    args.insert(
        "template".to_string(),
        Expr::new(ExprVal::String(template.to_string())),
    );
    if let Some(m) = r#macro {
        args.insert(
            "macro".to_string(),
            Expr::new(ExprVal::String(m.to_string())),
        );
    }
    body.insert(0, call(ENTER, args));
    body.push(call(LEAVE, HashMap::new()));
}

/// What a tera message names, to look for in the template's text: the
/// variable (`page.nope`), the filter, function or test, the included
/// template, or `extends` for an inheritance error.
fn needles(chain: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for m in chain {
        if m.contains("Circular extend") || m.contains("is inheriting from") {
            out.push("extends".to_string());
        }
        for prefix in [
            "Function call '",
            "Filter call '",
            "Test call '",
            "Function '",
            "Filter '",
            "Test '",
            "Template '[",
            "Template '",
        ] {
            if let Some(n) = quoted_after(m, prefix) {
                out.push(n.trim_end_matches(']').to_string());
            }
        }
        // Backquoted names, as in "Variable `page.nope` not found".
        let mut parts = m.split('`');
        parts.next();
        while let Some(inside) = parts.next() {
            if !inside.is_empty() && !inside.contains(['\n', '[', '"']) {
                out.push(inside.to_string());
            }
            parts.next();
        }
    }
    out.retain(|n| !n.is_empty());
    out.dedup();
    out
}

/// The first 1-based line of `text` that contains `needle`.
fn line_containing(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)? + prefix.len();
    let end = text[start..].find('\'')? + start;
    Some(text[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates(files: &[(&str, &str)], deferred: &[&str]) -> Result<Templates, Diagnostic> {
        Templates::new(
            files
                .iter()
                .map(|(n, t)| (n.to_string(), (PathBuf::from(n), t.to_string())))
                .collect(),
            deferred.iter().map(|n| n.to_string()).collect(),
        )
    }

    fn context() -> tera::Context {
        let mut ctx = tera::Context::new();
        ctx.insert("x", "<1>");
        ctx
    }

    fn parsed(t: &Templates) -> Vec<&str> {
        let mut names: Vec<&str> = t.tera.templates.keys().map(String::as_str).collect();
        names.sort();
        names
    }

    /// The default theme loaded for a site without templates of its own
    /// leaves exactly the dashboard templates unparsed; all of them parse on
    /// first need, with the rest, as the whole theme.
    #[test]
    fn the_default_themes_dashboard_templates_are_parsed_on_first_need() {
        let root = tempfile::tempdir().unwrap();
        let t = load(root.path(), &Config::default()).unwrap();
        let mut expected: Vec<&str> = theme::TEMPLATES
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !theme::DASHBOARD_TEMPLATES.contains(n))
            .collect();
        expected.sort();
        assert_eq!(parsed(&t), expected);
        assert!(t.full.get().is_none());
        let full = t.full().unwrap();
        let mut all: Vec<&str> = full.templates.keys().map(String::as_str).collect();
        all.sort();
        let mut theme: Vec<&str> = theme::TEMPLATES.iter().map(|(n, _)| *n).collect();
        theme.sort();
        assert_eq!(all, theme);
    }

    /// A site's own copy of a dashboard template is parsed at load, so its
    /// errors are reported there.
    #[test]
    fn a_sites_copy_of_a_dashboard_template_is_parsed_at_load() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("templates")).unwrap();
        std::fs::write(root.path().join("templates/team.html"), "{{ oops").unwrap();
        let e = load(root.path(), &Config::default()).err().unwrap();
        assert_eq!(e.len(), 1);
        assert!(e[0].to_string().contains("team.html"), "{}", e[0]);
        assert!(
            e[0].to_string().contains("Failed to parse 'team.html'"),
            "{}",
            e[0]
        );
    }

    /// A plain include of a deferred template fails without it; the render is
    /// made again with every template, and gives what a full parse gives.
    #[test]
    fn a_plain_include_of_a_deferred_template_renders_it() {
        let files = [
            (
                "page.html",
                "A{% if x %}{% include \"part.html\" %}{% endif %}B",
            ),
            ("part.html", "[{{ x }}]"),
        ];
        let t = templates(&files, &["part.html"]).unwrap();
        assert_eq!(parsed(&t), ["page.html"]);
        assert_eq!(t.render("page.html", &context()).unwrap(), "A[&lt;1&gt;]B");
        assert!(t.full.get().is_some());
        // By name, too.
        assert_eq!(t.render("part.html", &context()).unwrap(), "[&lt;1&gt;]");
        let eager = templates(&files, &[]).unwrap();
        assert_eq!(parsed(&eager), ["page.html", "part.html"]);
        assert_eq!(
            eager.render("page.html", &context()).unwrap(),
            "A[&lt;1&gt;]B"
        );
    }

    /// What a missing template would change without an error (a list of
    /// names, `ignore missing`) or what tera needs at parse time (extends,
    /// imports) is parsed at load, wherever it sits in the template, and so
    /// is what those need in turn.
    #[test]
    fn templates_needed_at_parse_time_or_silently_are_parsed_at_load() {
        let cases: [(&str, &[&str]); 5] = [
            (
                "{% for i in [1] %}{% include [\"d.html\", \"e.html\"] %}{% endfor %}",
                &["d.html", "e.html", "page.html"],
            ),
            (
                "{% block b %}{% include \"d.html\" ignore missing %}{% endblock %}",
                &["d.html", "page.html"],
            ),
            (
                "{% extends \"d.html\" %}{% block b %}!{% endblock %}",
                &["d.html", "page.html"],
            ),
            (
                "{% import \"m.html\" as m %}{{ m::hi() }}",
                &["m.html", "page.html"],
            ),
            (
                "{% if x %}{% else %}{% include \"e.html\" ignore missing %}{% endif %}",
                // `e.html` includes `d.html` so that a missing one would pass unnoticed.
                &["d.html", "e.html", "page.html"],
            ),
        ];
        for (page, expected) in cases {
            let files = [
                ("page.html", page),
                ("d.html", "<{% block b %}{% endblock %}>"),
                ("e.html", "{% include \"d.html\" ignore missing %}"),
                ("m.html", "{% macro hi() %}hi{% endmacro %}"),
            ];
            let t = templates(&files, &["d.html", "e.html", "m.html"]).unwrap();
            assert_eq!(parsed(&t), expected, "{page}");
            let eager = templates(&files, &[]).unwrap();
            assert_eq!(
                t.render("page.html", &context()).unwrap(),
                eager.render("page.html", &context()).unwrap(),
                "{page}"
            );
            assert!(t.full.get().is_none(), "{page}");
        }
    }

    /// A template that does not exist at all is reported as it was before
    /// templates were deferred.
    #[test]
    fn an_include_of_a_missing_template_is_still_an_error() {
        let files = [
            ("page.html", "{% include \"nope.html\" %}"),
            ("d.html", "d"),
        ];
        let lazy = templates(&files, &["d.html"]).unwrap();
        let eager = templates(&files, &[]).unwrap();
        let e = lazy.render("page.html", &context()).err().unwrap();
        assert_eq!(e, eager.render("page.html", &context()).err().unwrap());
        assert!(e.to_string().contains("nope.html"), "{e}");
    }
}

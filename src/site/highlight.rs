//! Syntax highlighting of fenced code at build time (syntect, with the
//! Oniguruma regex engine its grammars are written for: it compiles their
//! patterns several times faster than fancy-regex, for the same HTML). Output
//! uses CSS classes so one stylesheet serves light and dark.

mod cache;

use std::path::Path;
use std::sync::OnceLock;

use syntect::highlighting::ThemeSet;
use syntect::html::{css_for_theme_with_class_style, ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

const CLASS_PREFIX: &str = "hl-";
const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed {
    prefix: CLASS_PREFIX,
};

fn syntax_set() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Common fence names that the bundled grammars know under another token.
fn canonical_token(lang: &str) -> &str {
    match lang {
        "sh" | "shell" | "console" | "zsh" => "bash",
        "yml" => "yaml",
        "js" | "javascript" | "jsx" => "js",
        "py" => "python",
        "rs" => "rust",
        "golang" => "go",
        "groovy" | "jenkinsfile" => "groovy",
        other => other,
    }
}

/// Highlighted blocks already made, by (language, code): a handbook in two
/// languages repeats each example once per translation, and `serve` rebuilds
/// the same blocks on every edit. Bounded (see [`cache::MAX_BYTES`]).
fn blocks() -> &'static cache::Blocks {
    static BLOCKS: OnceLock<cache::Blocks> = OnceLock::new();
    BLOCKS.get_or_init(cache::Blocks::new)
}

/// Highlighted HTML for `code`: `<pre class="code" data-lang=…><code>…</code></pre>`.
/// An unknown or empty language gives escaped plain text in the same frame.
/// The same block is highlighted once per process (see [`blocks`]).
pub fn highlight(code: &str, lang: &str) -> String {
    blocks().get_or_make(lang, code, || highlight_uncached(code, lang))
}

/// Where `opsmeter build` keeps the highlighted blocks of a site between builds.
pub const STORED_BLOCKS: &str = "data/cache/highlight.json";

/// Takes the blocks the previous build of the site at `root` stored, so they
/// are not highlighted again. A missing, unreadable or outdated file only
/// means highlighting from scratch (said at debug level); a symbolic link on
/// the way is not followed.
pub fn load_stored(root: &Path) {
    let path = root.join(STORED_BLOCKS);
    if let Err(e) = crate::fsutil::refuse_links(root, &path) {
        tracing::debug!("highlight cache not read: {e:#}");
        return;
    }
    match blocks().load(&path, &cache::store_key(CLASS_PREFIX)) {
        Ok(0) => {}
        Ok(n) => tracing::debug!("took {n} highlighted code blocks from {STORED_BLOCKS}"),
        Err(why) => tracing::debug!("{STORED_BLOCKS} not used: {why}; highlighting anew"),
    }
}

/// Stores the blocks highlighted since [`load_stored`] (only those: a block
/// no page shows any more is dropped), unless the file holds them already.
/// Failing to store is a warning, not a failed build.
pub fn save_stored(root: &Path) {
    let Some(bytes) = blocks().to_store(&cache::store_key(CLASS_PREFIX)) else {
        return;
    };
    let path = root.join(STORED_BLOCKS);
    match crate::fsutil::write_atomic_in(root, &path, &bytes) {
        Ok(()) => tracing::debug!("stored highlighted code blocks in {STORED_BLOCKS}"),
        Err(e) => tracing::warn!(
            "could not store highlighted code in {}: {e:#}; the next build highlights it again",
            path.display()
        ),
    }
}

fn highlight_uncached(code: &str, lang: &str) -> String {
    let lang = lang.split([',', ' ']).next().unwrap_or("").trim();
    let lang_lower = lang.to_ascii_lowercase();
    let ss = syntax_set();
    let syntax = if lang_lower.is_empty() {
        None
    } else {
        ss.find_syntax_by_token(canonical_token(&lang_lower))
    };
    let mut out = String::with_capacity(code.len() * 2 + 64);
    // Focusable, so a block that scrolls sideways can be scrolled from the keyboard.
    out.push_str("<pre class=\"code\" tabindex=\"0\"");
    if !lang.is_empty() {
        out.push_str(" data-lang=\"");
        out.push_str(&escape_html(lang));
        out.push('"');
    }
    out.push_str("><code>");
    match syntax {
        Some(syntax) => {
            let mut gen = ClassedHTMLGenerator::new_with_class_style(syntax, ss, CLASS_STYLE);
            let mut ok = true;
            for line in LinesWithEndings::from(code) {
                if gen
                    .parse_html_for_line_which_includes_newline(line)
                    .is_err()
                {
                    ok = false;
                    break;
                }
            }
            if ok {
                out.push_str(&gen.finalize());
            } else {
                out.push_str(&escape_html(code));
            }
        }
        None => out.push_str(&escape_html(code)),
    }
    out.push_str("</code></pre>\n");
    out
}

/// Background of code blocks in the theme's light and dark mode (`--code-bg`).
const LIGHT_BG: (u8, u8, u8) = (0xf6, 0xf8, 0xfa);
const DARK_BG: (u8, u8, u8) = (0x16, 0x1b, 0x22);

fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG contrast ratio of two colours.
pub fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The colour moved towards black (on a light background) or white (on a dark
/// one) until it reaches 4.5:1 against `bg`, as WCAG AA asks of text.
fn readable(c: (u8, u8, u8), bg: (u8, u8, u8)) -> (u8, u8, u8) {
    let towards: f64 = if luminance(bg) > 0.5 { 0.0 } else { 255.0 };
    let mut c = c;
    for _ in 0..40 {
        if contrast(c, bg) >= 4.6 {
            break;
        }
        let step = |v: u8| (f64::from(v) + (towards - f64::from(v)) * 0.1).round() as u8;
        c = (step(c.0), step(c.1), step(c.2));
    }
    c
}

/// Rewrites every `color: #rrggbb` of a theme stylesheet to be readable on
/// `bg`, and drops its backgrounds (the site's code blocks set their own).
fn adjust(css: &str, bg: (u8, u8, u8)) -> String {
    let mut out = String::with_capacity(css.len());
    for line in css.lines() {
        let t = line.trim_start();
        if t.starts_with("background-color:") {
            continue;
        }
        if let Some(hex) = t.strip_prefix("color: #").and_then(|h| h.get(..6)) {
            if let (Ok(r), Ok(g), Ok(b)) = (
                u8::from_str_radix(&hex[0..2], 16),
                u8::from_str_radix(&hex[2..4], 16),
                u8::from_str_radix(&hex[4..6], 16),
            ) {
                let (r, g, b) = readable((r, g, b), bg);
                out.push_str(&format!(" color: #{r:02x}{g:02x}{b:02x};\n"));
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The stylesheet for highlighted code: a light theme, and a dark one under
/// `prefers-color-scheme: dark`. Every colour is adjusted to 4.5:1 against the
/// code background; in dark mode the light theme's rules are repeated with
/// dark-safe colours first, so no light colour is left on the dark background.
/// Made once per process (loading the bundled themes is the costly part).
pub fn stylesheet() -> String {
    static CSS: OnceLock<String> = OnceLock::new();
    CSS.get_or_init(make_stylesheet).clone()
}

fn make_stylesheet() -> String {
    let themes = ThemeSet::load_defaults();
    let light = themes
        .themes
        .get("InspiredGitHub")
        .and_then(|t| css_for_theme_with_class_style(t, CLASS_STYLE).ok())
        .unwrap_or_default();
    let dark = themes
        .themes
        .get("base16-ocean.dark")
        .and_then(|t| css_for_theme_with_class_style(t, CLASS_STYLE).ok())
        .unwrap_or_default();
    let mut css = String::from(
        "/* generated by opsmeter from syntect themes, colours adjusted to 4.5:1 */\n",
    );
    css.push_str(&adjust(&light, LIGHT_BG));
    css.push_str("@media (prefers-color-scheme: dark) {\n");
    css.push_str(&adjust(&light, DARK_BG));
    css.push_str(&adjust(&dark, DARK_BG));
    css.push_str("}\n");
    css
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_language_gets_classes() {
        let html = highlight("fn main() {}\n", "rust");
        assert!(html.starts_with("<pre class=\"code\" tabindex=\"0\" data-lang=\"rust\"><code>"));
        assert!(html.contains("class=\"hl-"), "{html}");
        assert!(html.contains("main"));
    }

    #[test]
    fn a_cached_block_is_the_block_highlighted_anew() {
        let code = "let cached = 1; // a_cached_block_is_the_block_highlighted_anew\n";
        let first = highlight(code, "rust");
        let again = highlight(code, "rust");
        assert_eq!(first, again);
        assert_eq!(first, highlight_uncached(code, "rust"));
        // Same code, another language: another entry, another result.
        assert_eq!(
            highlight(code, "nosuchlang"),
            highlight_uncached(code, "nosuchlang")
        );
        assert_ne!(highlight(code, "nosuchlang"), first);
    }

    #[test]
    fn unknown_language_is_escaped_plain_text() {
        let html = highlight("<b>&</b>\n", "nosuchlang");
        assert_eq!(
            html,
            "<pre class=\"code\" tabindex=\"0\" data-lang=\"nosuchlang\"><code>&lt;b&gt;&amp;&lt;/b&gt;\n</code></pre>\n"
        );
    }

    #[test]
    fn every_colour_is_readable_on_its_background() {
        let css = stylesheet();
        let (light, dark) = css
            .split_once("@media (prefers-color-scheme: dark)")
            .unwrap();
        for (part, bg) in [(light, LIGHT_BG), (dark, DARK_BG)] {
            for hex in part.split("color: #").skip(1) {
                let h = &hex[..6];
                let c = (
                    u8::from_str_radix(&h[0..2], 16).unwrap(),
                    u8::from_str_radix(&h[2..4], 16).unwrap(),
                    u8::from_str_radix(&h[4..6], 16).unwrap(),
                );
                assert!(contrast(c, bg) >= 4.5, "#{h} is {:.2}:1", contrast(c, bg));
            }
        }
        assert!(!css.contains("background-color"));
    }

    #[test]
    fn stylesheet_has_light_and_dark() {
        let css = stylesheet();
        assert!(css.contains(".hl-"));
        assert!(css.contains("prefers-color-scheme: dark"));
    }
}

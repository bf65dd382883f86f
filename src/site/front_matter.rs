//! TOML front matter between `+++` lines at the top of a content file.

use serde::{Deserialize, Serialize};

use crate::diagnostics::line_of_offset;

/// The settings a page or section may give.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FrontMatter {
    pub title: Option<String>,
    pub description: Option<String>,
    /// A TOML date or datetime, or a string in RFC 3339 / `YYYY-MM-DD` form.
    pub date: Option<toml::Value>,
    /// Orders pages and sections: lower first, then by title.
    pub weight: Option<i64>,
    pub draft: bool,
    /// A template other than `page.html` / `section.html`.
    pub template: Option<String>,
    /// Replaces the last part of the URL.
    pub slug: Option<String>,
    /// Old URLs that redirect here.
    pub aliases: Vec<String>,
    /// Free-form values for templates (`page.extra`).
    pub extra: toml::Table,
}

/// A content file split into its parsed front matter and its Markdown body.
#[derive(Debug)]
pub struct Split<'a> {
    pub front_matter: FrontMatter,
    pub body: &'a str,
    /// Lines before the body (front matter and its fences), to turn body lines into file lines.
    pub body_line_offset: usize,
    /// Line in the file of each top-level key of the front matter, for error messages.
    pub key_lines: Vec<(String, usize)>,
}

/// Why front matter could not be read: a message and the file line it points at.
#[derive(Debug, PartialEq)]
pub struct FrontMatterError {
    pub line: usize,
    pub message: String,
}

/// Splits `text` into front matter and body. A file without a leading `+++` has
/// empty front matter; an opening fence without a closing one is an error.
pub fn split(text: &str) -> Result<Split<'_>, FrontMatterError> {
    let text_no_bom = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line_end = text_no_bom.find('\n').unwrap_or(text_no_bom.len());
    if text_no_bom[..first_line_end].trim_end() != "+++" {
        if text_no_bom.trim_start().starts_with("---") && text_no_bom.starts_with("---") {
            return Err(FrontMatterError {
                line: 1,
                message:
                    "front matter must be TOML between `+++` lines (YAML `---` is not supported)"
                        .into(),
            });
        }
        return Ok(Split {
            front_matter: FrontMatter::default(),
            body: text_no_bom,
            body_line_offset: 0,
            key_lines: Vec::new(),
        });
    }
    let fm_start = (first_line_end + 1).min(text_no_bom.len());
    let mut pos = fm_start;
    let mut close = None;
    while pos < text_no_bom.len() {
        let end = text_no_bom[pos..]
            .find('\n')
            .map(|i| pos + i)
            .unwrap_or(text_no_bom.len());
        if text_no_bom[pos..end].trim_end() == "+++" {
            close = Some((pos, (end + 1).min(text_no_bom.len())));
            break;
        }
        pos = end + 1;
    }
    let Some((close_start, body_start)) = close else {
        return Err(FrontMatterError {
            line: 1,
            message: "front matter opened with `+++` is never closed (expected a `+++` line)"
                .into(),
        });
    };
    let toml_text = &text_no_bom[fm_start..close_start];
    let front_matter: FrontMatter = toml::from_str(toml_text).map_err(|e| {
        // Line 1 of the TOML is line 2 of the file.
        let line = e
            .span()
            .map(|s| line_of_offset(toml_text, s.start) + 1)
            .unwrap_or(1);
        FrontMatterError {
            line,
            message: format!("invalid front matter: {}", e.message().trim()),
        }
    })?;
    let key_lines = toml_text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.trim_start();
            let eq = l.find('=')?;
            let key = l[..eq].trim();
            (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| (key.to_string(), i + 2))
        })
        .collect();
    Ok(Split {
        front_matter,
        body: &text_no_bom[body_start..],
        body_line_offset: line_of_offset(text_no_bom, body_start) - 1,
        key_lines,
    })
}

impl Split<'_> {
    /// The file line of a front-matter key, or 1.
    pub fn key_line(&self, key: &str) -> usize {
        self.key_lines
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, l)| *l)
            .unwrap_or(1)
    }
}

impl FrontMatter {
    /// The date as RFC 3339 / `YYYY-MM-DD` text, validated.
    pub fn date_string(&self) -> Result<Option<String>, String> {
        let Some(v) = &self.date else { return Ok(None) };
        let s = match v {
            toml::Value::Datetime(d) => d.to_string(),
            toml::Value::String(s) => s.clone(),
            other => return Err(format!("`date` must be a date, found {}", other.type_str())),
        };
        let valid = chrono::DateTime::parse_from_rfc3339(&s).is_ok()
            || chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").is_ok()
            || chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S").is_ok();
        if valid {
            Ok(Some(s))
        } else {
            Err(format!(
                "`date` {s:?} is not a date (expected YYYY-MM-DD or RFC 3339)"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let text = "+++\ntitle = \"T\"\ndescription = \"D\"\ndate = 2024-05-01\nweight = 3\ndraft = true\ntemplate = \"x.html\"\nslug = \"s\"\naliases = [\"/old/\"]\n[extra]\nk = 1\n+++\n# Body\n";
        let s = split(text).unwrap();
        let fm = &s.front_matter;
        assert_eq!(fm.title.as_deref(), Some("T"));
        assert_eq!(fm.weight, Some(3));
        assert!(fm.draft);
        assert_eq!(fm.date_string().unwrap().as_deref(), Some("2024-05-01"));
        assert_eq!(fm.aliases, vec!["/old/".to_string()]);
        assert_eq!(fm.extra.get("k").and_then(|v| v.as_integer()), Some(1));
        assert_eq!(s.body, "# Body\n");
        assert_eq!(s.body_line_offset, 12);
        assert_eq!(s.key_line("template"), 7);
    }

    #[test]
    fn no_front_matter_is_all_body() {
        let s = split("# Hi\n").unwrap();
        assert_eq!(s.body, "# Hi\n");
        assert_eq!(s.body_line_offset, 0);
    }

    #[test]
    fn errors_point_at_the_file_line() {
        let e = split("+++\ntitle = \"ok\"\nweight = \"x\n+++\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = split("+++\ntitle = \"ok\"\ncolour = 1\n+++\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.message.contains("unknown field `colour`"),
            "{}",
            e.message
        );
        let e = split("+++\ntitle = \"x\"\n").unwrap_err();
        assert!(e.message.contains("never closed"));
    }
}

//! User-facing problems that point at a file and line.
//!
//! A build collects every problem it can find before failing, so that a
//! writer fixes a whole batch at once instead of one error per run.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a user's file: front matter, Markdown link, template, config.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The file, relative to the site root when it is inside it.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: impl Into<PathBuf>, line: Option<usize>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// A failed build: one or more diagnostics, all reported.
#[derive(Debug)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n{} problems found", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The line starts of one text, built once, so that each offset → line lookup
/// costs O(log n) instead of a rescan from the start: a page with a link on
/// every line stays linear in its size.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset of the first byte of each line; the first is 0.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|&(_, b)| b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        LineIndex { starts }
    }

    /// 1-based line of a byte offset; an offset past the end is on the last line,
    /// and a newline belongs to the line it ends (as [`line_of_offset`]).
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

/// 1-based line of a byte offset in `text`, for a single lookup; use a
/// [`LineIndex`] for many lookups in one text.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads a text file that must be UTF-8. A file that is not says where its
/// first invalid byte is (line and column), so a writer can find it.
pub fn read_text(path: &Path, shown: &Path) -> Result<String, Diagnostic> {
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::new(shown, None, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line_start = bytes[..valid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = bytes[..valid].iter().filter(|&&b| b == b'\n').count() + 1;
        Diagnostic::new(
            shown,
            Some(line),
            format!(
                "not valid UTF-8 text: byte 0x{:02X} at column {} (save the file as UTF-8)",
                bytes[valid],
                valid - line_start + 1
            ),
        )
    })
}

/// The line of a top-level `key = …` in a TOML text (before any `[table]`).
pub fn toml_key_line(text: &str, key: &str) -> Option<usize> {
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.starts_with('[') {
            return None;
        }
        if let Some(rest) = line.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return Some(i + 1);
            }
        }
    }
    None
}

/// `path` relative to `root` when it is inside it, for shorter messages.
pub fn display_path(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_offset_counts_newlines_before_offset() {
        let text = "a\nbc\nd";
        assert_eq!(line_of_offset(text, 0), 1);
        assert_eq!(line_of_offset(text, 2), 2);
        assert_eq!(line_of_offset(text, 5), 3);
        assert_eq!(line_of_offset(text, 99), 3);
    }

    /// Every offset of a text with empty lines, a final newline, multi-byte
    /// characters and CRLF, against the line worked out by hand.
    #[test]
    fn line_index_gives_the_line_of_every_offset() {
        // offsets: a=0 \n=1 | \n=2 | 部=3..6 \r=6 \n=7 | x=8 \n=9 | (end 10)
        let text = "a\n\n部\r\nx\n";
        let expected = [1, 1, 2, 3, 3, 3, 3, 3, 4, 4, 5, 5, 5];
        let index = LineIndex::new(text);
        for (offset, line) in expected.iter().enumerate() {
            assert_eq!(index.line_of(offset), *line, "offset {offset}");
            assert_eq!(line_of_offset(text, offset), *line, "offset {offset}");
        }
        assert_eq!(LineIndex::new("").line_of(0), 1);
        assert_eq!(LineIndex::new("").line_of(7), 1);
        assert_eq!(LineIndex::new("no newline").line_of(9), 1);
        assert_eq!(LineIndex::new("\n\n\n").line_of(3), 4);
    }

    #[test]
    fn invalid_utf8_is_located_by_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.md");
        std::fs::write(&path, b"ok\nstill ok\nab\xff\xfecd\n").unwrap();
        let err = read_text(&path, Path::new("content/a.md")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "content/a.md:3: not valid UTF-8 text: byte 0xFF at column 3 (save the file as UTF-8)"
        );
        std::fs::write(&path, "部署\n".as_bytes()).unwrap();
        assert_eq!(read_text(&path, Path::new("a")).unwrap(), "部署\n");
    }

    #[test]
    fn toml_key_lines_are_top_level_only() {
        let text = "title = \"x\"\n\n  theme= \"dark\"\n[extra]\nlanguages = 1\n";
        assert_eq!(toml_key_line(text, "theme"), Some(3));
        assert_eq!(toml_key_line(text, "title"), Some(1));
        assert_eq!(toml_key_line(text, "languages"), None);
        assert_eq!(toml_key_line(text, "them"), None);
    }

    #[test]
    fn diagnostics_list_every_problem() {
        let d = Diagnostics(vec![
            Diagnostic::new("a.md", Some(3), "bad"),
            Diagnostic::new("b.html", None, "worse"),
        ]);
        assert_eq!(
            d.to_string(),
            "a.md:3: bad\nb.html: worse\n2 problems found"
        );
    }
}

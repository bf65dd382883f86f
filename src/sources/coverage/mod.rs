//! Test coverage reports, read from the files a project's CI already writes.
//!
//! "How much of the code do the tests run?" is answered by whatever report the
//! test runner produces: lcov (`lcov.info`: gcov, istanbul/c8, cargo-llvm-cov),
//! Cobertura XML (coverage.py, gcovr), JaCoCo XML (Maven, Gradle), Go cover
//! profiles (`go test -coverprofile`) and tarpaulin JSON. [`find_reports`] finds
//! them in a checkout by globs ([`DEFAULT_GLOBS`] by default); [`parse_file`]
//! reads one into line and branch totals with per-file figures.
//!
//! The figures are the ones each tool's own summary gives: lcov records of the
//! same file merge line by line as `lcov --summary` does; Cobertura and JaCoCo
//! sums equal the totals those reports carry; a Go block repeated by merged
//! runs counts once.
//!
//! Every parser streams (quick-xml for XML, serde_json over the reader for
//! JSON, one line at a time for the text formats), so memory follows the number
//! of distinct source lines a report describes, not its size: a 200 MB report
//! merged from many runs stays small. A report that cannot be read is a
//! [`CoverageError`] naming the file, the line and what was expected, never a
//! panic or a silent zero.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use walkdir::{DirEntry, WalkDir};

mod cobertura;
mod go;
mod jacoco;
mod lcov;
mod tarpaulin;
mod xml;

use cobertura::*;
use go::*;
use jacoco::*;
use lcov::*;
use tarpaulin::*;
use xml::*;

/// File names that coverage tools write by default, matched anywhere in the tree.
pub const DEFAULT_GLOBS: &[&str] = &[
    "lcov.info",
    "*.lcov",
    "coverage.xml",
    "cobertura*.xml",
    "jacoco*.xml",
    "coverage.out",
    "cover.out",
    "*.coverprofile",
    "tarpaulin-report.json",
];

/// Folders never searched: version control, vendored dependencies and
/// virtualenvs hold other projects' reports, not this one's. `build/` is
/// searched (Gradle writes `build/reports/jacoco/`), and so is `target/`
/// unless it is a Cargo build folder, because Maven writes
/// `target/site/jacoco/jacoco.xml`.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "bower_components",
    "vendor",
    "third_party",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "dist",
];

/// Longest line accepted in lcov and Go profiles: real lines are a path and a
/// few numbers, so anything longer is not a coverage report (and must not be
/// buffered whole).
const MAX_LINE_BYTES: usize = 1 << 20;

/// Largest single XML event (a tag or a run of text); the same reasoning.
const MAX_XML_EVENT_BYTES: u64 = 16 << 20;

/// Deepest XML nesting accepted (JaCoCo groups nest, but not this deep).
const MAX_XML_DEPTH: usize = 256;

/// The report formats understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Lcov,
    Cobertura,
    Jacoco,
    GoCover,
    Tarpaulin,
}

impl Format {
    /// The name users know the format by, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Lcov => "lcov",
            Format::Cobertura => "Cobertura XML",
            Format::Jacoco => "JaCoCo XML",
            Format::GoCover => "Go cover profile",
            Format::Tarpaulin => "tarpaulin JSON",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Coverage of one source file. For Go profiles "lines" are statements, as
/// `go tool cover` counts them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileCoverage {
    pub path: String,
    pub lines_covered: u64,
    pub lines_valid: u64,
    pub branches_covered: u64,
    pub branches_valid: u64,
}

/// One parsed report: its files in the order they first appear, and the sums.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageReport {
    pub format: Format,
    /// The report file as given.
    pub path: PathBuf,
    pub files: Vec<FileCoverage>,
    pub lines_covered: u64,
    pub lines_valid: u64,
    pub branches_covered: u64,
    pub branches_valid: u64,
}

impl CoverageReport {
    fn new(format: Format, path: PathBuf, files: Vec<FileCoverage>) -> Self {
        let mut report = CoverageReport {
            format,
            path,
            files: Vec::new(),
            lines_covered: 0,
            lines_valid: 0,
            branches_covered: 0,
            branches_valid: 0,
        };
        for file in &files {
            report.lines_covered = report.lines_covered.saturating_add(file.lines_covered);
            report.lines_valid = report.lines_valid.saturating_add(file.lines_valid);
            report.branches_covered = report
                .branches_covered
                .saturating_add(file.branches_covered);
            report.branches_valid = report.branches_valid.saturating_add(file.branches_valid);
        }
        report.files = files;
        report
    }

    /// Covered ÷ valid lines; `None` when the report has no lines.
    pub fn line_rate(&self) -> Option<f64> {
        rate(self.lines_covered, self.lines_valid)
    }

    /// Covered ÷ valid branches; `None` when the report has no branch data.
    pub fn branch_rate(&self) -> Option<f64> {
        rate(self.branches_covered, self.branches_valid)
    }
}

use crate::metrics::stats::rate;

/// A report that could not be read: which file, which line (1-based, when
/// known) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for CoverageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for CoverageError {}

/// Sums of every report, as `(lines_covered, lines_valid, branches_covered,
/// branches_valid)`; `None` when there is no report.
pub fn combine(reports: &[CoverageReport]) -> Option<(u64, u64, u64, u64)> {
    if reports.is_empty() {
        return None;
    }
    Some(
        reports
            .iter()
            .fold((0, 0, 0, 0), |sum: (u64, u64, u64, u64), r| {
                (
                    sum.0.saturating_add(r.lines_covered),
                    sum.1.saturating_add(r.lines_valid),
                    sum.2.saturating_add(r.branches_covered),
                    sum.3.saturating_add(r.branches_valid),
                )
            }),
    )
}

// ---------------------------------------------------------------------------
// Finding and detecting reports

/// Checks one glob as [`find_reports`] will use it, so a configuration loader
/// can report a bad one instead of it being skipped.
pub fn check_glob(glob: &str) -> Result<(), String> {
    build_glob(glob)
        .map(|_| ())
        .map_err(|err| format!("invalid coverage glob {glob:?}: {err}"))
}

fn build_glob(glob: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(glob.trim_start_matches("./").trim_start_matches('/'))
        .literal_separator(true)
        .build()
}

/// Report files under `root` matching any of `globs`, sorted. A glob without
/// `/` matches a file name anywhere (`lcov.info`); one with `/` matches the
/// path relative to `root`, with `/` separators (`build/reports/**/jacoco*.xml`).
/// Vendored and VCS folders are not searched (see `SKIPPED_DIRS`). An invalid
/// glob is skipped with a warning (use [`check_glob`] to reject it earlier).
pub fn find_reports(root: &Path, globs: &[String]) -> Vec<PathBuf> {
    let globs = ReportGlobs::new(globs);
    let mut found = Vec::new();
    let walker = WalkDir::new(root)
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !is_skipped_dir(entry));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                tracing::warn!("not searching for coverage reports in: {err}");
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let relative: Vec<_> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect();
        if globs.is_match(&relative.join("/")) {
            found.push(entry.into_path());
        }
    }
    found.sort();
    found
}

/// The report globs of [`find_reports`], compiled once, for matching paths
/// that are not in a folder (the tree of a commit).
pub struct ReportGlobs {
    by_name: GlobSet,
    by_path: GlobSet,
}

impl ReportGlobs {
    /// Compiles `globs`; an invalid one is skipped with a warning.
    pub fn new(globs: &[String]) -> ReportGlobs {
        let mut by_name = GlobSetBuilder::new();
        let mut by_path = GlobSetBuilder::new();
        for glob in globs {
            match build_glob(glob.trim()) {
                Ok(compiled) if glob.contains('/') => {
                    by_path.add(compiled);
                }
                Ok(compiled) => {
                    by_name.add(compiled);
                }
                Err(err) => tracing::warn!("ignoring coverage glob {glob:?}: {err}"),
            }
        }
        ReportGlobs {
            by_name: by_name.build().unwrap_or_else(|_| GlobSet::empty()),
            by_path: by_path.build().unwrap_or_else(|_| GlobSet::empty()),
        }
    }

    /// Whether `relative` (from the root, `/` separators) is a report.
    pub fn is_match(&self, relative: &str) -> bool {
        let name = relative.rsplit('/').next().unwrap_or(relative);
        self.by_name.is_match(name) || self.by_path.is_match(relative)
    }
}

fn is_skipped_dir(entry: &DirEntry) -> bool {
    entry.file_type().is_dir()
        && skips_folder(&entry.file_name().to_string_lossy(), || {
            entry.path().join("CACHEDIR.TAG").is_file()
        })
}

/// Whether [`find_reports`] leaves out a folder named `name`; `is_cache`
/// says whether it holds a `CACHEDIR.TAG` (asked only for `target`).
pub fn skips_folder(name: &str, is_cache: impl FnOnce() -> bool) -> bool {
    SKIPPED_DIRS.contains(&name)
        // Cargo marks its build folder as a cache; Maven's `target/` is not.
        || (name == "target" && is_cache())
}

/// The format of a report: by its file name, falling back to its first bytes
/// (`<coverage`, `<report`, `mode:`, `TN:`/`SF:`, `{`). XML files are always
/// sniffed first, since Cobertura and JaCoCo share names like `coverage.xml`.
pub fn detect_format(path: &Path) -> Option<Format> {
    detect_format_with(path, || sniff_file(path))
}

/// [`detect_format`] with `sniff` reading the first bytes.
fn detect_format_with(path: &Path, sniff: impl FnOnce() -> Option<Format>) -> Option<Format> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let by_name = format_by_name(&name);
    if by_name.is_none() || name.ends_with(".xml") {
        if let Some(format) = sniff() {
            return Some(format);
        }
    }
    by_name
}

fn format_by_name(name: &str) -> Option<Format> {
    if name == "lcov.info" || name.ends_with(".lcov") || name.ends_with(".info") {
        Some(Format::Lcov)
    } else if name == "coverage.out" || name == "cover.out" || name.ends_with(".coverprofile") {
        Some(Format::GoCover)
    } else if name.starts_with("tarpaulin") && name.ends_with(".json") {
        Some(Format::Tarpaulin)
    } else if name.starts_with("jacoco") && name.ends_with(".xml") {
        Some(Format::Jacoco)
    } else if name == "coverage.xml" || (name.starts_with("cobertura") && name.ends_with(".xml")) {
        Some(Format::Cobertura)
    } else {
        None
    }
}

fn sniff_file(path: &Path) -> Option<Format> {
    let mut head = Vec::with_capacity(8192);
    File::open(path)
        .ok()?
        .take(8192)
        .read_to_end(&mut head)
        .ok()?;
    sniff(&head)
}

fn sniff(head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &head[start..];
    if head.starts_with(b"mode:") {
        Some(Format::GoCover)
    } else if [&b"TN:"[..], b"SF:", b"VER:"]
        .iter()
        .any(|k| head.starts_with(k))
    {
        Some(Format::Lcov)
    } else if head.starts_with(b"{") {
        // Other JSON (istanbul's coverage-final.json) is not tarpaulin's.
        memchr::memmem::find(head, b"\"files\"").map(|_| Format::Tarpaulin)
    } else if head.starts_with(b"<") {
        let root = |tag: &[u8]| {
            memchr::memmem::find_iter(head, tag).find(|&at| {
                matches!(
                    head.get(at + tag.len()),
                    Some(b' ' | b'\t' | b'\r' | b'\n' | b'>' | b'/')
                )
            })
        };
        match (root(b"<coverage"), root(b"<report")) {
            (Some(c), Some(r)) if r < c => Some(Format::Jacoco),
            (Some(_), _) => Some(Format::Cobertura),
            (None, Some(_)) => Some(Format::Jacoco),
            (None, None) => None,
        }
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Parsing

/// Detects the format of `path` and parses it, streaming from the file.
pub fn parse_file(path: &Path) -> Result<CoverageReport, CoverageError> {
    let fail = |line, message: String| CoverageError {
        file: path.to_path_buf(),
        line,
        message,
    };
    let file = File::open(path).map_err(|err| fail(None, format!("cannot open: {err}")))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let Some(format) = detect_format(path) else {
        return Err(fail(None, unknown_format(&mut reader)));
    };
    parse_reader(format, reader, path)
}

/// [`parse_file`] for a report held in memory (a blob of a commit); `shown`
/// names it, and its file name counts for the format as in [`detect_format`].
pub fn parse_bytes(bytes: &[u8], shown: &Path) -> Result<CoverageReport, CoverageError> {
    let head = &bytes[..bytes.len().min(8192)];
    let Some(format) = detect_format_with(shown, || sniff(head)) else {
        return Err(CoverageError {
            file: shown.to_path_buf(),
            line: None,
            message: unknown_format(&mut &bytes[..]),
        });
    };
    parse_reader(format, bytes, shown)
}

/// Why a report of no known format cannot be read.
fn unknown_format<R: BufRead>(reader: &mut R) -> String {
    if matches!(skip_blank_start(reader), Ok(None)) {
        "empty coverage report".to_owned()
    } else {
        "not a coverage report this tool reads (expected lcov, Cobertura XML, \
         JaCoCo XML, a Go cover profile or tarpaulin JSON)"
            .to_owned()
    }
}

/// Parses a report of a known format from `reader`; `shown` is the path that
/// errors and the report name.
pub fn parse_reader<R: BufRead>(
    format: Format,
    mut reader: R,
    shown: &Path,
) -> Result<CoverageReport, CoverageError> {
    let fail = |failure: Failure| CoverageError {
        file: shown.to_path_buf(),
        line: failure.line,
        message: failure.message,
    };
    let Some(blank_lines) = skip_blank_start(&mut reader).map_err(|e| fail(Failure::io(e)))? else {
        return Err(fail(Failure {
            line: None,
            message: "empty coverage report".to_owned(),
        }));
    };
    let first_line = blank_lines + 1;
    let parsed = match format {
        Format::Lcov => parse_lcov(reader, first_line),
        Format::Cobertura => parse_cobertura(reader, first_line),
        Format::Jacoco => parse_jacoco(reader, first_line),
        Format::GoCover => parse_go(reader, first_line),
        Format::Tarpaulin => parse_tarpaulin(reader, first_line),
    }
    .map_err(fail)?;
    let report = CoverageReport::new(format, shown.to_path_buf(), parsed.files);
    parsed.declared.warn_if_different(&report);
    Ok(report)
}

/// Why a parser stopped, before the file name is attached.
#[derive(Debug)]
struct Failure {
    line: Option<usize>,
    message: String,
}

impl Failure {
    fn at(line: usize, message: impl Into<String>) -> Self {
        Failure {
            line: Some(line),
            message: message.into(),
        }
    }

    fn io(err: io::Error) -> Self {
        Failure {
            line: None,
            message: format!("reading failed: {err}"),
        }
    }
}

/// What a parser produced: the files, and the totals the report states about
/// itself (which should equal their sums; a difference is worth a warning).
struct Parsed {
    files: Vec<FileCoverage>,
    declared: Declared,
}

#[derive(Default)]
struct Declared {
    /// `(covered, valid)` lines.
    lines: Option<(u64, u64)>,
    /// `(covered, valid)` branches.
    branches: Option<(u64, u64)>,
}

impl Declared {
    fn warn_if_different(&self, report: &CoverageReport) {
        let pairs = [
            (
                "lines",
                self.lines,
                (report.lines_covered, report.lines_valid),
            ),
            (
                "branches",
                self.branches,
                (report.branches_covered, report.branches_valid),
            ),
        ];
        for (what, declared, parsed) in pairs {
            if let Some(declared) = declared.filter(|d| *d != parsed) {
                tracing::warn!(
                    "{}: the report states {} of {} {what} covered, but its files add up to {} of {}",
                    report.path.display(),
                    declared.0,
                    declared.1,
                    parsed.0,
                    parsed.1
                );
            }
        }
    }
}

/// Skips a byte-order mark and leading whitespace. `None` when nothing else
/// is there; else how many newlines were skipped.
fn skip_blank_start<R: BufRead>(reader: &mut R) -> io::Result<Option<usize>> {
    let mut newlines = 0;
    let mut at_start = true;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(None);
        }
        let bom = if at_start && available.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        at_start = false;
        let blank = available[bom..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        newlines += memchr::memchr_iter(b'\n', &available[bom..bom + blank]).count();
        let done = bom + blank < available.len();
        reader.consume(bom + blank);
        if done {
            return Ok(Some(newlines));
        }
    }
}

/// Files in the order they first appear, each with its accumulated state.
struct FileTable<T> {
    index: HashMap<String, usize>,
    files: Vec<(String, T)>,
}

impl<T: Default> FileTable<T> {
    fn new() -> Self {
        FileTable {
            index: HashMap::new(),
            files: Vec::new(),
        }
    }

    fn index_of(&mut self, path: &str) -> usize {
        if let Some(&i) = self.index.get(path) {
            return i;
        }
        self.files.push((path.to_owned(), T::default()));
        self.index.insert(path.to_owned(), self.files.len() - 1);
        self.files.len() - 1
    }

    fn get(&mut self, path: &str) -> &mut T {
        let i = self.index_of(path);
        &mut self.files[i].1
    }

    fn name(&self, i: usize) -> &str {
        self.files.get(i).map(|f| f.0.as_str()).unwrap_or_default()
    }

    fn at(&mut self, i: usize) -> Option<&mut T> {
        self.files.get_mut(i).map(|f| &mut f.1)
    }

    fn into_coverage(self, figures: impl Fn(String, T) -> FileCoverage) -> Vec<FileCoverage> {
        self.files
            .into_iter()
            .map(|(path, state)| figures(path, state))
            .collect()
    }
}

/// Lines of one file in the XML formats, merged by line number: a line is
/// covered if any occurrence was hit, and keeps the most branches any
/// occurrence saw.
#[derive(Default)]
struct LineTable(BTreeMap<u64, LineState>);

#[derive(Default)]
struct LineState {
    hit: bool,
    branches_covered: u64,
    branches_valid: u64,
}

impl LineTable {
    fn record(&mut self, line: u64, hit: bool, branches_covered: u64, branches_valid: u64) {
        let state = self.0.entry(line).or_default();
        state.hit |= hit;
        state.branches_covered = state.branches_covered.max(branches_covered);
        state.branches_valid = state.branches_valid.max(branches_valid);
    }

    fn coverage(path: String, table: LineTable) -> FileCoverage {
        let mut file = FileCoverage {
            path,
            lines_covered: 0,
            lines_valid: table.0.len() as u64,
            branches_covered: 0,
            branches_valid: 0,
        };
        for state in table.0.values() {
            file.lines_covered += u64::from(state.hit);
            file.branches_covered = file.branches_covered.saturating_add(state.branches_covered);
            file.branches_valid = file.branches_valid.saturating_add(state.branches_valid);
        }
        file
    }
}

// ---------------------------------------------------------------------------
// Line-based formats: lcov and Go cover profiles

/// Reads a text report one line at a time into a reused buffer, keeping the
/// line number.
struct TextLines<R> {
    reader: R,
    raw: Vec<u8>,
    text: String,
    line: usize,
}

impl<R: BufRead> TextLines<R> {
    fn new(reader: R, first_line: usize) -> Self {
        TextLines {
            reader,
            raw: Vec::new(),
            text: String::new(),
            line: first_line - 1,
        }
    }

    /// Advances to the next line and returns its number; `None` at the end.
    fn next(&mut self) -> Result<Option<usize>, Failure> {
        self.raw.clear();
        let read = (&mut self.reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.raw)
            .map_err(|err| Failure::at(self.line + 1, format!("reading failed: {err}")))?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.raw.len() > MAX_LINE_BYTES {
            return Err(Failure::at(
                self.line,
                "line longer than 1 MiB: not a coverage report",
            ));
        }
        self.text.clear();
        self.text.push_str(&String::from_utf8_lossy(&self.raw));
        Ok(Some(self.line))
    }

    /// The current line without surrounding whitespace.
    fn text(&self) -> &str {
        self.text.trim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: Format, text: &str) -> Result<CoverageReport, CoverageError> {
        parse_reader(format, text.as_bytes(), Path::new("report"))
    }

    fn totals(report: &CoverageReport) -> (u64, u64, u64, u64) {
        (
            report.lines_covered,
            report.lines_valid,
            report.branches_covered,
            report.branches_valid,
        )
    }

    fn error(format: Format, text: &str) -> (Option<usize>, String) {
        let err = parse(format, text).expect_err("should fail");
        (err.line, err.message)
    }

    /// An lcov report of `FILES` files × `LINES` lines, each file in two
    /// records, produced on the fly so no file or string of its size exists.
    struct LcovStream {
        file: u64,
        record: u8,
        chunk: Vec<u8>,
        offset: usize,
        bytes: u64,
    }

    const FILES: u64 = 1_000;
    const LINES: u64 = 1_000;

    impl LcovStream {
        fn new() -> Self {
            LcovStream {
                file: 0,
                record: 0,
                chunk: Vec::new(),
                offset: 0,
                bytes: 0,
            }
        }

        /// Record 0 hits the odd lines; record 1 hits multiples of 3. Every
        /// 10th line has two branches: (0,0) taken only in record 1, (0,1) never.
        fn next_record(&mut self) -> bool {
            if self.file == FILES {
                return false;
            }
            use std::fmt::Write;
            let mut text = format!("TN:run{}\nSF:src/f{}.rs\n", self.record, self.file);
            for line in 1..=LINES {
                let hits = match self.record {
                    0 => line % 2,
                    _ => u64::from(line % 3 == 0) * 5,
                };
                let _ = writeln!(text, "DA:{line},{hits}");
                if line % 10 == 0 {
                    let taken = if self.record == 0 { "-" } else { "1" };
                    let _ = writeln!(text, "BRDA:{line},0,0,{taken}\nBRDA:{line},0,1,0");
                }
            }
            text.push_str("end_of_record\n");
            self.chunk = text.into_bytes();
            self.offset = 0;
            self.record += 1;
            if self.record == 2 {
                self.record = 0;
                self.file += 1;
            }
            true
        }
    }

    impl Read for LcovStream {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.offset == self.chunk.len() && !self.next_record() {
                return Ok(0);
            }
            let n = out.len().min(self.chunk.len() - self.offset);
            out[..n].copy_from_slice(&self.chunk[self.offset..self.offset + n]);
            self.offset += n;
            self.bytes += n as u64;
            Ok(n)
        }
    }

    #[test]
    fn a_20_mb_lcov_stream_is_parsed_without_holding_it() {
        let mut stream = LcovStream::new();
        let report = parse_reader(
            Format::Lcov,
            BufReader::new(&mut stream),
            Path::new("stream.info"),
        )
        .unwrap();
        assert!(
            stream.bytes > 20_000_000,
            "generated {} bytes",
            stream.bytes
        );
        // Per file, lines 1..=1000: odd lines (500) or multiples of 3 (333),
        // both counted once: 500 + 333 − 167 (odd multiples of 3) = 666.
        // Branches: 100 lines × 2, of which (0,0) is taken: 100 of 200.
        assert_eq!(report.files.len(), 1_000);
        assert_eq!(report.files[999].path, "src/f999.rs");
        assert_eq!(totals(&report), (666_000, 1_000_000, 100_000, 200_000));
    }

    #[test]
    fn lcov_da_checksums_and_named_branches_are_read() {
        let report = parse(
            Format::Lcov,
            "SF:a.c\nDA:1,3,Xy9\nDA:2,0,Qq1\nBRDA:1,e0,(a > 1) ? yes,1\nBRDA:1,e0,(a > 1) ? no,-\nend_of_record\n",
        )
        .unwrap();
        assert_eq!(totals(&report), (1, 2, 1, 2));
    }

    #[test]
    fn lcov_records_without_da_lines_use_their_summary() {
        let report = parse(
            Format::Lcov,
            "SF:a.c\nLF:7\nLH:4\nBRF:2\nBRH:1\nend_of_record\nSF:a.c\nDA:1,1\nend_of_record\n",
        )
        .unwrap();
        // 4 of 7 from the summary, plus line 1 (hit) from the second record.
        assert_eq!(totals(&report), (5, 8, 1, 2));
    }

    #[test]
    fn lcov_errors_name_the_line_and_what_was_expected() {
        assert_eq!(
            error(Format::Lcov, "\n\nTN:\nDA:1,1\n"),
            (
                Some(4),
                "DA: outside a record (expected SF:<path> before it)".to_owned()
            )
        );
        assert_eq!(
            error(Format::Lcov, "SF:a.c\nDA:1,1\n").0,
            Some(2),
            "a record cut before end_of_record"
        );
        assert_eq!(
            error(Format::Lcov, "SF:a.c\nSF:b.c\n").1,
            "SF: inside the record for a.c (expected end_of_record first)"
        );
        assert_eq!(
            error(Format::Lcov, "SF:a.c\nLF:2\nLH:3\nend_of_record\n"),
            (Some(4), "LH:3 is more than LF:2".to_owned())
        );
        assert_eq!(
            error(Format::Lcov, "TN:\n").1,
            "no lcov records (expected SF:<path> … end_of_record)"
        );
        assert_eq!(
            error(Format::Lcov, " \n\t\n"),
            (None, "empty coverage report".to_owned())
        );
    }

    #[test]
    fn go_blocks_repeated_by_merged_runs_count_once() {
        let report = parse(
            Format::GoCover,
            "mode: count\na.go:1.1,2.2 3 0\na.go:3.1,4.2 2 1\nmode: count\na.go:1.1,2.2 3 4\na.go:3.1,4.2 2 0\n",
        )
        .unwrap();
        // Blocks of 3 and 2 statements, each hit in one of the runs.
        assert_eq!(totals(&report), (5, 5, 0, 0));
        assert_eq!(
            error(Format::GoCover, "a.go:1.1,2.2 3 0\n"),
            (
                Some(1),
                "expected `mode: set`, `mode: count` or `mode: atomic` first: not a Go cover profile"
                    .to_owned()
            )
        );
        assert_eq!(
            error(Format::GoCover, "mode: set\na.go:1.1,2.2 3\n").0,
            Some(2)
        );
        assert_eq!(
            error(Format::GoCover, "mode: fast\n").1,
            "unknown cover mode \"fast\" (expected set, count or atomic)"
        );
    }

    #[test]
    fn cobertura_merges_a_file_split_over_classes_by_line() {
        let xml = r#"<?xml version="1.0"?>
<coverage>
  <packages><package name="p"><classes>
    <class name="A" filename="A.java">
      <methods><method name="f"><lines><line number="1" hits="9"/></lines></method></methods>
      <lines>
        <line number="1" hits="0" branch="true" condition-coverage="25% (1/4)"/>
        <line number="2" hits="0"/>
      </lines>
    </class>
    <class name="A$1" filename="A.java">
      <lines><line number="1" hits="2" branch="true" condition-coverage="50% (2/4)"/></lines>
    </class>
  </classes></package></packages>
</coverage>"#;
        let report = parse(Format::Cobertura, xml).unwrap();
        // Line 1 is hit by A$1 (the <methods> copy is not counted), with at
        // most 2 of 4 branches; line 2 is never hit.
        assert_eq!(totals(&report), (1, 2, 2, 4));
        assert_eq!(report.files.len(), 1);
    }

    #[test]
    fn xml_errors_name_the_line() {
        assert_eq!(
            error(Format::Cobertura, "\n<coverage>\n<a>\n</b>\n</coverage>\n").0,
            Some(4)
        );
        assert_eq!(
            error(Format::Cobertura, "<coverage>\n<packages>\n"),
            (
                Some(2),
                "unexpected end of file: <coverage> is not closed (truncated report?)".to_owned()
            )
        );
        assert_eq!(
            error(Format::Cobertura, "<?xml version=\"1.0\"?>\n\n<report/>"),
            (
                Some(3),
                "expected <coverage> as the root element of a Cobertura XML report, found <report>"
                    .to_owned()
            )
        );
        assert_eq!(
            error(
                Format::Jacoco,
                "<report>\n<package name=\"p\">\n<sourcefile name=\"A.java\">\n\
                 <line nr=\"1\" mi=\"0\" ci=\"x\" mb=\"0\" cb=\"0\"/>\n</sourcefile></package></report>"
            ),
            (Some(4), "<line ci=\"x\">: expected a whole number".to_owned())
        );
        assert_eq!(
            error(Format::Cobertura, "<coverage><class filename=\"a\"><line number=\"1\" hits=\"1\" branch=\"true\" condition-coverage=\"3/2\"/></class></coverage>").1,
            "<line condition-coverage=\"3/2\">: expected `<percent>% (<covered>/<valid>)` with covered at most valid"
        );
    }

    #[test]
    fn jacoco_groups_nest_packages() {
        let xml = r#"<report name="all"><group name="mod-a"><package name="org/a">
<sourcefile name="A.java"><line nr="3" mi="1" ci="0" mb="1" cb="1"/><line nr="4" mi="0" ci="2" mb="0" cb="0"/></sourcefile>
</package></group><counter type="LINE" missed="1" covered="1"/><counter type="BRANCH" missed="1" covered="1"/></report>"#;
        let report = parse(Format::Jacoco, xml).unwrap();
        assert_eq!(report.files[0].path, "org/a/A.java");
        // Line 3 missed (ci 0) with 1 of 2 branches; line 4 covered.
        assert_eq!(totals(&report), (1, 2, 1, 2));
    }

    #[test]
    fn tarpaulin_errors_carry_the_json_line() {
        let (line, message) = error(Format::Tarpaulin, "\n{\"files\": [\n  {\"path\": 3}\n]}");
        assert_eq!(line, Some(3));
        assert!(
            message.starts_with("malformed tarpaulin JSON: invalid type"),
            "{message}"
        );
        let (line, message) = error(Format::Tarpaulin, "{\"files\": [");
        assert_eq!(line, Some(1));
        assert!(message.ends_with("(truncated report?)"), "{message}");
    }

    #[test]
    fn formats_are_sniffed_from_the_first_bytes() {
        assert_eq!(sniff(b"\xEF\xBB\xBF  mode: set\n"), Some(Format::GoCover));
        assert_eq!(sniff(b"TN:\nSF:a\n"), Some(Format::Lcov));
        assert_eq!(sniff(b"{\"files\":[]}"), Some(Format::Tarpaulin));
        assert_eq!(sniff(b"{\"/src/a.js\":{\"path\":\"/src/a.js\"}}"), None);
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\"><report name=\"x\">"),
            Some(Format::Jacoco)
        );
        assert_eq!(
            sniff(b"<?xml version=\"1.0\" ?>\n<!-- coverage.py -->\n<coverage version=\"7\">"),
            Some(Format::Cobertura)
        );
        assert_eq!(sniff(b"<html><body>"), None);
        assert_eq!(format_by_name("jacocotestreport.xml"), Some(Format::Jacoco));
        assert_eq!(format_by_name("unit.coverprofile"), Some(Format::GoCover));
    }

    #[test]
    fn paths_join_like_tarpaulin_splits_them() {
        let parts = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            join_components(&parts(&["/", "home", "a.rs"])),
            "/home/a.rs"
        );
        assert_eq!(join_components(&parts(&["src", "a.rs"])), "src/a.rs");
        assert_eq!(
            join_components(&parts(&["C:\\", "src", "a.rs"])),
            "C:\\src/a.rs"
        );
    }
}

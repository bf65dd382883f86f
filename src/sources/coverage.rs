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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

fn rate(covered: u64, valid: u64) -> Option<f64> {
    (valid > 0).then(|| covered as f64 / valid as f64)
}

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

/// lcov state of one source file over all its records.
#[derive(Default)]
struct LcovFile {
    /// Line → hit in any record.
    lines: BTreeMap<u64, bool>,
    /// (line, block and branch) → taken in any record.
    branches: BTreeMap<(u64, BranchId), bool>,
    /// `(covered, valid)` lines and branches from records that gave only
    /// their `LH`/`LF` (`BRH`/`BRF`) summary.
    summary_lines: (u64, u64),
    summary_branches: (u64, u64),
}

/// lcov identifies a branch by block and branch numbers; lcov 2 allows an
/// exception marker and expressions, kept as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum BranchId {
    Numbered(u64, u64),
    Named(Box<str>),
}

/// The record being read, between `SF:` and `end_of_record`.
struct LcovRecord {
    file: usize,
    has_lines: bool,
    has_branches: bool,
    lf: Option<u64>,
    lh: Option<u64>,
    brf: Option<u64>,
    brh: Option<u64>,
}

/// lcov: `DA` and `BRDA` lines of every record of a file, merged by line
/// (and branch), which is what `lcov --summary` counts. A record with no `DA`
/// lines counts its `LF`/`LH` instead (lcov 1.x would count nothing for it).
/// A record must end with `end_of_record`, so a cut file is an error.
fn parse_lcov<R: BufRead>(reader: R, first_line: usize) -> Result<Parsed, Failure> {
    let mut lines = TextLines::new(reader, first_line);
    let mut files: FileTable<LcovFile> = FileTable::new();
    let mut record: Option<LcovRecord> = None;
    let mut records = 0usize;
    let mut last_line = first_line;
    while let Some(n) = lines.next()? {
        last_line = n;
        let text = lines.text();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if text == "end_of_record" {
            let Some(done) = record.take() else {
                return Err(Failure::at(
                    n,
                    "end_of_record without a record (expected SF:<path> before it)",
                ));
            };
            close_lcov_record(&done, &mut files).map_err(|m| Failure::at(n, m))?;
            records += 1;
            continue;
        }
        let unrecognised = || {
            Failure::at(
                n,
                format!(
                    "expected an lcov line such as SF:<path>, DA:<line>,<hits>, \
                     BRDA:<line>,<block>,<branch>,<taken> or end_of_record, found {:?}",
                    clip(text)
                ),
            )
        };
        let Some((key, value)) = text.split_once(':') else {
            return Err(unrecognised());
        };
        if key == "SF" {
            if let Some(open) = &record {
                return Err(Failure::at(
                    n,
                    format!(
                        "SF: inside the record for {} (expected end_of_record first)",
                        files.name(open.file)
                    ),
                ));
            }
            if value.trim().is_empty() {
                return Err(Failure::at(n, "SF: without a file path"));
            }
            record = Some(LcovRecord {
                file: files.index_of(value.trim()),
                has_lines: false,
                has_branches: false,
                lf: None,
                lh: None,
                brf: None,
                brh: None,
            });
            continue;
        }
        if !key.bytes().all(|b| b.is_ascii_uppercase()) || key.is_empty() {
            return Err(unrecognised());
        }
        let needs_record = matches!(key, "DA" | "BRDA" | "LF" | "LH" | "BRF" | "BRH");
        let open = match &mut record {
            Some(open) => open,
            None if needs_record => {
                return Err(Failure::at(
                    n,
                    format!("{key}: outside a record (expected SF:<path> before it)"),
                ))
            }
            // TN:, VER: and the like may come before SF:.
            None => continue,
        };
        let Some(file) = files.at(open.file) else {
            continue;
        };
        match key {
            "DA" => {
                let (line, hits) = parse_da(value).ok_or_else(|| {
                    Failure::at(
                        n,
                        format!(
                            "expected DA:<line>,<hits>[,<checksum>] with whole numbers, found {:?}",
                            clip(text)
                        ),
                    )
                })?;
                open.has_lines = true;
                *file.lines.entry(line).or_default() |= hits > 0;
            }
            "BRDA" => {
                let (line, branch, taken) = parse_brda(value).ok_or_else(|| {
                    Failure::at(
                        n,
                        format!(
                            "expected BRDA:<line>,<block>,<branch>,<taken> (taken a whole \
                             number or -), found {:?}",
                            clip(text)
                        ),
                    )
                })?;
                open.has_branches = true;
                *file.branches.entry((line, branch)).or_default() |= taken;
            }
            "LF" | "LH" | "BRF" | "BRH" => {
                let count: u64 = value.trim().parse().map_err(|_| {
                    Failure::at(
                        n,
                        format!(
                            "expected {key}:<count> with a whole number, found {:?}",
                            clip(text)
                        ),
                    )
                })?;
                let slot = match key {
                    "LF" => &mut open.lf,
                    "LH" => &mut open.lh,
                    "BRF" => &mut open.brf,
                    _ => &mut open.brh,
                };
                *slot = Some(count);
            }
            // TN, FN, FNDA, FNF, FNH, VER, FNL, FNA…: function data, not counted here.
            _ => {}
        }
    }
    if let Some(open) = record {
        return Err(Failure::at(
            last_line,
            format!(
                "unexpected end of file in the record for {}: expected end_of_record \
                 (truncated report?)",
                files.name(open.file)
            ),
        ));
    }
    if records == 0 {
        return Err(Failure {
            line: None,
            message: "no lcov records (expected SF:<path> … end_of_record)".to_owned(),
        });
    }
    let files = files.into_coverage(|path, file| {
        let lines_covered = file.lines.values().filter(|hit| **hit).count() as u64;
        let branches_covered = file.branches.values().filter(|taken| **taken).count() as u64;
        FileCoverage {
            path,
            lines_covered: lines_covered.saturating_add(file.summary_lines.0),
            lines_valid: (file.lines.len() as u64).saturating_add(file.summary_lines.1),
            branches_covered: branches_covered.saturating_add(file.summary_branches.0),
            branches_valid: (file.branches.len() as u64).saturating_add(file.summary_branches.1),
        }
    });
    Ok(Parsed {
        files,
        declared: Declared::default(),
    })
}

/// A record without `DA` (or `BRDA`) lines contributes its `LH`/`LF`
/// (`BRH`/`BRF`) summary instead.
fn close_lcov_record(record: &LcovRecord, files: &mut FileTable<LcovFile>) -> Result<(), String> {
    let Some(file) = files.at(record.file) else {
        return Ok(());
    };
    let pairs = [
        (
            !record.has_lines,
            "LH",
            record.lh,
            "LF",
            record.lf,
            &mut file.summary_lines,
        ),
        (
            !record.has_branches,
            "BRH",
            record.brh,
            "BRF",
            record.brf,
            &mut file.summary_branches,
        ),
    ];
    for (use_summary, hit_key, hit, found_key, found, summary) in pairs {
        let (Some(found), true) = (found, use_summary) else {
            continue;
        };
        let hit = hit.unwrap_or(0);
        if hit > found {
            return Err(format!("{hit_key}:{hit} is more than {found_key}:{found}"));
        }
        summary.0 = summary.0.saturating_add(hit);
        summary.1 = summary.1.saturating_add(found);
    }
    Ok(())
}

fn parse_da(value: &str) -> Option<(u64, u64)> {
    let mut fields = value.split(',');
    let line = fields.next()?.trim().parse().ok()?;
    let hits = fields.next()?.trim().parse().ok()?;
    Some((line, hits))
}

fn parse_brda(value: &str) -> Option<(u64, BranchId, bool)> {
    let (line, rest) = value.split_once(',')?;
    let (id, taken) = rest.rsplit_once(',')?;
    let (block, branch) = id.split_once(',')?;
    let line = line.trim().parse().ok()?;
    let taken = match taken.trim() {
        "-" => false,
        count => count.parse::<u64>().ok()? > 0,
    };
    let id = match (block.trim().parse(), branch.trim().parse()) {
        (Ok(block), Ok(branch)) => BranchId::Numbered(block, branch),
        _ => BranchId::Named(id.into()),
    };
    Some((line, id, taken))
}

/// A line quoted in a message, cut to a readable length.
fn clip(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(80) {
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
        None => Cow::Borrowed(text),
    }
}

/// A Go block's position: start line and column, end line and column.
type GoSpan = (u32, u32, u32, u32);

/// A block's statements, and whether any run executed it.
struct GoBlock {
    statements: u64,
    covered: bool,
}

/// Go: statements per block, each distinct block once however many runs
/// repeat it, covered when any run executed it. No branches.
fn parse_go<R: BufRead>(reader: R, first_line: usize) -> Result<Parsed, Failure> {
    let mut lines = TextLines::new(reader, first_line);
    let mut files: FileTable<HashMap<GoSpan, GoBlock>> = FileTable::new();
    let mut seen_mode = false;
    while let Some(n) = lines.next()? {
        let text = lines.text();
        if text.is_empty() {
            continue;
        }
        // Profiles of several runs concatenated repeat the mode line.
        if let Some(mode) = text.strip_prefix("mode:") {
            match mode.trim() {
                "set" | "count" | "atomic" => seen_mode = true,
                other => {
                    return Err(Failure::at(
                        n,
                        format!(
                            "unknown cover mode {:?} (expected set, count or atomic)",
                            clip(other)
                        ),
                    ))
                }
            }
            continue;
        }
        if !seen_mode {
            return Err(Failure::at(
                n,
                "expected `mode: set`, `mode: count` or `mode: atomic` first: not a Go cover profile",
            ));
        }
        let (file, span, statements, count) = parse_go_block(text).ok_or_else(|| {
            Failure::at(
                n,
                format!(
                    "expected `<file>:<line>.<column>,<line>.<column> <statements> <count>`, found {:?}",
                    clip(text)
                ),
            )
        })?;
        let block = files.get(file).entry(span).or_insert(GoBlock {
            statements,
            covered: false,
        });
        block.covered |= count > 0;
    }
    let files = files.into_coverage(|path, blocks| {
        let mut file = FileCoverage {
            path,
            lines_covered: 0,
            lines_valid: 0,
            branches_covered: 0,
            branches_valid: 0,
        };
        for block in blocks.values() {
            file.lines_valid = file.lines_valid.saturating_add(block.statements);
            if block.covered {
                file.lines_covered = file.lines_covered.saturating_add(block.statements);
            }
        }
        file
    });
    Ok(Parsed {
        files,
        declared: Declared::default(),
    })
}

/// `example.com/pkg/file.go:12.34,15.2 3 1` → file, span, statements, count.
fn parse_go_block(text: &str) -> Option<(&str, GoSpan, u64, u64)> {
    let (file, rest) = text.rsplit_once(':')?;
    if file.is_empty() {
        return None;
    }
    let mut fields = rest.split_ascii_whitespace();
    let (start, end) = fields.next()?.split_once(',')?;
    let statements = fields.next()?.parse().ok()?;
    let count = fields.next()?.parse().ok()?;
    if fields.next().is_some() {
        return None;
    }
    let (start_line, start_column) = start.split_once('.')?;
    let (end_line, end_column) = end.split_once('.')?;
    let span = (
        start_line.parse().ok()?,
        start_column.parse().ok()?,
        end_line.parse().ok()?,
        end_column.parse().ok()?,
    );
    Some((file, span, statements, count))
}

// ---------------------------------------------------------------------------
// XML formats: Cobertura and JaCoCo

/// A `BufRead` pass-through that notes where the newlines are in what the XML
/// reader consumes, so the byte positions quick-xml reports become line
/// numbers without keeping the text. Offsets are kept only from the start of
/// the current event (the mark); lines before it are just counted.
struct LineCounter<R> {
    inner: R,
    first_line: usize,
    consumed: u64,
    mark: u64,
    lines_before_mark: usize,
    newlines_since_mark: Vec<u64>,
    /// Whether the last byte consumed was a newline.
    at_line_start: bool,
}

impl<R: BufRead> LineCounter<R> {
    fn new(inner: R, first_line: usize) -> Self {
        LineCounter {
            inner,
            first_line,
            consumed: 0,
            mark: 0,
            lines_before_mark: 0,
            newlines_since_mark: Vec::new(),
            at_line_start: false,
        }
    }

    /// Called at the start of each event, at byte `position`.
    fn mark(&mut self, position: u64) {
        let passed = self
            .newlines_since_mark
            .partition_point(|&at| at < position);
        self.lines_before_mark += passed;
        self.newlines_since_mark.drain(..passed);
        self.mark = position;
    }

    /// The line of byte `position` (at or after the mark).
    fn line_at(&self, position: u64) -> usize {
        self.first_line
            + self.lines_before_mark
            + self
                .newlines_since_mark
                .partition_point(|&at| at < position)
    }

    /// The line of the last byte consumed, where the end of the file is.
    fn last_line(&self) -> usize {
        self.line_at(self.consumed) - usize::from(self.at_line_start)
    }

    fn note(&mut self, bytes: &[u8]) {
        for i in memchr::memchr_iter(b'\n', bytes) {
            self.newlines_since_mark.push(self.consumed + i as u64);
        }
        if let Some(&last) = bytes.last() {
            self.at_line_start = last == b'\n';
        }
        self.consumed += bytes.len() as u64;
    }
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.note(&out[..n]);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed.saturating_sub(self.mark) > MAX_XML_EVENT_BYTES {
            return Err(io::Error::other(
                "a single tag or text over 16 MiB: not a coverage report",
            ));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if amount > 0 {
            // The bytes being consumed are still in the inner buffer: the
            // caller just saw them through fill_buf, so this does no I/O.
            if let Ok(available) = self.inner.fill_buf() {
                let seen = amount.min(available.len());
                for i in memchr::memchr_iter(b'\n', &available[..seen]) {
                    self.newlines_since_mark.push(self.consumed + i as u64);
                }
                if let Some(&last) = available[..seen].last() {
                    self.at_line_start = last == b'\n';
                }
            }
            self.consumed += amount as u64;
        }
        self.inner.consume(amount);
    }
}

/// What the XML walk shows a format's parser.
enum XmlNode<'a, 'b> {
    Open(&'a BytesStart<'b>),
    Close,
}

/// Streams an XML report whose root element must be `root`, calling `visit`
/// with each element's opening and closing, its depth (root = 0) and local
/// name. Errors from `visit` get the line of the element.
fn walk_xml<R: BufRead>(
    reader: R,
    first_line: usize,
    format: Format,
    root: &str,
    mut visit: impl FnMut(XmlNode<'_, '_>, usize, &str) -> Result<(), String>,
) -> Result<(), Failure> {
    let mut xml = Reader::from_reader(LineCounter::new(reader, first_line));
    xml.config_mut().expand_empty_elements = true;
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut root_seen = false;
    loop {
        let start = xml.buffer_position();
        xml.get_mut().mark(start);
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(err) => {
                let line = xml.get_ref().line_at(xml.error_position());
                return Err(Failure::at(line, format!("malformed XML: {err}")));
            }
        };
        let line = xml.get_ref().line_at(start);
        match event {
            Event::Start(element) => {
                let name = element.local_name();
                let name = name.as_ref();
                if depth == 0 {
                    if root_seen {
                        return Err(Failure::at(
                            line,
                            format!("unexpected <{name}> after the end of <{root}>"),
                        ));
                    }
                    if name != root {
                        return Err(Failure::at(
                            line,
                            format!(
                                "expected <{root}> as the root element of a {format} report, found <{name}>"
                            ),
                        ));
                    }
                    root_seen = true;
                }
                if depth >= MAX_XML_DEPTH {
                    return Err(Failure::at(
                        line,
                        format!("elements nested more than {MAX_XML_DEPTH} deep"),
                    ));
                }
                visit(XmlNode::Open(&element), depth, name).map_err(|m| Failure::at(line, m))?;
                depth += 1;
            }
            Event::End(element) => {
                depth = depth.saturating_sub(1);
                visit(XmlNode::Close, depth, element.local_name().as_ref())
                    .map_err(|m| Failure::at(line, m))?;
            }
            Event::Eof if depth > 0 => {
                return Err(Failure::at(
                    xml.get_ref().last_line(),
                    format!("unexpected end of file: <{root}> is not closed (truncated report?)"),
                ));
            }
            Event::Eof if !root_seen => {
                return Err(Failure {
                    line: None,
                    message: format!("no <{root}> element: not a {format} report"),
                });
            }
            Event::Eof => return Ok(()),
            // Declarations, DOCTYPE (never fetched), comments, text.
            _ => {}
        }
    }
}

/// The values of the attributes `names` of `element`, in the same order.
fn attributes<'a, const N: usize>(
    element: &'a BytesStart<'_>,
    names: [&str; N],
) -> Result<[Option<Cow<'a, str>>; N], String> {
    let mut found: [Option<Cow<'a, str>>; N] = std::array::from_fn(|_| None);
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|err| {
            format!(
                "malformed attribute in <{}>: {err}",
                element.local_name().as_ref()
            )
        })?;
        let key: &str = attribute.key.as_ref();
        if let Some(i) = names.iter().position(|name| *name == key) {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| {
                    format!(
                        "malformed attribute {key} in <{}>: {err}",
                        element.local_name().as_ref()
                    )
                })?;
            found[i] = Some(value);
        }
    }
    Ok(found)
}

/// An attribute that must be a whole number when present.
fn whole(element: &str, name: &str, value: Option<&str>) -> Result<Option<u64>, String> {
    value
        .map(|value| {
            value.trim().parse().map_err(|_| {
                format!(
                    "<{element} {name}=\"{}\">: expected a whole number",
                    clip(value)
                )
            })
        })
        .transpose()
}

/// An attribute that must be present and a whole number.
fn required_whole(element: &str, name: &str, value: Option<&str>) -> Result<u64, String> {
    whole(element, name, value)?.ok_or_else(|| format!("<{element}> without its {name} attribute"))
}

/// Cobertura: the `<line>`s of each `<class>`, per `filename` (a file split
/// over several classes merges by line number); branches from
/// `condition-coverage`. The root's `lines-covered`… are the stated totals.
fn parse_cobertura<R: BufRead>(reader: R, first_line: usize) -> Result<Parsed, Failure> {
    let mut files: FileTable<LineTable> = FileTable::new();
    let mut declared = Declared::default();
    let mut class: Option<usize> = None;
    // Java Cobertura repeats a method's lines under <methods>; the class's own
    // <lines> list them all.
    let mut methods_depth: Option<usize> = None;
    walk_xml(
        reader,
        first_line,
        Format::Cobertura,
        "coverage",
        |node, depth, name| {
            let element = match node {
                XmlNode::Close => {
                    match name {
                        "class" => class = None,
                        "methods" if methods_depth == Some(depth) => methods_depth = None,
                        _ => {}
                    }
                    return Ok(());
                }
                XmlNode::Open(element) => element,
            };
            match name {
                "coverage" if depth == 0 => {
                    let [lc, lv, bc, bv] = attributes(
                        element,
                        [
                            "lines-covered",
                            "lines-valid",
                            "branches-covered",
                            "branches-valid",
                        ],
                    )?;
                    let number =
                        |attr, value: &Option<Cow<str>>| whole(name, attr, value.as_deref());
                    let lines = (number("lines-covered", &lc)?, number("lines-valid", &lv)?);
                    let branches = (
                        number("branches-covered", &bc)?,
                        number("branches-valid", &bv)?,
                    );
                    declared.lines = lines.0.zip(lines.1);
                    declared.branches = branches.0.zip(branches.1);
                }
                "class" => {
                    let [filename] = attributes(element, ["filename"])?;
                    let filename = filename
                        .filter(|f| !f.trim().is_empty())
                        .ok_or_else(|| "<class> without a filename attribute".to_owned())?;
                    class = Some(files.index_of(filename.trim()));
                }
                "methods" if methods_depth.is_none() => methods_depth = Some(depth),
                "line" if methods_depth.is_none() => {
                    let Some(table) = class.and_then(|i| files.at(i)) else {
                        return Ok(());
                    };
                    let [number, hits, branch, conditions] =
                        attributes(element, ["number", "hits", "branch", "condition-coverage"])?;
                    let number = required_whole(name, "number", number.as_deref())?;
                    let hits = required_whole(name, "hits", hits.as_deref())?;
                    let (covered, valid) = match (branch.as_deref(), conditions.as_deref()) {
                        (Some("true"), Some(conditions)) => condition_coverage(conditions)?,
                        _ => (0, 0),
                    };
                    table.record(number, hits > 0, covered, valid);
                }
                _ => {}
            }
            Ok(())
        },
    )?;
    Ok(Parsed {
        files: files.into_coverage(LineTable::coverage),
        declared,
    })
}

/// `50% (1/2)` → (1, 2).
fn condition_coverage(text: &str) -> Result<(u64, u64), String> {
    let parsed = (|| {
        let inner = text.split_once('(')?.1.split_once(')')?.0;
        let (covered, valid) = inner.split_once('/')?;
        let covered: u64 = covered.trim().parse().ok()?;
        let valid: u64 = valid.trim().parse().ok()?;
        (covered <= valid).then_some((covered, valid))
    })();
    parsed.ok_or_else(|| {
        format!(
            "<line condition-coverage=\"{}\">: expected `<percent>% (<covered>/<valid>)` \
             with covered at most valid",
            clip(text)
        )
    })
}

/// JaCoCo: `<line nr mi ci mb cb>` of each `<sourcefile>`, at
/// `package/name`; a line is covered when any of its instructions ran
/// (`ci > 0`), as JaCoCo's LINE counter counts. The report's own LINE and
/// BRANCH counters are the stated totals.
fn parse_jacoco<R: BufRead>(reader: R, first_line: usize) -> Result<Parsed, Failure> {
    let mut files: FileTable<LineTable> = FileTable::new();
    let mut declared = Declared::default();
    let mut package: Option<String> = None;
    let mut source: Option<usize> = None;
    walk_xml(
        reader,
        first_line,
        Format::Jacoco,
        "report",
        |node, depth, name| {
            let element = match node {
                XmlNode::Close => {
                    match name {
                        "package" => package = None,
                        "sourcefile" => source = None,
                        _ => {}
                    }
                    return Ok(());
                }
                XmlNode::Open(element) => element,
            };
            match name {
                "package" => {
                    let [package_name] = attributes(element, ["name"])?;
                    let package_name = package_name
                        .ok_or_else(|| "<package> without a name attribute".to_owned())?;
                    package = Some(package_name.into_owned());
                }
                "sourcefile" => {
                    let [file_name] = attributes(element, ["name"])?;
                    let file_name = file_name
                        .ok_or_else(|| "<sourcefile> without a name attribute".to_owned())?;
                    let Some(package) = &package else {
                        return Err("<sourcefile> outside a <package>".to_owned());
                    };
                    let path = if package.is_empty() {
                        file_name.into_owned()
                    } else {
                        format!("{package}/{file_name}")
                    };
                    source = Some(files.index_of(&path));
                }
                "line" => {
                    let Some(table) = source.and_then(|i| files.at(i)) else {
                        return Ok(());
                    };
                    let [nr, _mi, ci, mb, cb] =
                        attributes(element, ["nr", "mi", "ci", "mb", "cb"])?;
                    let nr = required_whole(name, "nr", nr.as_deref())?;
                    let ci = required_whole(name, "ci", ci.as_deref())?;
                    let mb = required_whole(name, "mb", mb.as_deref())?;
                    let cb = required_whole(name, "cb", cb.as_deref())?;
                    table.record(nr, ci > 0, cb, mb.saturating_add(cb));
                }
                // The report's own totals: its direct <counter> children.
                "counter" if depth == 1 => {
                    let [kind, missed, covered] =
                        attributes(element, ["type", "missed", "covered"])?;
                    let missed = required_whole(name, "missed", missed.as_deref())?;
                    let covered = required_whole(name, "covered", covered.as_deref())?;
                    let total = Some((covered, missed.saturating_add(covered)));
                    match kind.as_deref() {
                        Some("LINE") => declared.lines = total,
                        Some("BRANCH") => declared.branches = total,
                        _ => {}
                    }
                }
                _ => {}
            }
            Ok(())
        },
    )?;
    // A report without a BRANCH counter has no branches at all.
    if declared.lines.is_some() && declared.branches.is_none() {
        declared.branches = Some((0, 0));
    }
    Ok(Parsed {
        files: files.into_coverage(LineTable::coverage),
        declared,
    })
}

// ---------------------------------------------------------------------------
// tarpaulin JSON

#[derive(Deserialize)]
struct TarpaulinReport {
    files: Vec<TarpaulinFile>,
    covered: Option<u64>,
    coverable: Option<u64>,
}

/// One file; `content` (the whole source text) is skipped unread, as is
/// every other field not named here.
#[derive(Deserialize)]
struct TarpaulinFile {
    path: Vec<String>,
    traces: TraceTally,
    covered: Option<u64>,
    coverable: Option<u64>,
}

/// A file's traces, counted as they stream past rather than kept.
#[derive(Default)]
struct TraceTally {
    traces: u64,
    covered: u64,
}

impl<'de> Deserialize<'de> for TraceTally {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Tally;
        impl<'de> Visitor<'de> for Tally {
            type Value = TraceTally;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of traces")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TraceTally, A::Error> {
                let mut tally = TraceTally::default();
                while let Some(trace) = seq.next_element::<Trace>()? {
                    tally.traces += 1;
                    tally.covered += u64::from(trace.stats.covered());
                }
                Ok(tally)
            }
        }
        deserializer.deserialize_seq(Tally)
    }
}

#[derive(Deserialize)]
struct Trace {
    stats: TraceStats,
}

/// tarpaulin's `CoverageStat`; only `Line` occurs in practice.
#[derive(Deserialize)]
enum TraceStats {
    Line(u64),
    Branch(LogicState),
    Condition(Vec<LogicState>),
}

#[derive(Deserialize)]
struct LogicState {
    been_true: bool,
    been_false: bool,
}

impl TraceStats {
    fn covered(&self) -> bool {
        match self {
            TraceStats::Line(hits) => *hits > 0,
            TraceStats::Branch(state) => state.been_true || state.been_false,
            TraceStats::Condition(states) => states.iter().any(|s| s.been_true || s.been_false),
        }
    }
}

/// tarpaulin: one line per trace, covered when hit. The report's (else its files')
/// `covered`/`coverable` are the stated totals.
fn parse_tarpaulin<R: BufRead>(reader: R, first_line: usize) -> Result<Parsed, Failure> {
    let report: TarpaulinReport = serde_json::from_reader(reader).map_err(|err| {
        let line = (err.line() > 0).then(|| first_line + err.line() - 1);
        let mut message = err.to_string();
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        if err.is_eof() {
            message.push_str(" (truncated report?)");
        }
        Failure {
            line,
            message: format!("malformed tarpaulin JSON: {message}"),
        }
    })?;
    let mut declared_files = Some((0u64, 0u64));
    let mut files = Vec::with_capacity(report.files.len());
    for file in report.files {
        declared_files = match (declared_files, file.covered, file.coverable) {
            (Some(sum), Some(covered), Some(coverable)) => Some((
                sum.0.saturating_add(covered),
                sum.1.saturating_add(coverable),
            )),
            _ => None,
        };
        files.push(FileCoverage {
            path: join_components(&file.path),
            lines_covered: file.traces.covered,
            lines_valid: file.traces.traces,
            branches_covered: 0,
            branches_valid: 0,
        });
    }
    let declared_report = report.covered.zip(report.coverable);
    Ok(Parsed {
        files,
        declared: Declared {
            lines: declared_report.or(declared_files),
            branches: None,
        },
    })
}

/// tarpaulin splits paths into components, the first being `/` on Unix.
fn join_components(components: &[String]) -> String {
    let mut path = String::new();
    for component in components {
        if !path.is_empty() && !path.ends_with(['/', '\\']) {
            path.push('/');
        }
        path.push_str(component);
    }
    path
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

//! The coverage-report probe and the coverage figures of a repository:
//! reports found by globs in the work tree, or named in the configuration
//! (CI artifacts), parsed and summed.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::files::RepoFiles;
use super::{CodeProbe, Evidence, Finding, Outcome};
use crate::diagnostics::Diagnostic;
use crate::message::Message;
use crate::msg;
use crate::sources::coverage::{self, CoverageReport};

pub static PROBE: CodeProbe = CodeProbe {
    id: "testing.coverage-report",
    title: "Test coverage is measured",
    chapter: "testing",
    remediation: "Produce a coverage report in the pipeline (lcov, Cobertura, JaCoCo, Go cover profile, tarpaulin) and keep it as an artifact.",
};

/// One parsed report, for the JSON output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportSummary {
    pub path: String,
    pub format: coverage::Format,
    pub line_rate: Option<f64>,
    pub branch_rate: Option<f64>,
}

/// The coverage of a repository: every report summed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub line_rate: Option<f64>,
    pub branch_rate: Option<f64>,
    pub lines_covered: u64,
    pub lines_valid: u64,
    pub branches_covered: u64,
    pub branches_valid: u64,
    pub reports: Vec<ReportSummary>,
}

/// A rate of the summary, rounded as the report's numbers are.
fn rate(covered: u64, valid: u64) -> Option<f64> {
    crate::metrics::stats::rate(covered, valid).map(crate::metrics::stats::round4)
}

/// Finds and parses coverage reports: `globs` among the repository's files
/// (its work tree, or the tree of a commit) and `extra` report paths.
/// Malformed reports are returned as diagnostics.
pub fn collect(
    files: &RepoFiles,
    globs: &[String],
    extra: &[(PathBuf, PathBuf)],
) -> (Vec<CoverageReport>, Vec<Diagnostic>) {
    let mut reports = Vec::new();
    let mut problems = Vec::new();
    let mut parsed =
        |result: Result<CoverageReport, coverage::CoverageError>, shown: PathBuf| match result {
            Ok(mut r) => {
                r.path = shown;
                reports.push(r);
            }
            Err(e) => problems.push(Diagnostic::new(
                shown,
                e.line,
                format!("{INVALID}{}", e.message),
            )),
        };
    if let Some(in_tree) = files.tree_reports(globs) {
        for rel in in_tree
            .into_iter()
            .filter(|rel| !in_test_data(Path::new(rel)))
        {
            let shown = PathBuf::from(rel);
            let result = files.read_blob(rel).map_err(|why| coverage::CoverageError {
                file: shown.clone(),
                line: None,
                message: why.english(),
            });
            parsed(
                result.and_then(|bytes| coverage::parse_bytes(&bytes, &shown)),
                shown,
            );
        }
    } else if files.unavailable.is_none() {
        for p in coverage::find_reports(&files.root, globs) {
            let Ok(rel) = p.strip_prefix(&files.root) else {
                continue;
            };
            if in_test_data(rel) {
                continue;
            }
            let shown = rel.to_path_buf();
            parsed(coverage::parse_file(&p), shown);
        }
    }
    for (path, shown) in extra {
        parsed(coverage::parse_file(path), shown.clone());
    }
    (reports, problems)
}

/// How [`collect`] words a report it skips, before the parser's own detail.
const INVALID: &str = "invalid coverage report: ";

/// The note on a report for a coverage report [`collect`] skipped: our
/// sentence in the page's language around the file (and line), and the
/// parser's own detail kept as the English it is written in (`Arg::English`).
pub fn skipped_note(problem: &Diagnostic) -> Message {
    let file = problem.file.display();
    let file = match problem.line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_string(),
    };
    let detail = problem
        .message
        .strip_prefix(INVALID)
        .unwrap_or(&problem.message);
    crate::msg!(
        "msg_note_coverage_skipped",
        file = file,
        detail = crate::message::Arg::English(detail.to_string())
    )
}

/// Reports inside test data belong to imaginary repositories.
fn in_test_data(rel: &Path) -> bool {
    rel.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        super::files::TEST_DATA_DIRS.contains(&c.as_ref())
    })
}

/// The summed coverage of `reports`, or `None` when there are none.
pub fn summarise(reports: &[CoverageReport]) -> Option<Coverage> {
    let (lc, lv, bc, bv) = coverage::combine(reports)?;
    Some(Coverage {
        line_rate: rate(lc, lv),
        branch_rate: rate(bc, bv),
        lines_covered: lc,
        lines_valid: lv,
        branches_covered: bc,
        branches_valid: bv,
        reports: reports
            .iter()
            .map(|r| ReportSummary {
                path: r.path.to_string_lossy().replace('\\', "/"),
                format: r.format,
                line_rate: r.line_rate(),
                branch_rate: r.branch_rate(),
            })
            .collect(),
    })
}

/// Coverage turned on outside the pipeline file: the test runner's or the
/// build's configuration (file names, and the line that turns it on).
const CONFIGURED: &[(&[&str], &str)] = &[
    (&["package.json"], r#""collectCoverage"\s*:\s*true"#),
    (
        &[
            "jest.config.js",
            "jest.config.ts",
            "jest.config.mjs",
            "jest.config.cjs",
            "jest.config.json",
        ],
        r#"["']?collectCoverage["']?\s*:\s*true"#,
    ),
    (
        &["pyproject.toml", "setup.cfg", "tox.ini", "pytest.ini"],
        r"--cov\b",
    ),
    (
        &["pom.xml"],
        r"<artifactId>jacoco-maven-plugin</artifactId>",
    ),
    (
        &["build.gradle", "build.gradle.kts"],
        r#"^\s*(id\s*\(?\s*["']jacoco["']|apply\s+plugin\s*:\s*["']jacoco["']|jacoco\b)|kover"#,
    ),
    (
        &["spec_helper.rb", "test_helper.rb", ".simplecov"],
        r"SimpleCov\.start",
    ),
];

/// The probe: pass when a report was found, when the pipeline produces one
/// (a coverage tool in a pipeline file or one step away from it), or when the
/// test runner or the build is configured to measure it.
pub fn run(files: &RepoFiles, reports: &[CoverageReport]) -> Finding {
    if !reports.is_empty() {
        let evidence = reports
            .iter()
            .take(5)
            .map(|r| {
                let path = r.path.to_string_lossy().replace('\\', "/");
                let format = format!("{:?}", r.format);
                let note = match r.line_rate() {
                    Some(l) => msg!(
                        "msg_coverage_report_rate",
                        format = format,
                        percent = format!("{:.1}", l * 100.0)
                    ),
                    None => msg!("msg_coverage_report", format = format),
                };
                Evidence::file(&path, note)
            })
            .collect();
        return PROBE.finding(Outcome::Pass, evidence);
    }
    if let Some(why) = &files.unavailable {
        return PROBE.finding(Outcome::Unknown, vec![Evidence::note(why.clone())]);
    }
    static TOOL: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let tool = TOOL.get_or_init(|| {
        regex::Regex::new(r"--cov\b|\bcoverage (run|xml|report)\b|\b(tarpaulin|llvm-cov|jacoco|kover|lcov|nyc|c8|coverlet|simplecov|codecov|coveralls)\b|\s-cover(profile|pkg|mode)?\b|--coverage\b|--collect:?\W*XPlat Code Coverage")
            .expect("valid regex")
    });
    let ci = super::files::Globs::new(super::pipeline::CI_FILES).expect("valid globs");
    for path in files.matching(&ci) {
        let Some(pipeline) = super::pipeline::read(files, path) else {
            continue;
        };
        for run in &pipeline.runs {
            if let Some(m) = tool.find(&run.text) {
                let tool = m.as_str().trim();
                let how = match &run.via {
                    Some(via) => msg!("msg_coverage_tool_via", tool = tool, via = via.to_string()),
                    None => msg!("msg_coverage_tool", tool = tool),
                };
                return PROBE.finding(
                    Outcome::Pass,
                    vec![Evidence::at(
                        path,
                        run.line,
                        msg!("msg_coverage_in_pipeline", how = how),
                    )],
                );
            }
        }
    }
    for (names, pattern) in CONFIGURED {
        let globs = super::files::Globs::new(names).expect("valid globs");
        let re = regex::Regex::new(pattern).expect("valid regex");
        for path in files.matching(&globs) {
            let Some(text) = files.read(path) else {
                continue;
            };
            if let Some((i, m)) = text
                .lines()
                .enumerate()
                .find_map(|(i, l)| re.find(l).map(|m| (i, m.as_str().trim().to_string())))
            {
                return PROBE.finding(
                    Outcome::Pass,
                    vec![Evidence::at(
                        path,
                        i + 1,
                        msg!("msg_coverage_configured", setting = m),
                    )],
                );
            }
        }
    }
    PROBE.finding(
        Outcome::Fail,
        vec![Evidence::note(Message::new("msg_no_coverage"))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report the parser refuses becomes a note whose sentence is ours (in
    /// the page's language) and whose detail is the parser's English.
    #[test]
    fn a_skipped_report_is_our_sentence_around_the_parser_s_words() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("lcov.info");
        std::fs::write(&bad, "\n\nTN:\nDA:1,1\n").unwrap();
        let files = RepoFiles::unavailable(dir.path(), Message::text("not read"));
        let extra = [(bad, PathBuf::from("out/lcov.info"))];
        let (reports, problems) = collect(&files, &[], &extra);
        assert!(reports.is_empty());
        assert_eq!(problems.len(), 1);
        let note = skipped_note(&problems[0]);
        let detail = "DA: outside a record (expected SF:<path> before it)";
        assert_eq!(
            note.english(),
            format!("the coverage report out/lcov.info:4 was skipped, it is not a valid report: {detail}")
        );
        let zh: std::collections::BTreeMap<String, String> = toml::from_str(
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/i18n/zh.toml"),
            )
            .unwrap(),
        )
        .unwrap();
        let strings = |k: &str| zh.get(k).map(String::as_str);
        assert_eq!(
            note.render_parts(&strings),
            vec![
                (
                    "已跳过覆盖率报告 out/lcov.info:4，它不是有效的报告：".to_string(),
                    false
                ),
                (detail.to_string(), true),
            ]
        );
        assert!(note.has_english_detail() && !note.is_untranslated());
        // Stored with the facts and read back, the detail is still marked.
        let back = Message::from_record(&note.record()).unwrap();
        assert_eq!(back, note);
        assert_eq!(
            serde_json::to_value(note.record()).unwrap()["args"]["detail"],
            serde_json::json!({ "english": detail })
        );
    }
}

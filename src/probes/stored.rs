//! Findings kept with a host repository's facts: `collect` probes the files
//! it reads through the host's API and stores what the probes found
//! ([`crate::facts::ProbedFiles`]); `assess` and `build` read them back
//! instead of probing again, offline.

use std::path::PathBuf;

use super::coverage::PROBE as COVERAGE_PROBE;
use super::{Evidence, FileSource, Finding, Outcome, SourceKind};
use crate::facts::{CoverageTotals, EvidenceRecord, ProbeRecord, ProbedFiles};
use crate::message::{Message, MessageRecord};
use crate::sources::coverage::{CoverageReport, Format};

/// What to store of a probing: where the files were read, the findings and
/// the coverage reports of the tree.
pub fn record(
    source: &FileSource,
    web_url: Option<String>,
    findings: &[Finding],
    reports: &[CoverageReport],
) -> ProbedFiles {
    ProbedFiles {
        source: match source.source {
            SourceKind::Unavailable => "unavailable".to_string(),
            _ => "host".to_string(),
        },
        reference: source.reference.clone(),
        commit: source.commit.clone(),
        description: source.description.english(),
        description_message: Some(source.description.record()),
        web_url,
        findings: findings
            .iter()
            .map(|f| ProbeRecord {
                probe: f.probe.clone(),
                title: f.title.clone(),
                outcome: f.outcome.as_str().to_string(),
                evidence: f
                    .evidence
                    .iter()
                    .map(|e| EvidenceRecord {
                        path: e.path.clone(),
                        line: e.line,
                        note: e.note.english(),
                        message: Some(e.note.record()),
                    })
                    .collect(),
                remediation: f.remediation.clone(),
                chapter: f.chapter.clone(),
            })
            .collect(),
        coverage: reports
            .iter()
            .map(|r| CoverageTotals {
                path: r.path.to_string_lossy().replace('\\', "/"),
                format: serde_json::to_value(r.format)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                lines_covered: r.lines_covered,
                lines_valid: r.lines_valid,
                branches_covered: r.branches_covered,
                branches_valid: r.branches_valid,
            })
            .collect(),
    }
}

/// Where the stored findings were read.
pub fn source(p: &ProbedFiles) -> FileSource {
    FileSource {
        source: if p.source == "host" {
            SourceKind::Host
        } else {
            SourceKind::Unavailable
        },
        reference: p.reference.clone(),
        commit: p.commit.clone(),
        description: restored(&p.description, p.description_message.as_ref()),
    }
}

/// The stored findings; `extra` coverage reports (CI artifacts named in the
/// configuration) make the coverage probe pass as they would on a checkout.
pub fn findings(p: &ProbedFiles, extra: &[CoverageReport]) -> Vec<Finding> {
    let mut out: Vec<Finding> = p
        .findings
        .iter()
        .map(|f| Finding {
            probe: f.probe.clone(),
            title: f.title.clone(),
            outcome: match f.outcome.as_str() {
                "pass" => Outcome::Pass,
                "fail" => Outcome::Fail,
                "not-applicable" => Outcome::NotApplicable,
                _ => Outcome::Unknown,
            },
            evidence: f
                .evidence
                .iter()
                .map(|e| Evidence {
                    path: e.path.clone(),
                    line: e.line,
                    note: restored(&e.note, e.message.as_ref()),
                })
                .collect(),
            remediation: f.remediation.clone(),
            chapter: f.chapter.clone(),
        })
        .collect();
    if !extra.is_empty() {
        let all = reports(p).into_iter().chain(extra.iter().cloned());
        let all: Vec<CoverageReport> = all.collect();
        let none = super::RepoFiles::unavailable(&PathBuf::new(), Message::text(""));
        let pass = super::coverage::run(&none, &all);
        match out.iter_mut().find(|f| f.probe == COVERAGE_PROBE.id) {
            Some(f) => *f = pass,
            None => out.push(pass),
        }
    }
    out
}

/// A stored sentence: its message when this version's catalogue knows it,
/// else the English text as it was stored.
fn restored(english: &str, record: Option<&MessageRecord>) -> Message {
    record
        .and_then(Message::from_record)
        .unwrap_or_else(|| Message::text(english))
}

/// The coverage reports of the tree, as totals (no per-file detail).
pub fn reports(p: &ProbedFiles) -> Vec<CoverageReport> {
    p.coverage
        .iter()
        .filter_map(|c| {
            let format: Format = serde_json::from_value(serde_json::json!(c.format)).ok()?;
            Some(CoverageReport {
                format,
                path: PathBuf::from(&c.path),
                files: Vec::new(),
                lines_covered: c.lines_covered,
                lines_valid: c.lines_valid,
                branches_covered: c.branches_covered,
                branches_valid: c.branches_valid,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg;

    fn finding(note: Message) -> Finding {
        Finding {
            probe: "containers.base-image-pinned".into(),
            title: "t".into(),
            outcome: Outcome::Fail,
            evidence: vec![Evidence::at("Dockerfile", 1, note)],
            remediation: "r".into(),
            chapter: "c".into(),
        }
    }

    #[test]
    fn stored_findings_keep_their_messages_and_old_ones_their_english() {
        let source = FileSource::host("GitHub", "main", &"a".repeat(40));
        let note = msg!("msg_from_unpinned", image = "node:{image}");
        let stored = record(&source, None, &[finding(note.clone())], &[]);
        let json = serde_json::to_string(&stored).unwrap();
        let back: ProbedFiles = serde_json::from_str(&json).unwrap();
        // The English stays in the file for readers of the JSON.
        assert_eq!(
            back.findings[0].evidence[0].note,
            "FROM node:{image} is not pinned to a version"
        );
        assert_eq!(findings(&back, &[])[0].evidence[0].note, note);
        assert_eq!(self::source(&back).description, source.description);

        // Facts stored before messages existed: the English text, as it was.
        let mut old = back.clone();
        old.findings[0].evidence[0].message = None;
        old.description_message = None;
        assert_eq!(
            findings(&old, &[])[0].evidence[0].note,
            Message::text("FROM node:{image} is not pinned to a version")
        );
        assert_eq!(
            self::source(&old).description,
            Message::text("GitHub tree of `main` at `aaaaaaa`")
        );
    }
}

//! Practice probes, in the style of OpenSSF Scorecard: each reads the
//! repository's files (its work tree, or the tree of a commit of a bare
//! repository: see [`RepoFiles::open`]) and returns a finding — pass, fail, not applicable or
//! unknown — with evidence (path, line, note) and a remediation that links to
//! the handbook. Pattern probes are data (`data/probes.toml`); the probes that
//! need real parsing (Dockerfiles, Kubernetes workloads, pinned actions,
//! coverage) are code.

pub mod containers;
pub mod coverage;
pub mod files;
pub mod flow;
pub mod kubernetes;
mod listed;
pub mod patterns;
pub mod pipeline;
pub mod stored;
mod tree;
pub mod workflows;

use serde::Serialize;

use crate::message::Message;
pub use files::{FileSource, RepoFiles, SourceKind};
pub use listed::{BlobReader, ListedFile};

/// What a probe concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Pass,
    Fail,
    NotApplicable,
    Unknown,
}

impl Outcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::NotApplicable => "not-applicable",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Where a finding comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub path: Option<String>,
    pub line: Option<usize>,
    /// What was seen, in the catalogue's words (English in the JSON).
    pub note: Message,
}

impl Evidence {
    pub fn at(path: &str, line: usize, note: Message) -> Evidence {
        Evidence {
            path: Some(path.to_string()),
            line: Some(line),
            note,
        }
    }

    pub fn file(path: &str, note: Message) -> Evidence {
        Evidence {
            path: Some(path.to_string()),
            line: None,
            note,
        }
    }

    pub fn note(note: Message) -> Evidence {
        Evidence {
            path: None,
            line: None,
            note,
        }
    }
}

/// One probe's result for one repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub probe: String,
    pub title: String,
    pub outcome: Outcome,
    pub evidence: Vec<Evidence>,
    /// What to do to pass, when it did not.
    pub remediation: String,
    /// Handbook chapter slug (`guide/<chapter>/`).
    pub chapter: String,
}

/// Description of a probe implemented in code (id, title, chapter, remediation).
pub struct CodeProbe {
    pub id: &'static str,
    pub title: &'static str,
    pub chapter: &'static str,
    pub remediation: &'static str,
}

impl CodeProbe {
    pub fn finding(&self, outcome: Outcome, evidence: Vec<Evidence>) -> Finding {
        Finding {
            probe: self.id.to_string(),
            title: self.title.to_string(),
            outcome,
            evidence,
            remediation: if outcome == Outcome::Pass {
                String::new()
            } else {
                self.remediation.to_string()
            },
            chapter: self.chapter.to_string(),
        }
    }
}

/// Every probe's (id, title, remediation): the catalogue's, then the probes
/// written as code. The texts a site shows, and translates.
pub fn texts(catalogue: &patterns::Catalogue) -> Vec<(String, String, String)> {
    let pattern = catalogue
        .probes
        .iter()
        .map(|p| (p.id.clone(), p.title.clone(), p.remediation.clone()));
    let code = code_probes()
        .into_iter()
        .chain([&coverage::PROBE])
        .map(|p| {
            (
                p.id.to_string(),
                p.title.to_string(),
                p.remediation.to_string(),
            )
        });
    pattern.chain(code).collect()
}

/// Every probe id opsmeter knows: the pattern probes of `catalogue` and the code probes.
pub fn known_ids(catalogue: &patterns::Catalogue) -> Vec<String> {
    let mut ids: Vec<String> = catalogue.probes.iter().map(|p| p.id.clone()).collect();
    for p in code_probes() {
        ids.push(p.id.to_string());
    }
    ids.push(coverage::PROBE.id.to_string());
    ids
}

/// The probes implemented in code.
pub fn code_probes() -> Vec<&'static CodeProbe> {
    let mut v: Vec<&'static CodeProbe> = containers::PROBES.iter().collect();
    v.extend(kubernetes::PROBES.iter());
    v.extend(workflows::PROBES.iter());
    v.extend(flow::PROBES.iter());
    v
}

/// Runs every probe on a repository's files.
pub fn run_all(files: &RepoFiles, catalogue: &patterns::Catalogue) -> Vec<Finding> {
    let mut findings = patterns::run(files, catalogue);
    findings.extend(containers::run(files));
    findings.extend(kubernetes::run(files));
    findings.extend(workflows::run(files));
    findings
}

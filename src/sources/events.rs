//! Events files: deployments and incidents exported from CI/CD and paging
//! tools (Jenkins, CodeDeploy, PagerDuty), as CSV with a header row or as
//! JSON Lines. Columns / keys:
//!
//! - `type`: `deployment` or `incident` (optional: inferred from the times given);
//! - deployments: `id`, `sha` or `ref`, `environment`, `status`, `finished_at`;
//! - incidents: `id`, `started_at`, `resolved_at` (empty while open), `cause_sha` (optional);
//! - both: `service` (optional), the service of the repository it concerns (`[[repos.services]]`).
//!
//! Every malformed row is reported with its file and line.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::diagnostics::Diagnostic;
use crate::facts::DeploymentStatus;

/// A deployment row, before its sha or ref is resolved against git.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentRow {
    pub id: String,
    /// Sha (full or abbreviated) or ref name of what was deployed.
    pub revision: Option<String>,
    pub environment: String,
    pub status: DeploymentStatus,
    pub finished_at: DateTime<Utc>,
    /// The service of the repository it deployed (`service` column), if named.
    pub service: Option<String>,
    pub file: PathBuf,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRow {
    pub id: String,
    pub started_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub cause_sha: Option<String>,
    /// The service of the repository it concerns (`service` column), if named.
    pub service: Option<String>,
}

/// The rows of one or more events files.
#[derive(Debug, Default)]
pub struct Events {
    pub deployments: Vec<DeploymentRow>,
    pub incidents: Vec<IncidentRow>,
    /// Rows skipped on purpose (cancelled or in-progress deployments).
    pub skipped: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRow {
    #[serde(rename = "type", alias = "kind")]
    kind: Option<String>,
    id: Option<serde_json::Value>,
    sha: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    environment: Option<String>,
    status: Option<String>,
    finished_at: Option<String>,
    started_at: Option<String>,
    resolved_at: Option<String>,
    #[serde(alias = "cause")]
    cause_sha: Option<String>,
    service: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub use crate::time::parse_time;

enum Parsed {
    Deployment(DeploymentRow),
    Incident(IncidentRow),
    Skipped,
}

fn interpret(raw: RawRow, file: &Path, line: usize) -> Result<Parsed, String> {
    let id = match &raw.id {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return Err("missing `id`".into()),
    };
    let kind = match nonempty(&raw.kind) {
        Some(k) => k.to_ascii_lowercase(),
        None if raw.finished_at.is_some() => "deployment".into(),
        None if raw.started_at.is_some() => "incident".into(),
        None => return Err(
            "cannot tell a deployment from an incident: give `type`, `finished_at` or `started_at`"
                .into(),
        ),
    };
    let time = |field: &str, value: &Option<String>| -> Result<Option<DateTime<Utc>>, String> {
        match nonempty(value) {
            None => Ok(None),
            Some(v) => parse_time(v)
                .map(Some)
                .ok_or_else(|| format!("`{field}` {v:?} is not a time (expected RFC 3339, `YYYY-MM-DD HH:MM:SS` UTC or `YYYY-MM-DD`)")),
        }
    };
    match kind.as_str() {
        "deployment" | "deploy" => {
            let status = match nonempty(&raw.status).map(str::to_ascii_lowercase).as_deref() {
                None | Some("success") | Some("succeeded") | Some("successful") => DeploymentStatus::Success,
                Some("failure") | Some("failed") | Some("error") => DeploymentStatus::Failure,
                Some("cancelled") | Some("canceled") | Some("skipped") | Some("in_progress") | Some("running") => {
                    return Ok(Parsed::Skipped)
                }
                Some(other) => {
                    return Err(format!(
                        "`status` {other:?} is not one of success, failure (cancelled, skipped and in_progress rows are ignored)"
                    ))
                }
            };
            let finished_at =
                time("finished_at", &raw.finished_at)?.ok_or("missing `finished_at`")?;
            let revision = nonempty(&raw.sha)
                .or(nonempty(&raw.reference))
                .map(str::to_string);
            Ok(Parsed::Deployment(DeploymentRow {
                id,
                revision,
                environment: nonempty(&raw.environment).unwrap_or("").to_string(),
                status,
                finished_at,
                service: nonempty(&raw.service).map(str::to_string),
                file: file.to_path_buf(),
                line,
            }))
        }
        "incident" => {
            let started_at = time("started_at", &raw.started_at)?.ok_or("missing `started_at`")?;
            let resolved_at = time("resolved_at", &raw.resolved_at)?;
            if resolved_at.is_some_and(|r| r < started_at) {
                return Err("`resolved_at` is before `started_at`".into());
            }
            Ok(Parsed::Incident(IncidentRow {
                id,
                started_at,
                resolved_at,
                cause_sha: nonempty(&raw.cause_sha).map(str::to_string),
                service: nonempty(&raw.service).map(str::to_string),
            }))
        }
        other => Err(format!("`type` {other:?} is not deployment or incident")),
    }
}

/// Reads events files. Returns the good rows and a diagnostic per bad row.
pub fn read(files: &[(PathBuf, PathBuf)]) -> (Events, Vec<Diagnostic>) {
    let mut events = Events::default();
    let mut problems = Vec::new();
    for (path, shown) in files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                problems.push(Diagnostic::new(
                    shown,
                    None,
                    format!("cannot read events file: {e}"),
                ));
                continue;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let line = crate::diagnostics::line_of_offset(
                    &String::from_utf8_lossy(&e.as_bytes()[..at]),
                    at,
                );
                problems.push(Diagnostic::new(
                    shown,
                    Some(line),
                    "not UTF-8 text: save the events file as UTF-8",
                ));
                continue;
            }
        };
        // A byte-order mark (Excel and Notepad write one) is not part of the first row.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut rows: Vec<(Result<Parsed, String>, usize)> = Vec::new();
        let is_jsonl = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "jsonl" | "ndjson" | "json"));
        if is_jsonl {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let row = serde_json::from_str::<RawRow>(line)
                    .map_err(|e| format!("not a JSON object of event fields: {e}"))
                    .and_then(|raw| interpret(raw, shown, i + 1));
                rows.push((row, i + 1));
            }
        } else {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(false)
                .trim(csv::Trim::All)
                .from_reader(text.as_bytes());
            let headers = match reader.headers() {
                Ok(h) => h.clone(),
                Err(e) => {
                    problems.push(Diagnostic::new(
                        shown,
                        Some(1),
                        format!("cannot read the CSV header: {e}"),
                    ));
                    continue;
                }
            };
            for record in reader.records() {
                match record {
                    Ok(r) => {
                        let line = r.position().map(|p| p.line() as usize).unwrap_or(0);
                        let row = r
                            .deserialize::<RawRow>(Some(&headers))
                            .map_err(|e| format!("bad row: {e}"))
                            .and_then(|raw| interpret(raw, shown, line));
                        rows.push((row, line));
                    }
                    Err(e) => {
                        let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                        rows.push((Err(format!("malformed CSV row: {e}")), line));
                    }
                }
            }
        }
        for (row, line) in rows {
            match row {
                Ok(Parsed::Deployment(d)) => events.deployments.push(d),
                Ok(Parsed::Incident(i)) => events.incidents.push(i),
                Ok(Parsed::Skipped) => events.skipped += 1,
                Err(m) => problems.push(Diagnostic::new(shown, Some(line), m)),
            }
        }
    }
    (events, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(name: &str, text: &str) -> (Events, Vec<Diagnostic>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        read(&[(p, PathBuf::from(name))])
    }

    #[test]
    fn csv_rows_become_deployments_and_incidents() {
        let (e, problems) = read_text(
            "events.csv",
            "type,id,sha,environment,status,finished_at,started_at,resolved_at,cause_sha\n\
             deployment,d1,abc1234,production,success,2024-01-02T10:00:00Z,,,\n\
             deployment,d2,,production,cancelled,2024-01-03,,,\n\
             incident,i1,,,,,2024-01-02 12:00:00,2024-01-02 14:30:00,abc1234\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(e.deployments.len(), 1);
        assert_eq!(e.deployments[0].revision.as_deref(), Some("abc1234"));
        assert_eq!(e.deployments[0].line, 2);
        assert_eq!(e.skipped, 1);
        assert_eq!(
            e.incidents[0].resolved_at,
            parse_time("2024-01-02T14:30:00Z")
        );
        assert_eq!(e.incidents[0].cause_sha.as_deref(), Some("abc1234"));
    }

    #[test]
    fn malformed_rows_are_reported_with_line() {
        let (e, problems) = read_text(
            "events.jsonl",
            "{\"type\":\"deployment\",\"id\":1,\"ref\":\"v1\",\"finished_at\":\"2024-01-01\"}\n\
             \n\
             {\"type\":\"deployment\",\"id\":2,\"finished_at\":\"yesterday\"}\n\
             not json\n\
             {\"type\":\"incident\",\"id\":\"x\",\"started_at\":\"2024-01-02\",\"resolved_at\":\"2024-01-01\"}\n",
        );
        assert_eq!(e.deployments.len(), 1);
        let lines: Vec<Option<usize>> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![Some(3), Some(4), Some(5)]);
        assert!(problems[0]
            .message
            .contains("`finished_at` \"yesterday\" is not a time"));
        assert!(problems[2].message.contains("before `started_at`"));
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_row() {
        for name in ["events.jsonl", "events.csv"] {
            let text = if name.ends_with("jsonl") {
                "\u{feff}{\"type\":\"deployment\",\"id\":\"d1\",\"ref\":\"v1\",\"finished_at\":\"2024-01-01\"}\n"
            } else {
                "\u{feff}type,id,ref,finished_at\ndeployment,d1,v1,2024-01-01\n"
            };
            let (e, problems) = read_text(name, text);
            assert!(problems.is_empty(), "{name}: {problems:?}");
            assert_eq!(e.deployments.len(), 1, "{name}");
            assert_eq!(e.deployments[0].id, "d1", "{name}");
        }
    }

    #[test]
    fn text_that_is_not_utf8_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        let mut bytes =
            b"{\"type\":\"deployment\",\"id\":1,\"ref\":\"v1\",\"finished_at\":\"2024-01-01\"}\n\n"
                .to_vec();
        bytes.extend_from_slice(b"{\"id\":\"\xff\"}\n");
        std::fs::write(&p, bytes).unwrap();
        let (_, problems) = read(&[(p, PathBuf::from("events.jsonl"))]);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "events.jsonl:3: not UTF-8 text: save the events file as UTF-8"
        );
    }
}

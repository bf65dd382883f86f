//! Events files, CSV and JSON Lines (`src/sources/events.rs`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use crate::support::*;
use opsmeter::facts::DeploymentStatus;
use opsmeter::sources::events;

const EVENTS_CSV: &str = "type,id,sha,environment,status,finished_at,started_at,resolved_at,cause_sha\n\
deployment,d1,abc1234,production,success,2024-01-02T10:00:00Z,,,\n\
deployment,d2,,production,cancelled,2024-01-03,,,\n\
deploy,d3,v1.2.3,prod,failed,2024-01-04 09:30:00,,,\n\
incident,i1,,,,,2024-01-02 12:00:00,2024-01-02 14:30:00,abc1234\n\
,i2,,,,,2024-01-05T00:00:00+02:00,,\n\
\"deployment\",\"d,4\",\"0123456789abcdef0123456789abcdef01234567\",\"staging\",\"success\",\"2024-02-01 10:00\",,,\n";
const EVENTS_JSONL: &str = "{\"type\":\"deployment\",\"id\":1,\"ref\":\"v1\",\"environment\":\"production\",\"finished_at\":\"2024-01-01\"}\n\
\n\
{\"kind\":\"deploy\",\"id\":\"d2\",\"sha\":\"abc1234\",\"status\":\"failure\",\"finished_at\":\"2024-01-03T10:00:00-05:00\"}\n\
{\"id\":\"i1\",\"started_at\":\"2024-01-02 12:00:00\",\"resolved_at\":\"2024-01-02 14:30:00\",\"cause\":\"abc1234\"}\n\
{\"type\":\"incident\",\"id\":2.5,\"started_at\":\"2024-01-04\",\"resolved_at\":null}\n\
{\"type\":\"deployment\",\"id\":\"d3\",\"status\":\"running\",\"finished_at\":\"2024-01-05\"}\n";
const EVENTS_TOKENS: &[&str] = &[
    "deployment",
    "incident",
    "success",
    "failure",
    "cancelled",
    ",",
    "\"\"",
    "{}",
    "[]",
    "null",
    "2024-02-30",
    "2024-01-01T25:00:00Z",
    "+99:00",
    "9999-12-31T23:59:59Z",
    "\"id\":",
    "\"type\":",
    "\"finished_at\":",
    "\"resolved_at\":\"2000-01-01\"",
    "\u{feff}",
];

/// Reads `input` as the events file `name`; checks every problem names the
/// file with a line of it, and every deployment row too.
fn check_events(dir: &Path, name: &str, input: &Input) -> Result<events::Events, TestCaseError> {
    let path = dir.join(name);
    rewrite(&path, &input.0);
    let shown = PathBuf::from("events").join(name);
    let (events, problems) = events::read(&[(path, shown.clone())]);
    for d in &problems {
        prop_assert_eq!(&d.file, &shown, "{}", d);
        match d.line {
            Some(line) => check_line(line, &input.0, &d.message)?,
            // Only a file that cannot be read as text has no line.
            None => prop_assert!(
                std::str::from_utf8(&input.0).is_err(),
                "a problem without a line in a readable file: {}",
                d
            ),
        }
    }
    for row in &events.deployments {
        prop_assert_eq!(&row.file, &shown);
        check_line(row.line, &input.0, "deployment row")?;
    }
    Ok(events)
}

#[test]
fn events_csv_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    proptest!(cases(1500), |(input in hostile(&[EVENTS_CSV], EVENTS_TOKENS))| {
        check_events(dir.path(), "deploys.csv", &input)?;
    });
}

#[test]
fn events_jsonl_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    proptest!(cases(1500), |(input in hostile(&[EVENTS_JSONL], EVENTS_TOKENS))| {
        check_events(dir.path(), "deploys.jsonl", &input)?;
    });
}

/// A generated event row and how it must come back.
#[derive(Debug, Clone)]
enum EventRow {
    Deployment {
        id: String,
        sha: Option<String>,
        environment: String,
        /// The status as written, and whether it is a failure (`None`: skipped).
        status: (&'static str, Option<bool>),
        finished: i64,
        /// 0: RFC 3339 with an offset of this many minutes; 1: `YYYY-MM-DD HH:MM:SS`; 2: date only.
        style: (u8, i32),
    },
    Incident {
        id: String,
        started: i64,
        resolved: Option<i64>,
        cause: Option<String>,
    },
}

fn event_row() -> impl Strategy<Value = EventRow> {
    let statuses = select(vec![
        ("success", Some(false)),
        ("", Some(false)),
        ("Succeeded", Some(false)),
        ("failure", Some(true)),
        ("FAILED", Some(true)),
        ("error", Some(true)),
        ("cancelled", None),
        ("skipped", None),
        ("in_progress", None),
    ]);
    prop_oneof![
        (
            "[a-z][a-z0-9-]{0,10}",
            proptest::option::of("[0-9a-f]{7,40}"),
            "(production|staging|prod)",
            statuses,
            TIME_RANGE,
            (0u8..3, -720i32..=720),
        )
            .prop_map(|(id, sha, environment, status, finished, style)| {
                EventRow::Deployment {
                    id,
                    sha,
                    environment,
                    status,
                    finished,
                    style,
                }
            }),
        (
            "[a-z][a-z0-9-]{0,10}",
            TIME_RANGE,
            proptest::option::of(0i64..10_000_000),
            proptest::option::of("[0-9a-f]{7,40}"),
        )
            .prop_map(|(id, started, after, cause)| EventRow::Incident {
                id,
                started,
                resolved: after.map(|a| started + a),
                cause,
            }),
    ]
}

/// `secs` in a style the events reader accepts, and the UTC time it stands for.
fn event_time(secs: i64, style: (u8, i32)) -> (String, DateTime<Utc>) {
    let t = utc(secs);
    match style.0 {
        0 => {
            let offset = chrono::FixedOffset::east_opt(style.1 * 60).unwrap();
            (t.with_timezone(&offset).to_rfc3339(), t)
        }
        1 => (t.format("%Y-%m-%d %H:%M:%S").to_string(), t),
        _ => {
            let day = t.date_naive();
            (
                day.format("%Y-%m-%d").to_string(),
                day.and_hms_opt(0, 0, 0).unwrap().and_utc(),
            )
        }
    }
}

/// What `rows` must read back as: deployments (id, time, failed, line),
/// incidents (id, start, end) and the skipped count.
type Expected = (
    Vec<(String, DateTime<Utc>, bool, usize)>,
    Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)>,
    usize,
);

fn check_rows(events: &events::Events, expected: &Expected) -> Result<(), TestCaseError> {
    let deployments: Vec<(String, DateTime<Utc>, bool, usize)> = events
        .deployments
        .iter()
        .map(|d| {
            (
                d.id.clone(),
                d.finished_at,
                d.status == DeploymentStatus::Failure,
                d.line,
            )
        })
        .collect();
    prop_assert_eq!(&deployments, &expected.0);
    let incidents: Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = events
        .incidents
        .iter()
        .map(|i| (i.id.clone(), i.started_at, i.resolved_at))
        .collect();
    prop_assert_eq!(&incidents, &expected.1);
    prop_assert_eq!(events.skipped, expected.2);
    Ok(())
}

/// Rows written as CSV read back as the same deployments (with their
/// lines), incidents and skipped count, with no problem reported.
fn csv_round_trip(dir: &Path, rows: &[EventRow]) -> Result<(), TestCaseError> {
    let mut text = String::from(
        "type,id,sha,environment,status,finished_at,started_at,resolved_at,cause_sha\n",
    );
    let mut expected: Expected = (Vec::new(), Vec::new(), 0);
    for (i, row) in rows.iter().enumerate() {
        match row {
            EventRow::Deployment {
                id,
                sha,
                environment,
                status,
                finished,
                style,
            } => {
                let (time, at) = event_time(*finished, *style);
                text.push_str(&format!(
                    "deployment,{id},{},{environment},{},{time},,,\n",
                    sha.as_deref().unwrap_or(""),
                    status.0
                ));
                match status.1 {
                    Some(failed) => expected.0.push((id.clone(), at, failed, i + 2)),
                    None => expected.2 += 1,
                }
            }
            EventRow::Incident {
                id,
                started,
                resolved,
                cause,
            } => {
                let (start, start_at) = event_time(*started, (1, 0));
                let (end, end_at) = resolved.map(|r| event_time(r, (0, 60))).unzip();
                text.push_str(&format!(
                    "incident,{id},,,,,{start},{},{}\n",
                    end.unwrap_or_default(),
                    cause.as_deref().unwrap_or("")
                ));
                expected.1.push((id.clone(), start_at, end_at));
            }
        }
    }
    let events = check_events(dir, "events.csv", &Input(text.into_bytes()))?;
    check_rows(&events, &expected)
}

/// The same as JSON Lines, with blank lines between rows and numeric ids.
fn jsonl_round_trip(dir: &Path, rows: &[(EventRow, usize)]) -> Result<(), TestCaseError> {
    let mut text = String::new();
    let mut line = 0;
    let mut expected: Expected = (Vec::new(), Vec::new(), 0);
    for (row, blanks) in rows {
        for _ in 0..*blanks {
            text.push('\n');
            line += 1;
        }
        line += 1;
        match row {
            EventRow::Deployment {
                id,
                sha,
                environment,
                status,
                finished,
                style,
            } => {
                let (time, at) = event_time(*finished, *style);
                let mut object = serde_json::json!({
                    "type": "deployment", "id": id, "environment": environment,
                    "status": status.0, "finished_at": time,
                });
                if let Some(sha) = sha {
                    object["sha"] = sha.clone().into();
                }
                text.push_str(&format!("{object}\n"));
                match status.1 {
                    Some(failed) => expected.0.push((id.clone(), at, failed, line)),
                    None => expected.2 += 1,
                }
            }
            EventRow::Incident {
                id,
                started,
                resolved,
                cause,
            } => {
                let (start, start_at) = event_time(*started, (0, -330));
                let (end, end_at) = resolved.map(|r| event_time(r, (1, 0))).unzip();
                let object = serde_json::json!({
                    "id": id, "started_at": start, "resolved_at": end, "cause_sha": cause,
                });
                text.push_str(&format!("{object}\n"));
                expected.1.push((id.clone(), start_at, end_at));
            }
        }
    }
    let events = check_events(dir, "events.jsonl", &Input(text.into_bytes()))?;
    check_rows(&events, &expected)
}

#[test]
fn events_csv_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    proptest!(cases(500), |(rows in vec(event_row(), 0..20))| {
        csv_round_trip(dir.path(), &rows)?;
    });
}

#[test]
fn events_jsonl_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    proptest!(cases(500), |(rows in vec((event_row(), 0usize..3), 0..20))| {
        jsonl_round_trip(dir.path(), &rows)?;
    });
}

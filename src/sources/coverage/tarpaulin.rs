//! cargo-tarpaulin's JSON report (`tarpaulin-report.json`): traces per file.

use super::*;

#[derive(Deserialize)]
pub(super) struct TarpaulinReport {
    files: Vec<TarpaulinFile>,
    covered: Option<u64>,
    coverable: Option<u64>,
}

/// One file; `content` (the whole source text) is skipped unread, as is
/// every other field not named here.
#[derive(Deserialize)]
pub(super) struct TarpaulinFile {
    path: Vec<String>,
    traces: TraceTally,
    covered: Option<u64>,
    coverable: Option<u64>,
}

/// A file's traces, counted as they stream past rather than kept.
#[derive(Default)]
pub(super) struct TraceTally {
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
pub(super) struct Trace {
    stats: TraceStats,
}

/// tarpaulin's `CoverageStat`; only `Line` occurs in practice.
#[derive(Deserialize)]
pub(super) enum TraceStats {
    Line(u64),
    Branch(LogicState),
    Condition(Vec<LogicState>),
}

#[derive(Deserialize)]
pub(super) struct LogicState {
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
pub(super) fn parse_tarpaulin<R: BufRead>(reader: R, first_line: usize) -> Result<Parsed, Failure> {
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
pub(super) fn join_components(components: &[String]) -> String {
    let mut path = String::new();
    for component in components {
        if !path.is_empty() && !path.ends_with(['/', '\\']) {
            path.push('/');
        }
        path.push_str(component);
    }
    path
}

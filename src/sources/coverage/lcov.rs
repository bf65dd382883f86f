//! lcov tracefiles (`lcov.info`, `*.lcov`): `SF`/`DA`/`BRDA` records, summed per file across records.

use super::*;

/// lcov state of one source file over all its records.
#[derive(Default)]
pub(super) struct LcovFile {
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
pub(super) enum BranchId {
    Numbered(u64, u64),
    Named(Box<str>),
}

/// The record being read, between `SF:` and `end_of_record`.
pub(super) struct LcovRecord {
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
pub(super) fn parse_lcov<R: BufRead>(reader: R, first_line: usize) -> Result<Parsed, Failure> {
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
pub(super) fn close_lcov_record(
    record: &LcovRecord,
    files: &mut FileTable<LcovFile>,
) -> Result<(), String> {
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

pub(super) fn parse_da(value: &str) -> Option<(u64, u64)> {
    let mut fields = value.split(',');
    let line = fields.next()?.trim().parse().ok()?;
    let hits = fields.next()?.trim().parse().ok()?;
    Some((line, hits))
}

pub(super) fn parse_brda(value: &str) -> Option<(u64, BranchId, bool)> {
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
pub(super) fn clip(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(80) {
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
        None => Cow::Borrowed(text),
    }
}

//! Go cover profiles (`go test -coverprofile`): `mode:` then one block per line.

use super::*;

/// A Go block's position: start line and column, end line and column.
pub(super) type GoSpan = (u32, u32, u32, u32);

/// A block's statements, and whether any run executed it.
pub(super) struct GoBlock {
    statements: u64,
    covered: bool,
}

/// Go: statements per block, each distinct block once however many runs
/// repeat it, covered when any run executed it. No branches.
pub(super) fn parse_go<R: BufRead>(reader: R, first_line: usize) -> Result<Parsed, Failure> {
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
pub(super) fn parse_go_block(text: &str) -> Option<(&str, GoSpan, u64, u64)> {
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

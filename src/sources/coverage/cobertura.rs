//! Cobertura XML (`coverage.xml`, `cobertura*.xml`): classes, lines and condition coverage.

use super::*;

/// Cobertura: the `<line>`s of each `<class>`, per `filename` (a file split
/// over several classes merges by line number); branches from
/// `condition-coverage`. The root's `lines-covered`… are the stated totals.
pub(super) fn parse_cobertura<R: BufRead>(reader: R, first_line: usize) -> Result<Parsed, Failure> {
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
pub(super) fn condition_coverage(text: &str) -> Result<(u64, u64), String> {
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

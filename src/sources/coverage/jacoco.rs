//! JaCoCo XML (`jacoco*.xml`): per-source-file LINE and BRANCH counters.

use super::*;

/// JaCoCo: `<line nr mi ci mb cb>` of each `<sourcefile>`, at
/// `package/name`; a line is covered when any of its instructions ran
/// (`ci > 0`), as JaCoCo's LINE counter counts. The report's own LINE and
/// BRANCH counters are the stated totals.
pub(super) fn parse_jacoco<R: BufRead>(reader: R, first_line: usize) -> Result<Parsed, Failure> {
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

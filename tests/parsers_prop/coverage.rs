//! Coverage reports: lcov, Go cover profiles, Cobertura, JaCoCo, tarpaulin
//! (`src/sources/coverage.rs`).

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;

use crate::support::*;
use opsmeter::sources::coverage::{self, Format};

const LCOV: &str = "TN:unit\nSF:src/lib.rs\nFN:3,main\nFNDA:1,main\nFNF:1\nFNH:1\nDA:1,1\nDA:2,0\nDA:3,5,d41d8cd98f00b204e9800998ecf8427e\nBRDA:2,0,0,1\nBRDA:2,0,1,-\nBRDA:3,0,e0,0\nBRF:3\nBRH:1\nLF:3\nLH:2\nend_of_record\n# a comment\nSF:src/other.rs\nLF:10\nLH:4\nBRF:2\nBRH:2\nend_of_record\nSF:src/lib.rs\nDA:2,3\nDA:9,0\nend_of_record\n";
const LCOV_TOKENS: &[&str] = &[
    "SF:",
    "DA:",
    "BRDA:",
    "LF:",
    "LH:",
    "BRF:",
    "BRH:",
    "end_of_record\n",
    "TN:",
    "VER:2\n",
    "-",
    ",",
    "\nSF:x\n",
    "DA:1,1\n",
];
const GO: &str = "mode: count\nexample.com/pkg/a.go:3.14,5.2 2 1\nexample.com/pkg/a.go:7.10,9.3 1 0\nexample.com/pkg/b.go:1.1,2.2 3 4\nmode: count\nexample.com/pkg/a.go:7.10,9.3 1 2\nC:\\src\\win.go:1.1,1.9 1 0\n";
const GO_TOKENS: &[&str] = &[
    "mode: set\n",
    "mode: atomic\n",
    "mode:",
    ".go:",
    ".",
    ",",
    " ",
    "1.1,2.2 1 1",
];
const COBERTURA: &str = r#"<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.5" branch-rate="0.5" lines-covered="3" lines-valid="5" branches-covered="1" branches-valid="2" version="1.9" timestamp="1700000000">
	<sources>
		<source>/home/ci/project</source>
	</sources>
	<packages>
		<package name="pkg" line-rate="0.5" branch-rate="0.5" complexity="0">
			<classes>
				<class name="a.py" filename="pkg/a.py" line-rate="0.5" branch-rate="0.5" complexity="0">
					<methods>
						<method name="f" signature="()V" line-rate="1.0" branch-rate="1.0">
							<lines><line number="1" hits="1"/></lines>
						</method>
					</methods>
					<lines>
						<line number="1" hits="1"/>
						<line number="2" hits="0" branch="true" condition-coverage="50% (1/2)"/>
						<line number="3" hits="4"/>
					</lines>
				</class>
				<class name="b.py" filename="pkg/b.py" line-rate="0.5" branch-rate="0" complexity="0">
					<lines>
						<line number="1" hits="2"/>
						<line number="7" hits="0"/>
					</lines>
				</class>
			</classes>
		</package>
	</packages>
</coverage>
"#;
const JACOCO: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
<report name="demo">
	<sessioninfo id="ci-1" start="1700000000000" dump="1700000001000"/>
	<package name="com/acme">
		<class name="com/acme/A" sourcefilename="A.java">
			<method name="f" desc="()V" line="3">
				<counter type="INSTRUCTION" missed="0" covered="2"/>
				<counter type="LINE" missed="0" covered="1"/>
			</method>
		</class>
		<sourcefile name="A.java">
			<line nr="3" mi="0" ci="2" mb="1" cb="1"/>
			<line nr="4" mi="3" ci="0" mb="0" cb="0"/>
			<counter type="LINE" missed="1" covered="1"/>
		</sourcefile>
		<counter type="LINE" missed="1" covered="1"/>
	</package>
	<package name="">
		<sourcefile name="Main.java">
			<line nr="1" mi="0" ci="1" mb="0" cb="0"/>
		</sourcefile>
	</package>
	<counter type="BRANCH" missed="1" covered="1"/>
	<counter type="LINE" missed="1" covered="2"/>
</report>
"#;
const XML_TOKENS: &[&str] = &[
    "<",
    ">",
    "/>",
    "</",
    "<line number=\"1\" hits=\"1\"/>",
    "<class filename=\"x\">",
    "<sourcefile name=\"x\">",
    "<line nr=\"1\" mi=\"0\" ci=\"1\" mb=\"0\" cb=\"0\"/>",
    "&amp;",
    "&#0;",
    "&#xFFFFFFFF;",
    "&lt;",
    "&undefined;",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>",
    "&e;",
    "\"",
    "='",
    "xmlns:a=\"u\"",
    "a:",
    "condition-coverage=\"(1/0)\"",
    "branch=\"true\"",
    "<package name=\"p\">",
    "</package>",
    "<counter type=\"LINE\" missed=\"1\" covered=\"1\"/>",
];
const TARPAULIN: &str = r#"{"files":[{"path":["/","home","ci","src","lib.rs"],"content":"fn main() {\n    println!(\"hi\");\n}\n","traces":[{"line":1,"address":[4096],"length":1,"stats":{"Line":1},"fn_name":"main"},{"line":2,"address":[],"length":1,"stats":{"Line":0},"fn_name":null}],"covered":1,"coverable":2},{"path":["src","b.rs"],"content":"","traces":[{"line":5,"address":[1],"length":1,"stats":{"Branch":{"been_true":true,"been_false":false}}},{"line":6,"address":[2],"length":1,"stats":{"Condition":[{"been_true":false,"been_false":false}]}}],"covered":1,"coverable":2}],"coverage_percent":50.0,"covered":2,"coverable":4}
"#;
const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "\"files\":",
    "\"traces\":",
    "\"stats\":",
    "{\"Line\":1}",
    "\"path\":[\"a\"]",
    "\\u0000",
    "\\ud800",
    "1e999",
    "-0",
];

const COVERAGE_FORMATS: &[(Format, &str, &str, &[&str])] = &[
    (Format::Lcov, "lcov.info", LCOV, LCOV_TOKENS),
    (Format::GoCover, "coverage.out", GO, GO_TOKENS),
    (Format::Cobertura, "coverage.xml", COBERTURA, XML_TOKENS),
    (Format::Jacoco, "jacoco.xml", JACOCO, XML_TOKENS),
    (
        Format::Tarpaulin,
        "tarpaulin-report.json",
        TARPAULIN,
        JSON_TOKENS,
    ),
];

/// Parses `input` as `format`: an error names the report and a line of it;
/// a report never counts more covered than there is, and its totals are
/// the sums of its files.
fn check_coverage(format: Format, name: &str, input: &Input) -> Result<(), TestCaseError> {
    let shown = Path::new("reports").join(name);
    match coverage::parse_reader(format, Cursor::new(&input.0), &shown) {
        Err(e) => {
            prop_assert_eq!(&e.file, &shown);
            if let Some(line) = e.line {
                check_line(line, &input.0, &e.message)?;
            }
        }
        Ok(report) => {
            prop_assert_eq!(report.format, format);
            prop_assert!(report.lines_covered <= report.lines_valid, "{:?}", report);
            prop_assert!(
                report.branches_covered <= report.branches_valid,
                "{:?}",
                report
            );
            let sum = |f: fn(&coverage::FileCoverage) -> u64| {
                report
                    .files
                    .iter()
                    .fold(0u64, |s, file| s.saturating_add(f(file)))
            };
            prop_assert_eq!(report.lines_valid, sum(|f| f.lines_valid));
            prop_assert_eq!(report.lines_covered, sum(|f| f.lines_covered));
            for file in &report.files {
                prop_assert!(file.lines_covered <= file.lines_valid, "{:?}", file);
                prop_assert!(file.branches_covered <= file.branches_valid, "{:?}", file);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn lcov_never_panics(input in hostile(&[LCOV], LCOV_TOKENS)) {
        check_coverage(Format::Lcov, "lcov.info", &input)?;
    }

    #[test]
    fn go_cover_never_panics(input in hostile(&[GO], GO_TOKENS)) {
        check_coverage(Format::GoCover, "coverage.out", &input)?;
    }

    #[test]
    fn cobertura_never_panics(input in hostile(&[COBERTURA], XML_TOKENS)) {
        check_coverage(Format::Cobertura, "coverage.xml", &input)?;
    }

    #[test]
    fn jacoco_never_panics(input in hostile(&[JACOCO], XML_TOKENS)) {
        check_coverage(Format::Jacoco, "jacoco.xml", &input)?;
    }

    #[test]
    fn tarpaulin_never_panics(input in hostile(&[TARPAULIN], JSON_TOKENS)) {
        check_coverage(Format::Tarpaulin, "tarpaulin-report.json", &input)?;
    }
}

/// From a file on disk, with the format detected from its name and first
/// bytes (any seed under any name): no panic, errors name the file.
#[test]
fn coverage_files_of_any_name_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    const NAMES: &[&str] = &[
        "report.txt",
        "cobertura-x.xml",
        "x.lcov",
        "a.coverprofile",
        "tarpaulin.json",
    ];
    proptest!(cases(1000), |(
        (_, name, seed, tokens) in select(COVERAGE_FORMATS),
        other in select(COVERAGE_FORMATS),
        odd_name in select(NAMES),
        which_name in 0u8..3,
        mutations in vec(mutation(), 0..4),
    )| {
        let mut bytes = seed.as_bytes().to_vec();
        for m in &mutations {
            apply(&mut bytes, m, tokens);
        }
        let name = match which_name { 0 => name, 1 => other.1, _ => odd_name };
        let path = dir.path().join(name);
        rewrite(&path, &bytes);
        match coverage::parse_file(&path) {
            Err(e) => {
                prop_assert_eq!(&e.file, &path);
                if let Some(line) = e.line {
                    check_line(line, &bytes, &e.message)?;
                }
            }
            Ok(report) => prop_assert!(report.lines_covered <= report.lines_valid),
        }
    });
}

/// Expected totals: (lines covered, lines valid, branches covered, branches valid).
type Totals = (u64, u64, u64, u64);

fn totals(report: &coverage::CoverageReport) -> Totals {
    (
        report.lines_covered,
        report.lines_valid,
        report.branches_covered,
        report.branches_valid,
    )
}

/// One lcov record: line → hits (`DA`), and (line, block, branch) → taken (`BRDA`, `None` for `-`).
type LcovRecord = (BTreeMap<u64, u64>, BTreeMap<(u64, u64, u64), Option<u64>>);

/// One lcov source file: its records (line → hits, branch → taken), or a summary only.
#[derive(Debug, Clone)]
enum LcovSource {
    Detailed(Vec<LcovRecord>),
    Summary {
        lf: u64,
        lh: u64,
        brf: u64,
        brh: u64,
    },
}

fn lcov_source() -> impl Strategy<Value = LcovSource> {
    let record = (
        btree_map(1u64..400, prop_oneof![Just(0u64), 1u64..1000], 0..25),
        btree_map(
            (1u64..400, 0u64..3, 0u64..4),
            proptest::option::of(0u64..5),
            0..10,
        ),
    );
    prop_oneof![
        3 => vec(record, 1..4).prop_map(LcovSource::Detailed),
        1 => (0u64..10_000, 0u64..100).prop_flat_map(|(lf, brf)| (Just(lf), 0..=lf, Just(brf), 0..=brf))
            .prop_map(|(lf, lh, brf, brh)| LcovSource::Summary { lf, lh, brf, brh }),
    ]
}

proptest! {
    #![proptest_config(cases(400))]

    /// lcov from generated records, in shuffled order and with the lines lcov
    /// also writes (TN, FN, FNDA, comments, CRLF): totals are the union of
    /// each file's DA lines (covered when any record hit them) and BRDA
    /// branches, plus LF/LH and BRF/BRH of summary-only records.
    #[test]
    fn lcov_totals_round_trip(
        sources in vec(lcov_source(), 1..6),
        order in any::<u64>(),
        crlf in any::<bool>(),
    ) {
        let mut records: Vec<String> = Vec::new();
        let mut expected: Totals = (0, 0, 0, 0);
        for (i, source) in sources.iter().enumerate() {
            let path = format!("src/mod{i}/file.rs");
            match source {
                LcovSource::Summary { lf, lh, brf, brh } => {
                    records.push(format!("SF:{path}\nFNF:0\nLF:{lf}\nLH:{lh}\nBRF:{brf}\nBRH:{brh}\nend_of_record\n"));
                    expected.0 += lh;
                    expected.1 += lf;
                    expected.2 += brh;
                    expected.3 += brf;
                }
                LcovSource::Detailed(parts) => {
                    let mut lines: BTreeMap<u64, bool> = BTreeMap::new();
                    let mut branches: BTreeMap<(u64, u64, u64), bool> = BTreeMap::new();
                    for (da, brda) in parts {
                        let mut r = format!("TN:t{i}\nSF:{path}\nFN:1,f\nFNDA:1,f\n");
                        for (line, hits) in da {
                            r.push_str(&format!("DA:{line},{hits}\n"));
                            *lines.entry(*line).or_default() |= *hits > 0;
                        }
                        for ((line, block, branch), taken) in brda {
                            let taken_text = taken.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
                            r.push_str(&format!("BRDA:{line},{block},{branch},{taken_text}\n"));
                            *branches.entry((*line, *block, *branch)).or_default() |= taken.is_some_and(|t| t > 0);
                        }
                        // The record's own summary, ignored because it has DA/BRDA lines.
                        r.push_str(&format!("LF:{}\nLH:0\n# merged\nend_of_record\n", da.len()));
                        records.push(r);
                    }
                    expected.0 += lines.values().filter(|h| **h).count() as u64;
                    expected.1 += lines.len() as u64;
                    expected.2 += branches.values().filter(|t| **t).count() as u64;
                    expected.3 += branches.len() as u64;
                }
            }
        }
        // A deterministic shuffle: records of one file need not be adjacent.
        let mut keyed: Vec<(u64, String)> = records
            .into_iter()
            .enumerate()
            .map(|(i, r)| ((i as u64 + 1).wrapping_mul(order | 1).rotate_left(17), r))
            .collect();
        keyed.sort();
        let mut text: String = keyed.into_iter().map(|(_, r)| r).collect();
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        let report = coverage::parse_reader(Format::Lcov, Cursor::new(text.as_bytes()), Path::new("lcov.info"))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(totals(&report), expected);
        prop_assert_eq!(report.files.len(), sources.len());
    }

    /// Go profiles of one or more runs: every distinct block counts its
    /// statements once, covered when any run executed it.
    #[test]
    fn go_cover_totals_round_trip(
        files in vec(btree_map((1u32..500, 1u32..80, 0u32..20, 1u32..80), (0u64..20, vec(0u64..3, 1..4)), 1..12), 1..5),
        mode in select(&["set", "count", "atomic"][..]),
    ) {
        let runs = files.iter().flat_map(|f| f.values().map(|(_, c)| c.len())).max().unwrap_or(1);
        let mut text = String::new();
        let mut expected: Totals = (0, 0, 0, 0);
        for run in 0..runs {
            text.push_str(&format!("mode: {mode}\n"));
            for (i, blocks) in files.iter().enumerate() {
                for ((line, col, extra, end_col), (statements, counts)) in blocks {
                    if let Some(count) = counts.get(run) {
                        text.push_str(&format!(
                            "example.com/m/p{i}/f.go:{line}.{col},{}.{end_col} {statements} {count}\n",
                            line + extra
                        ));
                    }
                }
            }
        }
        for blocks in &files {
            for (statements, counts) in blocks.values() {
                expected.1 += statements;
                if counts.iter().any(|c| *c > 0) {
                    expected.0 += statements;
                }
            }
        }
        let report = coverage::parse_reader(Format::GoCover, Cursor::new(text.as_bytes()), Path::new("coverage.out"))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(totals(&report), expected);
    }
}

/// The lines of one file of an XML report: number → (hits, or instructions
/// covered for JaCoCo; (covered, valid) branches).
type XmlLines = BTreeMap<u64, (u64, (u64, u64))>;
type XmlLine<'a> = (&'a u64, &'a (u64, (u64, u64)));

fn xml_lines() -> impl Strategy<Value = XmlLines> {
    btree_map(
        1u64..2000,
        (
            prop_oneof![Just(0u64), 1u64..50],
            (0u64..5).prop_flat_map(|valid| (0..=valid, Just(valid))),
        ),
        0..30,
    )
}

fn expected_xml(files: &[XmlLines]) -> Totals {
    let mut t: Totals = (0, 0, 0, 0);
    for lines in files {
        for (hits, (covered, valid)) in lines.values() {
            t.0 += u64::from(*hits > 0);
            t.1 += 1;
            t.2 += covered;
            t.3 += valid;
        }
    }
    t
}

proptest! {
    #![proptest_config(cases(300))]

    /// Cobertura: each file's lines, some files split over two classes (by
    /// disjoint lines), methods repeating lines that must not count twice.
    #[test]
    fn cobertura_totals_round_trip(files in vec((xml_lines(), any::<bool>()), 1..6)) {
        let line_xml = |(number, (hits, (c, v))): XmlLine| {
            if *v > 0 {
                let percent = c * 100 / v;
                format!("<line number=\"{number}\" hits=\"{hits}\" branch=\"true\" condition-coverage=\"{percent}% ({c}/{v})\"/>\n")
            } else {
                format!("<line number=\"{number}\" hits=\"{hits}\" branch=\"false\"/>\n")
            }
        };
        let mut text = String::from("<?xml version=\"1.0\" ?>\n<coverage version=\"7\">\n<packages><package name=\"p\"><classes>\n");
        for (i, (lines, split)) in files.iter().enumerate() {
            let entries: Vec<XmlLine> = lines.iter().collect();
            let cut = if *split { entries.len() / 2 } else { entries.len() };
            for (part, chunk) in [&entries[..cut], &entries[cut..]].into_iter().enumerate() {
                if part == 1 && chunk.is_empty() {
                    continue;
                }
                text.push_str(&format!("<class name=\"C{i}_{part}\" filename=\"pkg/f{i}.py\">\n<methods><method name=\"m\"><lines>\n"));
                for entry in chunk.iter().take(2) {
                    text.push_str(&line_xml(*entry));
                }
                text.push_str("</lines></method></methods>\n<lines>\n");
                for entry in chunk {
                    text.push_str(&line_xml(*entry));
                }
                text.push_str("</lines>\n</class>\n");
            }
        }
        text.push_str("</classes></package></packages>\n</coverage>\n");
        let report = coverage::parse_reader(Format::Cobertura, Cursor::new(text.as_bytes()), Path::new("coverage.xml"))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let lines: Vec<_> = files.iter().map(|(l, _)| l.clone()).collect();
        prop_assert_eq!(totals(&report), expected_xml(&lines));
        prop_assert_eq!(report.files.len(), files.len());
    }

    /// JaCoCo: source files in packages; a line is covered when an
    /// instruction ran; branches are missed + covered.
    #[test]
    fn jacoco_totals_round_trip(files in vec(xml_lines(), 1..6)) {
        let mut text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<report name=\"r\">\n");
        for (i, lines) in files.iter().enumerate() {
            text.push_str(&format!("<package name=\"com/p{i}\">\n<class name=\"com/p{i}/A\"><method name=\"m\" desc=\"()V\"><counter type=\"LINE\" missed=\"9\" covered=\"9\"/></method></class>\n<sourcefile name=\"A.java\">\n"));
            for (nr, (ci, (cb, valid))) in lines {
                let mb = valid - cb;
                text.push_str(&format!("<line nr=\"{nr}\" mi=\"{}\" ci=\"{ci}\" mb=\"{mb}\" cb=\"{cb}\"/>\n", u64::from(*ci == 0)));
            }
            text.push_str("</sourcefile>\n</package>\n");
        }
        text.push_str("</report>\n");
        let report = coverage::parse_reader(Format::Jacoco, Cursor::new(text.as_bytes()), Path::new("jacoco.xml"))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(totals(&report), expected_xml(&files));
    }

    /// tarpaulin: one line per trace, covered when its count is above zero.
    #[test]
    fn tarpaulin_totals_round_trip(files in vec((vec("[a-z]{1,8}", 1..4), vec(0u64..4, 0..30), "\\PC{0,30}"), 1..6)) {
        let mut expected: Totals = (0, 0, 0, 0);
        let json_files: Vec<serde_json::Value> = files
            .iter()
            .map(|(path, hits, content)| {
                expected.0 += hits.iter().filter(|h| **h > 0).count() as u64;
                expected.1 += hits.len() as u64;
                let traces: Vec<serde_json::Value> = hits
                    .iter()
                    .enumerate()
                    .map(|(i, h)| serde_json::json!({"line": i + 1, "address": [i], "length": 1, "stats": {"Line": h}, "fn_name": null}))
                    .collect();
                serde_json::json!({"path": path, "content": content, "traces": traces})
            })
            .collect();
        let text = serde_json::to_string_pretty(&serde_json::json!({"files": json_files, "coverage_percent": 0.0})).unwrap();
        let report = coverage::parse_reader(Format::Tarpaulin, Cursor::new(text.as_bytes()), Path::new("tarpaulin-report.json"))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(totals(&report), expected);
        let paths: Vec<String> = report.files.iter().map(|f| f.path.clone()).collect();
        let expected_paths: Vec<String> = files.iter().map(|(p, _, _)| p.join("/")).collect();
        prop_assert_eq!(paths, expected_paths);
    }
}

//! The probes catalogue (`src/probes/patterns.rs`).

use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::{select, Index};

use crate::support::*;
use opsmeter::probes::patterns::{Catalogue, WhenNoFiles};

const CATALOGUE_TOKENS: &[&str] = &[
    "[[probe]]\n",
    "[file_sets]\n",
    "pattern = ",
    "files = [\"@ci\"]\n",
    "\"@nope\"",
    "'(a'",
    "'[z-a]'",
    "'(a{1000}){1000}'",
    "'\\\\p{Nope}'",
    "\"**/[\"",
    "\"{a,{b\"",
    "when_no_files = \"never\"\n",
    "when_no_files = \"not-applicable\"\n",
    "id = \"ci.tests-run\"\n",
    "'(?i)'",
    "'\\\\'",
];

proptest! {
    #![proptest_config(cases(300))]

    /// Any catalogue text: no panic; an error starts with the file and a line of it.
    #[test]
    fn catalogue_never_panics(input in hostile(&[opsmeter::probes::patterns::BUILTIN], CATALOGUE_TOKENS)) {
        let text = input.text();
        if let Err(e) = Catalogue::parse(&text, "data/probes.toml") {
            let message = format!("{e:#}");
            let line = line_after_file(&message, "data/probes.toml")?;
            let line = line.ok_or_else(|| TestCaseError::fail(format!("no line: {message}")))?;
            check_line(line, text.as_bytes(), &message)?;
        }
    }
}

/// A generated probe: id suffix, files (a set name or literal file names),
/// a pattern, and what no files means.
type GenProbe = (
    String,
    Vec<&'static str>,
    Option<&'static str>,
    Option<WhenNoFiles>,
);

fn probes_spec() -> impl Strategy<Value = BTreeMap<String, GenProbe>> {
    btree_map(
        "[a-z]{1,6}\\.[a-z][a-z-]{0,10}",
        (
            "\\PC{0,30}",
            vec(
                select(
                    &[
                        "@ci",
                        "@docs",
                        "Dockerfile",
                        "*.tf",
                        ".github/workflows/*.yml",
                        "**/tests/**",
                    ][..],
                ),
                1..4,
            ),
            proptest::option::of(select(
                &[
                    r"\bcargo test\b",
                    "(?i)^FROM ",
                    r"timeout-minutes:\s*\d+",
                    "字",
                ][..],
            )),
            proptest::option::of(prop_oneof![
                Just(WhenNoFiles::Fail),
                Just(WhenNoFiles::NotApplicable)
            ]),
        ),
        1..8,
    )
}

/// One probe's table in a catalogue.
fn probe_text(id: &str, (title, files, pattern, when): &GenProbe) -> String {
    let files: Vec<String> = files.iter().map(|f| toml_string(f)).collect();
    let mut text = format!(
        "\n[[probe]]\nid = {}\ntitle = {}\nchapter = \"ch\"\nfiles = [{}]\nremediation = \"Fix it.\"\n",
        toml_string(id),
        toml_string(title),
        files.join(", ")
    );
    if let Some(p) = pattern {
        text.push_str(&format!("pattern = '{p}'\n"));
    }
    match when {
        Some(WhenNoFiles::Fail) => text.push_str("when_no_files = \"fail\"\n"),
        Some(WhenNoFiles::NotApplicable) => text.push_str("when_no_files = \"not-applicable\"\n"),
        None => {}
    }
    text
}

/// A catalogue of the probes of `spec`, with two file sets.
fn catalogue_text(spec: &BTreeMap<String, GenProbe>) -> String {
    let mut text = String::from(
        "[file_sets]\nci = [\".gitlab-ci.yml\", \"Jenkinsfile\"]\ndocs = [\"README.md\"]\n",
    );
    for (id, probe) in spec {
        text.push_str(&probe_text(id, probe));
    }
    text
}

proptest! {
    #![proptest_config(cases(300))]

    /// A catalogue written from known probes reads back as those probes,
    /// file sets expanded.
    #[test]
    fn catalogue_round_trips(spec in probes_spec()) {
        let text = catalogue_text(&spec);
        let catalogue = Catalogue::parse(&text, "data/probes.toml")
            .map_err(|e| TestCaseError::fail(format!("{e:#}\n{text}")))?;
        prop_assert_eq!(catalogue.probes.len(), spec.len());
        for (probe, (id, (title, files, pattern, when))) in catalogue.probes.iter().zip(&spec) {
            prop_assert_eq!(&probe.id, id);
            prop_assert_eq!(&probe.title, title);
            prop_assert_eq!(probe.rules[0].pattern.as_ref().map(|r| r.as_str()), *pattern);
            prop_assert_eq!(probe.when_no_files, when.unwrap_or(WhenNoFiles::Fail));
            // Each file named, directly or through its set, is matched; others are not.
            let sample = |f: &str| match f {
                "@ci" => "sub/Jenkinsfile",
                "@docs" => "README.md",
                "Dockerfile" => "svc/Dockerfile",
                "*.tf" => "infra/main.tf",
                ".github/workflows/*.yml" => ".github/workflows/ci.yml",
                _ => "src/tests/a.rs",
            };
            for f in files {
                prop_assert!(probe.rules[0].globs.is_match(sample(f)), "{} should match {}", f, sample(f));
            }
            prop_assert!(!probe.rules[0].globs.is_match("unrelated/file.txt"));
        }
    }

    /// A probe defined twice is an error at the line of the second
    /// definition's `id`, even when its id's text occurs earlier (here in a
    /// comment at the top).
    #[test]
    fn catalogue_duplicate_names_its_line(spec in probes_spec(), which in any::<Index>()) {
        let (id, probe) = spec.iter().nth(which.index(spec.len())).unwrap();
        let mut text = format!("# {} is checked twice\n", toml_string(id));
        text.push_str(&catalogue_text(&spec));
        let expected_line = text.matches('\n').count() + 3;
        text.push_str(&probe_text(id, probe));
        let e = Catalogue::parse(&text, "data/probes.toml").err().map(|e| format!("{e:#}"));
        let e = e.ok_or_else(|| TestCaseError::fail(format!("a duplicate accepted:\n{text}")))?;
        prop_assert_eq!(line_after_file(&e, "data/probes.toml")?, Some(expected_line), "{}", e);
        prop_assert!(e.ends_with("is defined twice"), "{}", e);
    }
}

//! The maturity model (`src/model.rs`).

use std::sync::LazyLock;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};

use crate::support::*;
use opsmeter::model::{Model, Op, Requirement, Threshold};
use opsmeter::probes::patterns::Catalogue;

static KNOWN_PROBES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let catalogue =
        Catalogue::parse(opsmeter::probes::patterns::BUILTIN, "data/probes.toml").unwrap();
    opsmeter::probes::known_ids(&catalogue)
});

const MODEL_TOKENS: &[&str] = &[
    "[[areas]]\n",
    "[[areas.practices]]\n",
    "level = ",
    "requires = ",
    "metrics = ",
    "\"ci.tests-run\"",
    "[\"ci.tests-run\", \"no.such-probe\"]",
    "\"coverage.line_rate >= 0.6\"",
    "\"tier.lead_time >= elite\"",
    "\"dora.rework_rate <= nan\"",
    "\"x >= 1\"",
    "applies_if = \"x\"\n",
    "next = \"\"",
    "{ level = 6, next = \"x\" }",
    "id = \"ci\"\n",
    ">=",
    "<=",
];

proptest! {
    #![proptest_config(cases(1000))]

    /// Any model text: no panic; an error starts with the file and a line of it.
    #[test]
    fn model_never_panics(input in hostile(&[opsmeter::model::BUILTIN], MODEL_TOKENS)) {
        let text = input.text();
        if let Err(e) = Model::parse(&text, "data/model.toml", &KNOWN_PROBES) {
            let message = format!("{e:#}");
            let line = line_after_file(&message, "data/model.toml")?;
            let line = line.ok_or_else(|| TestCaseError::fail(format!("no line: {message}")))?;
            check_line(line, text.as_bytes(), &message)?;
        }
    }
}

/// A generated level requirement: a probe, or any of several.
#[derive(Debug, Clone)]
enum GenRequirement {
    Probe(usize),
    AnyOf(Vec<usize>),
}

/// (metric, op, threshold text, expected threshold)
type GenCondition = (&'static str, Op, String, Threshold);

fn condition() -> impl Strategy<Value = GenCondition> {
    use opsmeter::metrics::tiers::Tier;
    let op = prop_oneof![Just(Op::AtLeast), Just(Op::AtMost)];
    prop_oneof![
        (
            select(
                &[
                    "coverage.line_rate",
                    "coverage.branch_rate",
                    "dora.deployment_count",
                    "dora.deployments_per_week",
                    "dora.deploy_days_per_week",
                    "dora.change_failure_rate",
                    "dora.rework_rate"
                ][..]
            ),
            op.clone(),
            -1_000_000i64..1_000_000,
        )
            .prop_map(|(m, op, n)| {
                let value = n as f64 / 1000.0;
                (m, op, value.to_string(), Threshold::Number(value))
            }),
        (
            select(
                &[
                    "tier.deployment_frequency",
                    "tier.lead_time",
                    "tier.change_failure_rate",
                    "tier.recovery_time"
                ][..]
            ),
            op,
            select(vec![
                ("low", Tier::Low),
                ("medium", Tier::Medium),
                ("high", Tier::High),
                ("elite", Tier::Elite)
            ]),
        )
            .prop_map(|(m, op, (text, tier))| (
                m,
                op,
                text.to_string(),
                Threshold::Tier(tier)
            )),
    ]
}

/// One level: requirements and conditions, at least one of them.
type GenLevel = (Vec<GenRequirement>, Vec<GenCondition>);

fn level() -> impl Strategy<Value = GenLevel> {
    let n = KNOWN_PROBES.len();
    let requirement = prop_oneof![
        (0..n).prop_map(GenRequirement::Probe),
        vec(0..n, 1..4).prop_map(GenRequirement::AnyOf),
    ];
    // A level that would require nothing requires one probe instead (built,
    // not filtered, so long runs are not cut short by rejections).
    (vec(requirement, 0..3), vec(condition(), 0..3), 0..n).prop_map(|(mut r, m, probe)| {
        if r.is_empty() && m.is_empty() {
            r.push(GenRequirement::Probe(probe));
        }
        (r, m)
    })
}

/// Areas of practices of levels.
fn model_spec() -> impl Strategy<Value = Vec<Vec<Vec<GenLevel>>>> {
    vec(vec(vec(level(), 1..6), 1..4), 1..4)
}

fn model_text(spec: &[Vec<Vec<GenLevel>>]) -> String {
    let probe = |i: &usize| toml_string(&KNOWN_PROBES[*i]);
    let mut text = String::from("# generated\n");
    for (a, practices) in spec.iter().enumerate() {
        text.push_str(&format!(
            "\n[[areas]]\nid = \"area-{a}\"\nname = \"Area {a}\"\n"
        ));
        for (p, levels) in practices.iter().enumerate() {
            text.push_str(&format!(
                "\n[[areas.practices]]\nid = \"practice-{a}-{p}\"\nname = \"Practice\"\nchapter = \"ch-{p}\"\nlevels = [\n"
            ));
            for (l, (requires, metrics)) in levels.iter().enumerate() {
                let requires: Vec<String> = requires
                    .iter()
                    .map(|r| match r {
                        GenRequirement::Probe(i) => probe(i),
                        GenRequirement::AnyOf(list) => format!(
                            "[{}]",
                            list.iter().map(probe).collect::<Vec<_>>().join(", ")
                        ),
                    })
                    .collect();
                let metrics: Vec<String> = metrics
                    .iter()
                    .map(|(m, op, t, _)| {
                        format!(
                            "\"{m} {} {t}\"",
                            if *op == Op::AtLeast { ">=" } else { "<=" }
                        )
                    })
                    .collect();
                text.push_str(&format!(
                    "  {{ level = {}, requires = [{}], metrics = [{}], next = \"Do {l}.\" }},\n",
                    l + 1,
                    requires.join(", "),
                    metrics.join(", ")
                ));
            }
            text.push_str("]\n");
        }
    }
    text
}

proptest! {
    #![proptest_config(cases(300))]

    /// A model written from known areas, practices, levels, requirements and
    /// thresholds reads back as exactly those.
    #[test]
    fn model_round_trips(spec in model_spec()) {
        let text = model_text(&spec);
        let model = Model::parse(&text, "data/model.toml", &KNOWN_PROBES)
            .map_err(|e| TestCaseError::fail(format!("{e:#}\n{text}")))?;
        prop_assert_eq!(model.areas.len(), spec.len());
        for (a, (area, practices)) in model.areas.iter().zip(&spec).enumerate() {
            prop_assert_eq!(&area.id, &format!("area-{a}"));
            prop_assert_eq!(area.practices.len(), practices.len());
            for (p, (practice, levels)) in area.practices.iter().zip(practices).enumerate() {
                prop_assert_eq!(&practice.id, &format!("practice-{a}-{p}"));
                prop_assert_eq!(practice.levels.len(), levels.len());
                for (l, (level, (requires, metrics))) in practice.levels.iter().zip(levels).enumerate() {
                    prop_assert_eq!(usize::from(level.level), l + 1);
                    let expected: Vec<Requirement> = requires
                        .iter()
                        .map(|r| match r {
                            GenRequirement::Probe(i) => Requirement::Probe(KNOWN_PROBES[*i].clone()),
                            GenRequirement::AnyOf(list) => Requirement::AnyOf(list.iter().map(|i| KNOWN_PROBES[*i].clone()).collect()),
                        })
                        .collect();
                    prop_assert_eq!(&level.requires, &expected);
                    let got: Vec<(&str, Op, Threshold)> = level.metrics.iter().map(|m| (m.metric.as_str(), m.op, m.threshold)).collect();
                    let expected: Vec<(&str, Op, Threshold)> = metrics.iter().map(|(m, op, _, t)| (*m, *op, *t)).collect();
                    prop_assert_eq!(got, expected);
                }
            }
        }
    }

    /// A level numbered out of sequence is an error at the line of that level.
    #[test]
    fn model_level_gap_names_its_line(spec in model_spec(), which in any::<Index>(), wrong in 0u8..9) {
        // Every level of every practice, in file order: (practice, level index).
        let levels: Vec<(usize, usize, usize)> = spec
            .iter()
            .enumerate()
            .flat_map(|(a, ps)| ps.iter().enumerate().flat_map(move |(p, ls)| (0..ls.len()).map(move |l| (a, p, l))))
            .collect();
        let (a, p, l) = levels[which.index(levels.len())];
        // Any number from 0 to 9 but the right one, l + 1.
        let wrong = if usize::from(wrong) > l { wrong + 1 } else { wrong };
        let text = model_text(&spec);
        let header = format!("id = \"practice-{a}-{p}\"");
        let start = text.find(&header).unwrap();
        let level_line = text[start..].lines().filter(|x| x.starts_with("  { level = ")).nth(l).unwrap();
        let wrong_line = level_line.replacen(&format!("level = {}", l + 1), &format!("level = {wrong}"), 1);
        let at = start + text[start..].find(level_line).unwrap();
        let text = format!("{}{}{}", &text[..at], wrong_line, &text[at + level_line.len()..]);
        let expected_line = text[..at].matches('\n').count() + 1;
        let e = Model::parse(&text, "data/model.toml", &KNOWN_PROBES).err().map(|e| format!("{e:#}"));
        let e = e.ok_or_else(|| TestCaseError::fail(format!("level {wrong} in place of {} accepted:\n{text}", l + 1)))?;
        prop_assert_eq!(line_after_file(&e, "data/model.toml")?, Some(expected_line), "{}", e);
    }
}

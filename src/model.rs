//! The maturity model (`data/model.toml`): areas hold practices, practices
//! hold levels 1–5, and each level lists the probe findings and metric
//! thresholds it requires. Evaluating it is a pure function of findings and
//! metrics. A level counts only when every lower level does (gating); not
//! applicable and unknown are shown as such and left out of area averages.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};

use crate::metrics::tiers::Tier;
use crate::metrics::Dora;
use crate::probes::{Finding, Outcome};

/// The built-in copy of `data/model.toml`.
pub const BUILTIN: &str = include_str!("../data/model.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    areas: Vec<RawArea>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    id: toml::Spanned<String>,
    name: String,
    practices: Vec<RawPractice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPractice {
    id: toml::Spanned<String>,
    name: String,
    chapter: String,
    applies_if: Option<String>,
    levels: Vec<RawLevel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    /// Spanned, so an error points at this level's line and not at an
    /// earlier level with the same number.
    level: toml::Spanned<u8>,
    #[serde(default)]
    requires: Vec<toml::Value>,
    #[serde(default)]
    metrics: Vec<String>,
    next: String,
}

/// A requirement on probe findings.
#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    /// This probe must pass.
    Probe(String),
    /// One of these probes must pass.
    AnyOf(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    AtLeast,
    AtMost,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Number(f64),
    Tier(Tier),
}

/// A threshold on a metric, e.g. `coverage.line_rate >= 0.6`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricCondition {
    pub metric: String,
    pub op: Op,
    pub threshold: Threshold,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Level {
    pub level: u8,
    pub requires: Vec<Requirement>,
    pub metrics: Vec<MetricCondition>,
    pub next: String,
}

#[derive(Debug, Clone)]
pub struct Practice {
    pub id: String,
    pub name: String,
    pub chapter: String,
    pub applies_if: Option<String>,
    pub levels: Vec<Level>,
}

#[derive(Debug, Clone)]
pub struct Area {
    pub id: String,
    pub name: String,
    pub practices: Vec<Practice>,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub areas: Vec<Area>,
}

const NUMBER_METRICS: &[&str] = &[
    "coverage.line_rate",
    "coverage.branch_rate",
    "dora.deployment_count",
    "dora.deployments_per_week",
    "dora.deploy_days_per_week",
    "dora.change_failure_rate",
    "dora.rework_rate",
];
const TIER_METRICS: &[&str] = &[
    "tier.deployment_frequency",
    "tier.lead_time",
    "tier.change_failure_rate",
    "tier.recovery_time",
];

fn parse_condition(text: &str) -> Result<MetricCondition, String> {
    let (metric, op, rest) = if let Some((m, r)) = text.split_once(">=") {
        (m.trim(), Op::AtLeast, r.trim())
    } else if let Some((m, r)) = text.split_once("<=") {
        (m.trim(), Op::AtMost, r.trim())
    } else {
        return Err(format!(
            "metric condition {text:?} must be `name >= value` or `name <= value`"
        ));
    };
    let threshold = if TIER_METRICS.contains(&metric) {
        Threshold::Tier(Tier::parse(rest).ok_or_else(|| {
            format!("{text:?}: {rest:?} is not a tier (low, medium, high, elite)")
        })?)
    } else if NUMBER_METRICS.contains(&metric) {
        Threshold::Number(
            rest.parse()
                .map_err(|_| format!("{text:?}: {rest:?} is not a number"))?,
        )
    } else {
        return Err(format!(
            "unknown metric `{metric}` (known: {}, {})",
            NUMBER_METRICS.join(", "),
            TIER_METRICS.join(", ")
        ));
    };
    Ok(MetricCondition {
        metric: metric.to_string(),
        op,
        threshold,
        text: text.to_string(),
    })
}

impl Model {
    /// `data/model.toml` under `root` if present, else the built-in model.
    pub fn load(root: &Path, known_probes: &[String]) -> Result<Model> {
        let (text, name) = crate::fsutil::data_file(root, "data/model.toml", BUILTIN)?;
        Model::parse(&text, &name, known_probes)
    }

    /// Parses and validates a model: unknown probes, unknown metrics, level
    /// gaps and duplicate ids are errors naming the file and line.
    pub fn parse(text: &str, name: &str, known_probes: &[String]) -> Result<Model> {
        let line_at = |offset: usize| crate::diagnostics::line_of_offset(text, offset);
        let raw: RawModel = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_at(s.start));
            anyhow!(
                "{name}{}: {}",
                line.map(|l| format!(":{l}")).unwrap_or_default(),
                e.message().trim()
            )
        })?;
        // Line of `needle` at or after `from`, for messages about values inside a practice.
        let line_after = |from: usize, needle: &str| {
            text[from..]
                .find(needle)
                .map(|o| line_at(from + o))
                .unwrap_or_else(|| line_at(from))
        };
        let known: HashSet<&str> = known_probes.iter().map(String::as_str).collect();
        let mut area_ids = HashSet::new();
        let mut practice_ids = HashSet::new();
        let mut areas = Vec::new();
        for a in raw.areas {
            let at = line_at(a.id.span().start);
            if !area_ids.insert(a.id.get_ref().clone()) {
                bail!("{name}:{at}: area `{}` is defined twice", a.id.get_ref());
            }
            let mut practices = Vec::new();
            for p in a.practices {
                let start = p.id.span().start;
                let at = line_at(start);
                let pid = p.id.get_ref().clone();
                if !practice_ids.insert(pid.clone()) {
                    bail!("{name}:{at}: practice `{pid}` is defined twice");
                }
                let check_probe = |probe: &str| -> Result<()> {
                    if known.contains(probe) {
                        Ok(())
                    } else {
                        bail!(
                            "{name}:{}: practice `{pid}` requires unknown probe `{probe}`",
                            line_after(start, &format!("\"{probe}\""))
                        )
                    }
                };
                if let Some(a) = &p.applies_if {
                    check_probe(a)?;
                }
                if p.levels.is_empty() {
                    bail!("{name}:{at}: practice `{pid}` has no levels");
                }
                let mut levels = Vec::new();
                for (i, l) in p.levels.into_iter().enumerate() {
                    let expected = i as u8 + 1;
                    let level_at = line_at(l.level.span().start);
                    let level = l.level.into_inner();
                    if level != expected || level > 5 {
                        bail!(
                            "{name}:{level_at}: practice `{pid}`: level {level} where level {expected} was expected (levels run 1, 2, … 5 without gaps)"
                        );
                    }
                    let mut requires = Vec::new();
                    for r in l.requires {
                        match r {
                            toml::Value::String(s) => {
                                check_probe(&s)?;
                                requires.push(Requirement::Probe(s));
                            }
                            toml::Value::Array(list) => {
                                let mut any = Vec::new();
                                for v in list {
                                    let s = v.as_str().ok_or_else(|| {
                                        anyhow!("{name}:{at}: practice `{pid}`: `requires` lists hold probe ids (strings)")
                                    })?;
                                    check_probe(s)?;
                                    any.push(s.to_string());
                                }
                                requires.push(Requirement::AnyOf(any));
                            }
                            other => bail!(
                                "{name}:{at}: practice `{pid}`: `requires` holds probe ids or lists of them, not {}",
                                other.type_str()
                            ),
                        }
                    }
                    let mut metrics = Vec::new();
                    for m in &l.metrics {
                        metrics.push(parse_condition(m).map_err(|e| {
                            anyhow!(
                                "{name}:{}: practice `{pid}`: {e}",
                                line_after(start, &format!("\"{m}\""))
                            )
                        })?);
                    }
                    if requires.is_empty() && metrics.is_empty() {
                        bail!(
                            "{name}:{level_at}: practice `{pid}` level {level}: requires nothing"
                        );
                    }
                    levels.push(Level {
                        level,
                        requires,
                        metrics,
                        next: l.next,
                    });
                }
                practices.push(Practice {
                    id: pid,
                    name: p.name,
                    chapter: p.chapter,
                    applies_if: p.applies_if,
                    levels,
                });
            }
            areas.push(Area {
                id: a.id.into_inner(),
                name: a.name,
                practices,
            });
        }
        Ok(Model { areas })
    }
}

/// Metric values a model can require.
#[derive(Debug, Clone, Default)]
pub struct MetricValues {
    pub coverage_line_rate: Option<f64>,
    pub coverage_branch_rate: Option<f64>,
    pub dora: Option<Dora>,
}

enum Value {
    Number(f64),
    Tier(Tier),
    /// Holds trivially (recovery when nothing failed).
    Vacuous(&'static str),
    Missing,
}

impl MetricValues {
    fn get(&self, metric: &str) -> Value {
        let num = |v: Option<f64>| v.map(Value::Number).unwrap_or(Value::Missing);
        let tier = |v: Option<Tier>| v.map(Value::Tier).unwrap_or(Value::Missing);
        let d = self.dora.as_ref();
        match metric {
            "coverage.line_rate" => num(self.coverage_line_rate),
            "coverage.branch_rate" => num(self.coverage_branch_rate),
            "dora.deployment_count" => num(d.map(|d| d.deployment_count as f64)),
            "dora.deployments_per_week" => num(d.map(|d| d.deployments_per_week)),
            "dora.deploy_days_per_week" => num(d.map(|d| d.deploy_days_per_week)),
            "dora.change_failure_rate" => num(d.and_then(|d| d.change_failure_rate)),
            "dora.rework_rate" => num(d.and_then(|d| d.rework_rate)),
            "tier.deployment_frequency" => tier(d.and_then(|d| d.tiers.deployment_frequency)),
            "tier.lead_time" => tier(d.and_then(|d| d.tiers.lead_time)),
            "tier.change_failure_rate" => tier(d.and_then(|d| d.tiers.change_failure_rate)),
            "tier.recovery_time" => match d {
                Some(d)
                    if d.tiers.recovery_time.is_none() && d.change_failure_rate == Some(0.0) =>
                {
                    Value::Vacuous("no failed deployments to recover from")
                }
                _ => tier(d.and_then(|d| d.tiers.recovery_time)),
            },
            _ => Value::Missing,
        }
    }
}

/// Evidence shown for a practice: a probe finding or a metric check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PracticeEvidence {
    /// Probe id, or the metric condition.
    pub probe: String,
    pub outcome: Outcome,
    pub path: Option<String>,
    pub line: Option<usize>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PracticeScore {
    pub id: String,
    pub name: String,
    pub area: String,
    pub area_id: String,
    /// `None` when the practice does not apply to the repository.
    pub level: Option<u8>,
    pub max_level: u8,
    pub applicable: bool,
    pub chapter: String,
    /// What to do to reach the next level.
    pub next_step: Option<String>,
    pub evidence: Vec<PracticeEvidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaScore {
    pub id: String,
    pub name: String,
    /// Mean level of the applicable practices; `None` when none applies.
    pub score: Option<f64>,
    pub practices: usize,
    pub applicable: usize,
}

fn outcome_of<'a>(findings: &'a [Finding], probe: &str) -> Option<&'a Finding> {
    findings.iter().find(|f| f.probe == probe)
}

/// Scores every practice and area of `model` from probe findings and metrics.
pub fn evaluate(
    model: &Model,
    findings: &[Finding],
    metrics: &MetricValues,
) -> (Vec<PracticeScore>, Vec<AreaScore>) {
    let mut practices = Vec::new();
    let mut areas = Vec::new();
    for area in &model.areas {
        let mut levels = Vec::new();
        for p in &area.practices {
            let score = evaluate_practice(area, p, findings, metrics);
            if let Some(l) = score.level {
                levels.push(l as f64);
            }
            practices.push(score);
        }
        areas.push(AreaScore {
            id: area.id.clone(),
            name: area.name.clone(),
            score: (!levels.is_empty()).then(|| {
                let mean = levels.iter().sum::<f64>() / levels.len() as f64;
                (mean * 100.0).round() / 100.0
            }),
            practices: area.practices.len(),
            applicable: levels.len(),
        });
    }
    (practices, areas)
}

fn evaluate_practice(
    area: &Area,
    p: &Practice,
    findings: &[Finding],
    metrics: &MetricValues,
) -> PracticeScore {
    let mut evidence: Vec<PracticeEvidence> = Vec::new();
    let mut seen = HashSet::new();
    let mut add_probe = |probe: &str, evidence: &mut Vec<PracticeEvidence>| {
        if !seen.insert(probe.to_string()) {
            return;
        }
        match outcome_of(findings, probe) {
            Some(f) => {
                if f.evidence.is_empty() {
                    evidence.push(PracticeEvidence {
                        probe: probe.to_string(),
                        outcome: f.outcome,
                        path: None,
                        line: None,
                        note: f.title.clone(),
                    });
                }
                for e in f.evidence.iter().take(3) {
                    evidence.push(PracticeEvidence {
                        probe: probe.to_string(),
                        outcome: f.outcome,
                        path: e.path.clone(),
                        line: e.line,
                        note: e.note.clone(),
                    });
                }
            }
            None => evidence.push(PracticeEvidence {
                probe: probe.to_string(),
                outcome: Outcome::Unknown,
                path: None,
                line: None,
                note: "probe did not run".into(),
            }),
        }
    };
    let applicable = match &p.applies_if {
        Some(probe) => {
            outcome_of(findings, probe).is_none_or(|f| f.outcome != Outcome::NotApplicable)
        }
        None => true,
    };
    if let Some(probe) = &p.applies_if {
        if !applicable {
            add_probe(probe, &mut evidence);
        }
    }
    let max_level = p.levels.len() as u8;
    if !applicable {
        return PracticeScore {
            id: p.id.clone(),
            name: p.name.clone(),
            area: area.name.clone(),
            area_id: area.id.clone(),
            level: None,
            max_level,
            applicable: false,
            chapter: p.chapter.clone(),
            next_step: None,
            evidence,
        };
    }
    let passes =
        |probe: &str| outcome_of(findings, probe).is_some_and(|f| f.outcome == Outcome::Pass);
    let mut reached = 0u8;
    let mut next_step = None;
    let mut gated = false;
    for level in &p.levels {
        let mut ok = true;
        for r in &level.requires {
            match r {
                Requirement::Probe(id) => {
                    add_probe(id, &mut evidence);
                    ok &= passes(id);
                }
                Requirement::AnyOf(ids) => {
                    let any = ids.iter().any(|id| passes(id));
                    // Show the probes that passed, or all of them when none did.
                    for id in ids {
                        if !any || passes(id) {
                            add_probe(id, &mut evidence);
                        }
                    }
                    ok &= any;
                }
            }
        }
        for m in &level.metrics {
            let (holds, note) = check_metric(m, metrics);
            evidence.push(PracticeEvidence {
                probe: m.text.clone(),
                outcome: match holds {
                    Some(true) => Outcome::Pass,
                    Some(false) => Outcome::Fail,
                    None => Outcome::Unknown,
                },
                path: None,
                line: None,
                note,
            });
            ok &= holds == Some(true);
        }
        if ok && !gated {
            reached = level.level;
        } else if !gated {
            gated = true;
            next_step = Some(level.next.clone());
        }
    }
    PracticeScore {
        id: p.id.clone(),
        name: p.name.clone(),
        area: area.name.clone(),
        area_id: area.id.clone(),
        level: Some(reached),
        max_level,
        applicable: true,
        chapter: p.chapter.clone(),
        next_step,
        evidence,
    }
}

fn check_metric(m: &MetricCondition, metrics: &MetricValues) -> (Option<bool>, String) {
    match (metrics.get(&m.metric), m.threshold) {
        (Value::Number(v), Threshold::Number(t)) => {
            let holds = match m.op {
                Op::AtLeast => v >= t,
                Op::AtMost => v <= t,
            };
            (Some(holds), format!("{} is {}", m.metric, trim_number(v)))
        }
        (Value::Tier(v), Threshold::Tier(t)) => {
            let holds = match m.op {
                Op::AtLeast => v >= t,
                Op::AtMost => v <= t,
            };
            (Some(holds), format!("{} is {}", m.metric, v.as_str()))
        }
        (Value::Vacuous(why), _) => (Some(true), why.to_string()),
        _ => (None, format!("{} is not measured", m.metric)),
    }
}

fn trim_number(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::Evidence;

    fn known() -> Vec<String> {
        ["a.one", "a.two", "a.three"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn finding(id: &str, outcome: Outcome) -> Finding {
        Finding {
            probe: id.into(),
            title: id.into(),
            outcome,
            evidence: vec![Evidence::at("f.yml", 3, "seen")],
            remediation: String::new(),
            chapter: "c".into(),
        }
    }

    const MODEL: &str = r#"
[[areas]]
id = "x"
name = "X"
[[areas.practices]]
id = "p"
name = "P"
chapter = "testing"
levels = [
  { level = 1, requires = ["a.one"], next = "do one" },
  { level = 2, requires = [["a.two", "a.three"]], next = "do two" },
  { level = 3, metrics = ["coverage.line_rate >= 0.6"], next = "cover" },
]
[[areas.practices]]
id = "q"
name = "Q"
chapter = "testing"
applies_if = "a.three"
levels = [ { level = 1, requires = ["a.three"], next = "three" } ]
"#;

    #[test]
    fn gating_any_of_metrics_and_not_applicable() {
        let m = Model::parse(MODEL, "model.toml", &known()).unwrap();
        let findings = vec![
            finding("a.one", Outcome::Pass),
            finding("a.two", Outcome::Fail),
            finding("a.three", Outcome::NotApplicable),
        ];
        let metrics = MetricValues {
            coverage_line_rate: Some(0.7),
            ..Default::default()
        };
        let (practices, areas) = evaluate(&m, &findings, &metrics);
        // Level 2 fails (neither a.two nor a.three passes), so level 3 does not count
        // although coverage is 0.7: gating.
        assert_eq!(practices[0].level, Some(1));
        assert_eq!(practices[0].next_step.as_deref(), Some("do two"));
        assert_eq!(practices[1].level, None);
        assert!(!practices[1].applicable);
        // The area averages only the applicable practice.
        assert_eq!(areas[0].score, Some(1.0));
        assert_eq!(areas[0].applicable, 1);

        let findings = vec![
            finding("a.one", Outcome::Pass),
            finding("a.two", Outcome::Pass),
            finding("a.three", Outcome::Pass),
        ];
        let (practices, areas) = evaluate(&m, &findings, &metrics);
        assert_eq!(practices[0].level, Some(3));
        assert_eq!(practices[0].next_step, None);
        assert_eq!(practices[1].level, Some(1));
        assert_eq!(areas[0].score, Some(2.0));
    }

    #[test]
    fn invalid_models_are_rejected_with_line_and_reason() {
        let bad_probe = MODEL.replace("\"a.one\"", "\"a.nine\"");
        let e = Model::parse(&bad_probe, "model.toml", &known())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "model.toml:10: practice `p` requires unknown probe `a.nine`"
        );
        let gap = MODEL.replace("level = 3,", "level = 4,");
        let e = Model::parse(&gap, "model.toml", &known())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("model.toml:12: practice `p`: level 4 where level 3 was expected"),
            "{e}"
        );
        let dup = MODEL.replace("id = \"q\"", "id = \"p\"");
        let e = Model::parse(&dup, "model.toml", &known())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "model.toml:15: practice `p` is defined twice");
        let metric = MODEL.replace("coverage.line_rate", "coverage.lines");
        let e = Model::parse(&metric, "model.toml", &known())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("model.toml:12: practice `p`: unknown metric `coverage.lines`"),
            "{e}"
        );
    }

    /// Found by `model_level_gap_names_its_line` (tests/parsers_prop.rs): a
    /// repeated level number was reported at the first level with that number.
    #[test]
    fn a_repeated_level_is_reported_at_its_own_line() {
        let repeated = MODEL.replace("level = 2,", "level = 1,");
        let e = Model::parse(&repeated, "model.toml", &known())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("model.toml:11: practice `p`: level 1 where level 2 was expected"),
            "{e}"
        );
    }

    #[test]
    fn builtin_model_uses_only_known_probes() {
        let catalogue =
            crate::probes::patterns::Catalogue::parse(crate::probes::patterns::BUILTIN, "b")
                .unwrap();
        let mut ids = crate::probes::known_ids(&catalogue);
        ids.push("testing.coverage-report".into());
        let m = Model::parse(BUILTIN, "model", &ids).unwrap();
        assert_eq!(m.areas.len(), 8);
    }
}

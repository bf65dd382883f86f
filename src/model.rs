//! The maturity model (`data/model.toml`): areas hold practices, practices
//! hold levels 1–5, and each level lists the probe findings and metric
//! thresholds it requires. Evaluating it is a pure function of findings and
//! metrics. A level counts only when every lower level does (gating).
//!
//! Levels are earned, never defaulted: each requirement passes, fails or cannot
//! be decided (an unknown probe finding, a metric without data). A practice
//! stops at the first level that does not pass. When a requirement of it failed
//! the practice keeps the level below (0 when level 1 failed); when none failed
//! but some could not be decided, it keeps the level below too, except at level
//! 1: then it is *not measured* and has no level at all, with the reason. Area
//! scores and the overall level average measured practices only, and count them.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};

use crate::message::{Arg, Message};
use crate::metrics::tiers::Tier;
use crate::metrics::Dora;
use crate::msg;
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
        let raw: RawModel = crate::toml_file::parse(text).map_err(|e| e.located(name))?;
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
    /// Holds trivially (recovery when nothing failed): why, as a message key.
    Vacuous(&'static str),
    /// No data: why, as a message key.
    Missing(&'static str),
}

impl MetricValues {
    fn get(&self, metric: &str) -> Value {
        let Some(d) = self.dora.as_ref() else {
            return match metric {
                "coverage.line_rate" => self
                    .coverage_line_rate
                    .map_or(Value::Missing(NO_COVERAGE), Value::Number),
                "coverage.branch_rate" => self
                    .coverage_branch_rate
                    .map_or(Value::Missing(self.no_branches()), Value::Number),
                _ => Value::Missing("msg_no_delivery_facts"),
            };
        };
        let num = |v: Option<f64>, why| v.map_or(Value::Missing(why), Value::Number);
        let tier = |v: Option<Tier>, why| v.map_or(Value::Missing(why), Value::Tier);
        const NO_DEPLOYMENTS: &str = "msg_no_deployment_in_window";
        match metric {
            "coverage.line_rate" => num(self.coverage_line_rate, NO_COVERAGE),
            "coverage.branch_rate" => num(self.coverage_branch_rate, self.no_branches()),
            "dora.deployment_count" => Value::Number(d.deployment_count as f64),
            "dora.deployments_per_week" => Value::Number(d.deployments_per_week),
            "dora.deploy_days_per_week" => Value::Number(d.deploy_days_per_week),
            "dora.change_failure_rate" => num(d.change_failure_rate, NO_DEPLOYMENTS),
            "dora.rework_rate" => num(d.rework_rate, NO_DEPLOYMENTS),
            "tier.deployment_frequency" => tier(d.tiers.deployment_frequency, NO_DEPLOYMENTS),
            "tier.lead_time" => tier(d.tiers.lead_time, "msg_no_change_reached_production"),
            "tier.change_failure_rate" => tier(d.tiers.change_failure_rate, NO_DEPLOYMENTS),
            "tier.recovery_time" => match d.tiers.recovery_time {
                Some(t) => Value::Tier(t),
                None if d.change_failure_rate == Some(0.0) => {
                    Value::Vacuous("msg_no_failed_deployments")
                }
                None if d.change_failure_rate.is_none() => Value::Missing(NO_DEPLOYMENTS),
                None => Value::Missing("msg_no_recovery_in_window"),
            },
            _ => Value::Missing("msg_metric_not_computed"),
        }
    }

    fn no_branches(&self) -> &'static str {
        if self.coverage_line_rate.is_some() {
            "msg_no_branches_counted"
        } else {
            NO_COVERAGE
        }
    }
}

const NO_COVERAGE: &str = "msg_no_coverage_read";

/// Evidence shown for a practice: a probe finding or a metric check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PracticeEvidence {
    /// Probe id, or the metric condition.
    pub probe: String,
    pub outcome: Outcome,
    pub path: Option<String>,
    pub line: Option<usize>,
    /// What was seen or measured, in the catalogue's words (English in the JSON).
    pub note: Message,
}

/// Whether a practice has a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PracticeStatus {
    /// Its level was earned: every requirement up to it passed, and the next level's
    /// requirements failed or could not be decided (or it is the top level).
    Measured,
    /// Level 1 could not be decided (a requirement unknown, none failed): no level.
    NotMeasured,
    /// Its `applies_if` probe is not applicable (no Dockerfile, no workloads): no level.
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PracticeScore {
    pub id: String,
    pub name: String,
    pub area: String,
    pub area_id: String,
    /// The level earned, 0–5; `None` when the practice is not measured or not applicable.
    /// 0 means a level-1 requirement failed.
    pub level: Option<u8>,
    pub status: PracticeStatus,
    pub max_level: u8,
    pub applicable: bool,
    pub chapter: String,
    /// What to do to reach the next level; `None` at the top level, and when the practice
    /// is not applicable or not measured.
    pub next_step: Option<String>,
    /// Which requirements of the first undecided level could not be decided, and why:
    /// the reason a practice is not measured, or why a measured one is not known to be
    /// higher. `None` when every level up to the first failure was decided. English in
    /// the JSON.
    pub reason: Option<Message>,
    pub evidence: Vec<PracticeEvidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaScore {
    pub id: String,
    pub name: String,
    /// Mean level of the measured practices; `None` when none is measured.
    pub score: Option<f64>,
    pub practices: usize,
    pub applicable: usize,
    /// How many of the applicable practices have a level.
    pub measured: usize,
}

/// A repository's overall level: the mean of its area scores that have one (areas weigh
/// the same, whatever their number of practices), with how many practices it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OverallLevel {
    /// One decimal; `None` when no practice is measured.
    pub level: Option<f64>,
    pub measured: usize,
    pub applicable: usize,
}

/// The overall level of a repository's area scores.
pub fn overall(areas: &[AreaScore]) -> OverallLevel {
    let scores: Vec<f64> = areas.iter().filter_map(|a| a.score).collect();
    OverallLevel {
        level: (!scores.is_empty())
            .then(|| (scores.iter().sum::<f64>() / scores.len() as f64 * 10.0).round() / 10.0),
        measured: areas.iter().map(|a| a.measured).sum(),
        applicable: areas.iter().map(|a| a.applicable).sum(),
    }
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
        let mut applicable = 0;
        for p in &area.practices {
            let score = evaluate_practice(area, p, findings, metrics);
            applicable += usize::from(score.applicable);
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
            applicable,
            measured: levels.len(),
        });
    }
    (practices, areas)
}

/// Probes or metrics that could not be decided, each with why.
type Undecided = Vec<(String, Message)>;

/// What the findings and metrics say about one requirement or one level.
enum Decision {
    Pass,
    Fail,
    /// Could not be decided: each undecided probe or metric, and why.
    Unknown(Undecided),
}

impl Decision {
    /// A level: failed when any requirement failed, else unknown when any is unknown.
    fn all(parts: Vec<Decision>) -> Decision {
        let mut unknown = Vec::new();
        for d in parts {
            match d {
                Decision::Fail => return Decision::Fail,
                Decision::Unknown(u) => unknown.extend(u),
                Decision::Pass => {}
            }
        }
        if unknown.is_empty() {
            Decision::Pass
        } else {
            Decision::Unknown(unknown)
        }
    }
}

/// One probe as a requirement: a pass holds, a fail or not-applicable does not (what it
/// needs is absent), an unknown finding or a probe that did not run cannot be decided.
fn probe_decision(findings: &[Finding], probe: &str) -> Decision {
    match outcome_of(findings, probe) {
        Some(f) => match f.outcome {
            Outcome::Pass => Decision::Pass,
            Outcome::Fail | Outcome::NotApplicable => Decision::Fail,
            Outcome::Unknown => {
                let why = f
                    .evidence
                    .iter()
                    .map(|e| &e.note)
                    .find(|n| !n.is_empty())
                    .cloned()
                    .unwrap_or_else(|| Message::text(&f.title));
                Decision::Unknown(vec![(probe.to_string(), why)])
            }
        },
        None => Decision::Unknown(vec![(
            probe.to_string(),
            Message::new("msg_probe_did_not_run"),
        )]),
    }
}

/// "level 3 could not be decided (a.one, a.two: why; metric: why)": the undecided
/// probes and metrics grouped by reason, in model order.
fn undecided_reason(level: u8, unknown: &[(String, Message)]) -> Message {
    let mut groups: Vec<(Vec<&str>, &Message)> = Vec::new();
    for (what, why) in unknown {
        match groups.iter_mut().find(|(_, w)| *w == why) {
            Some((whats, _)) => {
                if !whats.contains(&what.as_str()) {
                    whats.push(what);
                }
            }
            None => groups.push((vec![what], why)),
        }
    }
    let groups: Vec<Message> = groups
        .iter()
        .map(|(whats, why)| {
            msg!(
                "msg_undecided_group",
                what = whats.join(", "),
                why = (*why).clone()
            )
        })
        .collect();
    msg!("msg_undecided", level = level.to_string(), groups = groups)
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
                        note: Message::text(&f.title),
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
                note: Message::new("msg_probe_did_not_run"),
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
            status: PracticeStatus::NotApplicable,
            max_level,
            applicable: false,
            chapter: p.chapter.clone(),
            next_step: None,
            reason: None,
            evidence,
        };
    }
    let mut reached = 0u8;
    let mut next_step = None;
    // The level at which evaluation stopped and, when it could not be decided, why.
    let mut stopped: Option<(u8, Option<Undecided>)> = None;
    for level in &p.levels {
        let mut parts = Vec::new();
        for r in &level.requires {
            match r {
                Requirement::Probe(id) => {
                    add_probe(id, &mut evidence);
                    parts.push(probe_decision(findings, id));
                }
                Requirement::AnyOf(ids) => {
                    let decisions: Vec<Decision> =
                        ids.iter().map(|id| probe_decision(findings, id)).collect();
                    let any = decisions.iter().any(|d| matches!(d, Decision::Pass));
                    // Show the probes that passed, or all of them when none did.
                    for (id, d) in ids.iter().zip(&decisions) {
                        if !any || matches!(d, Decision::Pass) {
                            add_probe(id, &mut evidence);
                        }
                    }
                    // One passing probe meets it; else any undecided one leaves it open.
                    let mut unknown = Vec::new();
                    for d in decisions {
                        if let Decision::Unknown(u) = d {
                            unknown.extend(u);
                        }
                    }
                    parts.push(if any {
                        Decision::Pass
                    } else if unknown.is_empty() {
                        Decision::Fail
                    } else {
                        Decision::Unknown(unknown)
                    });
                }
            }
        }
        for m in &level.metrics {
            let (decision, note) = check_metric(m, metrics);
            evidence.push(PracticeEvidence {
                probe: m.text.clone(),
                outcome: match decision {
                    Decision::Pass => Outcome::Pass,
                    Decision::Fail => Outcome::Fail,
                    Decision::Unknown(_) => Outcome::Unknown,
                },
                path: None,
                line: None,
                note,
            });
            parts.push(decision);
        }
        if stopped.is_some() {
            // Levels above the first one not reached still show their evidence.
            continue;
        }
        match Decision::all(parts) {
            Decision::Pass => reached = level.level,
            Decision::Fail => {
                stopped = Some((level.level, None));
                next_step = Some(level.next.clone());
            }
            Decision::Unknown(unknown) => {
                stopped = Some((level.level, Some(unknown)));
                next_step = Some(level.next.clone());
            }
        }
    }
    let (level, status, reason) = match stopped {
        Some((at, Some(unknown))) => {
            let reason = Some(undecided_reason(at, &unknown));
            if at == 1 {
                // Nothing is known to be missing, so there is no step to recommend: the
                // reason says what could not be read.
                next_step = None;
                (None, PracticeStatus::NotMeasured, reason)
            } else {
                (Some(reached), PracticeStatus::Measured, reason)
            }
        }
        _ => (Some(reached), PracticeStatus::Measured, None),
    };
    PracticeScore {
        id: p.id.clone(),
        name: p.name.clone(),
        area: area.name.clone(),
        area_id: area.id.clone(),
        level,
        status,
        max_level,
        applicable: true,
        chapter: p.chapter.clone(),
        next_step,
        reason,
        evidence,
    }
}

/// A metric threshold: holds, does not hold, or cannot be decided because the metric has
/// no data (a missing value is unknown, never a failure).
fn check_metric(m: &MetricCondition, metrics: &MetricValues) -> (Decision, Message) {
    let decide = |holds: bool| {
        if holds {
            Decision::Pass
        } else {
            Decision::Fail
        }
    };
    match (metrics.get(&m.metric), m.threshold) {
        (Value::Number(v), Threshold::Number(t)) => {
            let holds = match m.op {
                Op::AtLeast => v >= t,
                Op::AtMost => v <= t,
            };
            (
                decide(holds),
                msg!("msg_metric_is", metric = &m.metric, value = trim_number(v)),
            )
        }
        (Value::Tier(v), Threshold::Tier(t)) => {
            let holds = match m.op {
                Op::AtLeast => v >= t,
                Op::AtMost => v <= t,
            };
            (
                decide(holds),
                msg!("msg_metric_is", metric = &m.metric, value = tier_name(v)),
            )
        }
        (Value::Vacuous(why), _) => (Decision::Pass, Message::new(why)),
        (Value::Missing(why), _) => (
            Decision::Unknown(vec![(m.metric.clone(), Message::new(why))]),
            msg!(
                "msg_metric_missing",
                metric = &m.metric,
                why = Message::new(why)
            ),
        ),
        // The parser pairs number metrics with numbers and tier metrics with tiers.
        _ => (
            Decision::Unknown(vec![(
                m.metric.clone(),
                Message::new("msg_threshold_mismatch"),
            )]),
            msg!("msg_metric_mismatch", metric = &m.metric),
        ),
    }
}

/// A tier as the theme names it (`tier_high`: "high" in English).
fn tier_name(t: Tier) -> Arg {
    Arg::Message(Message::new(match t {
        Tier::Elite => "tier_elite",
        Tier::High => "tier_high",
        Tier::Medium => "tier_medium",
        Tier::Low => "tier_low",
    }))
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
            evidence: vec![Evidence::at("f.yml", 3, Message::text("seen"))],
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

    const NO_TREE: &str = "a bare repository has no work tree to read files from";

    fn unknown(id: &str, why: &str) -> Finding {
        Finding {
            probe: id.into(),
            title: id.into(),
            outcome: Outcome::Unknown,
            evidence: vec![Evidence::note(Message::text(why))],
            remediation: String::new(),
            chapter: "c".into(),
        }
    }

    #[test]
    fn unknown_at_level_one_is_not_measured() {
        let m = Model::parse(MODEL, "model.toml", &known()).unwrap();
        let findings = vec![
            unknown("a.one", NO_TREE),
            unknown("a.two", NO_TREE),
            unknown("a.three", NO_TREE),
        ];
        let (practices, areas) = evaluate(&m, &findings, &MetricValues::default());
        let p = &practices[0];
        assert_eq!(p.level, None);
        assert_eq!(p.status, PracticeStatus::NotMeasured);
        assert!(p.applicable);
        assert_eq!(
            p.reason.as_ref().map(Message::english).as_deref(),
            Some("level 1 could not be decided (a.one: a bare repository has no work tree to read files from)")
        );
        assert_eq!(p.next_step, None);
        // `applies_if` unknown is not "not applicable": q applies, and is not measured either.
        assert_eq!(practices[1].status, PracticeStatus::NotMeasured);
        assert_eq!(practices[1].level, None);
        // Nothing measured: the area has no score, not 0.
        assert_eq!(areas[0].score, None);
        assert_eq!((areas[0].measured, areas[0].applicable), (0, 2));
        let o = overall(&areas);
        assert_eq!((o.level, o.measured, o.applicable), (None, 0, 2));
        // The JSON says `"level": null` with the reason.
        let json = serde_json::to_value(p).unwrap();
        assert_eq!(json["level"], serde_json::Value::Null);
        assert_eq!(json["status"], "not-measured");
        assert_eq!(
            json["reason"],
            "level 1 could not be decided (a.one: a bare repository has no work tree to read files from)"
        );
    }

    #[test]
    fn a_failure_at_level_one_is_zero() {
        let m = Model::parse(MODEL, "model.toml", &known()).unwrap();
        let findings = vec![finding("a.one", Outcome::Fail)];
        let (practices, _) = evaluate(&m, &findings, &MetricValues::default());
        assert_eq!(practices[0].level, Some(0));
        assert_eq!(practices[0].status, PracticeStatus::Measured);
        assert_eq!(practices[0].reason, None);
        assert_eq!(practices[0].next_step.as_deref(), Some("do one"));

        // A failed requirement decides the level even when another one is unknown.
        let two = MODEL.replace(
            "{ level = 1, requires = [\"a.one\"], next = \"do one\" }",
            "{ level = 1, requires = [\"a.one\", \"a.two\"], next = \"do one\" }",
        );
        let m = Model::parse(&two, "model.toml", &known()).unwrap();
        let findings = vec![unknown("a.one", NO_TREE), finding("a.two", Outcome::Fail)];
        let (practices, _) = evaluate(&m, &findings, &MetricValues::default());
        assert_eq!(practices[0].level, Some(0));
        assert_eq!(practices[0].reason, None);
        // A required probe that is not applicable is not met: a decided failure.
        let findings = vec![
            finding("a.one", Outcome::NotApplicable),
            finding("a.two", Outcome::Pass),
        ];
        let (practices, _) = evaluate(&m, &findings, &MetricValues::default());
        assert_eq!(practices[0].level, Some(0));
    }

    #[test]
    fn a_level_reached_stays_when_the_next_cannot_be_decided() {
        let m = Model::parse(MODEL, "model.toml", &known()).unwrap();
        // Levels 1 and 2 pass; level 3 needs coverage, which has no data.
        let findings = vec![
            finding("a.one", Outcome::Pass),
            finding("a.two", Outcome::Pass),
            finding("a.three", Outcome::Fail),
        ];
        let (practices, _) = evaluate(&m, &findings, &MetricValues::default());
        let p = &practices[0];
        assert_eq!(p.level, Some(2));
        assert_eq!(p.status, PracticeStatus::Measured);
        assert_eq!(
            p.reason.as_ref().map(Message::english).as_deref(),
            Some("level 3 could not be decided (coverage.line_rate: no coverage report was read)")
        );
        assert_eq!(p.next_step.as_deref(), Some("cover"));
        let e = p
            .evidence
            .iter()
            .find(|e| e.probe == "coverage.line_rate >= 0.6")
            .unwrap();
        assert_eq!(e.outcome, Outcome::Unknown);
        assert_eq!(
            e.note.english(),
            "coverage.line_rate has no data: no coverage report was read"
        );
        // An any-of list with a pass holds although another of its probes is unknown;
        // with no pass and one unknown it cannot be decided.
        let findings = vec![
            finding("a.one", Outcome::Pass),
            finding("a.two", Outcome::Fail),
            unknown("a.three", NO_TREE),
        ];
        let (practices, _) = evaluate(&m, &findings, &MetricValues::default());
        assert_eq!(practices[0].level, Some(1));
        assert_eq!(
            practices[0].reason.as_ref().map(Message::english).as_deref(),
            Some("level 2 could not be decided (a.three: a bare repository has no work tree to read files from)")
        );
    }

    fn dora(lead_time: Option<Tier>, change_failure_rate: Option<f64>) -> Dora {
        use crate::metrics::{DurationSummary, LeadTime, Tiers};
        let none = DurationSummary {
            count: 0,
            median: None,
        };
        Dora {
            deployment_count: 3,
            deployments_per_week: 1.5,
            deploy_days_per_week: 1.0,
            deploy_days_per_month: 3.0,
            lead_time_hours: LeadTime {
                count: 0,
                median: None,
                p90: None,
                values: Vec::new(),
            },
            lead_time_phases_hours: Default::default(),
            merge_phases_hours: None,
            change_failure_rate,
            recovery_time_hours: none.clone(),
            time_to_restore_hours: none,
            rework_rate: None,
            benchmark: "dora-2023".into(),
            tiers: Tiers {
                deployment_frequency: Some(Tier::High),
                lead_time,
                change_failure_rate: None,
                recovery_time: None,
            },
        }
    }

    #[test]
    fn a_metric_threshold_without_data_is_unknown_not_failed() {
        let condition = |text: &str| parse_condition(text).unwrap();
        let metrics = MetricValues {
            coverage_line_rate: None,
            coverage_branch_rate: None,
            dora: Some(dora(None, Some(1.0 / 3.0))),
        };
        let unknown_because = |text: &str| match check_metric(&condition(text), &metrics) {
            (Decision::Unknown(u), note) => (u, note),
            (Decision::Pass, n) | (Decision::Fail, n) => panic!("{text} was decided: {n}"),
        };
        let (u, note) = unknown_because("tier.lead_time >= high");
        assert_eq!(
            u,
            vec![(
                "tier.lead_time".to_string(),
                Message::new("msg_no_change_reached_production")
            )]
        );
        assert_eq!(
            u[0].1.english(),
            "no change reached production in the window"
        );
        assert_eq!(
            note.english(),
            "tier.lead_time has no data: no change reached production in the window"
        );
        let (u, _) = unknown_because("coverage.branch_rate >= 0.5");
        assert_eq!(u[0].1.english(), "no coverage report was read");
        let (u, _) = unknown_because("dora.rework_rate <= 0.1");
        assert_eq!(u[0].1.english(), "no deployment in the window");
        // A deployment failed and none recovered: recovery has no data (not vacuous).
        let (u, _) = unknown_because("tier.recovery_time >= high");
        assert_eq!(
            u[0].1.english(),
            "no failed deployment recovered in the window"
        );
        // Values that exist still decide: 3 deployments, a third of them failed.
        assert!(matches!(
            check_metric(&condition("dora.deployment_count >= 1"), &metrics).0,
            Decision::Pass
        ));
        assert!(matches!(
            check_metric(&condition("dora.change_failure_rate <= 0.15"), &metrics).0,
            Decision::Fail
        ));
        // No failure at all: recovery holds vacuously.
        let calm = MetricValues {
            dora: Some(dora(Some(Tier::Elite), Some(0.0))),
            ..Default::default()
        };
        assert!(matches!(
            check_metric(&condition("tier.recovery_time >= high"), &calm).0,
            Decision::Pass
        ));
        // Without delivery facts at all, every delivery metric is unknown.
        let (u, _) = match check_metric(
            &condition("dora.deployment_count >= 1"),
            &MetricValues::default(),
        ) {
            (Decision::Unknown(u), n) => (u, n),
            _ => panic!("decided without facts"),
        };
        assert_eq!(u[0].1.english(), "no delivery facts were gathered");
    }

    /// Three areas: x has practices at 3 and 0 and one not measured; y one at 2 and one
    /// not measured; z only a practice not measured.
    const AREAS: &str = r#"
[[areas]]
id = "x"
name = "X"
[[areas.practices]]
id = "p1"
name = "P1"
chapter = "c"
levels = [
  { level = 1, requires = ["b.1"], next = "1" },
  { level = 2, requires = ["b.2"], next = "2" },
  { level = 3, requires = ["b.3"], next = "3" },
]
[[areas.practices]]
id = "p2"
name = "P2"
chapter = "c"
levels = [ { level = 1, requires = ["b.4"], next = "4" } ]
[[areas.practices]]
id = "p3"
name = "P3"
chapter = "c"
levels = [ { level = 1, requires = ["b.5"], next = "5" } ]

[[areas]]
id = "y"
name = "Y"
[[areas.practices]]
id = "q1"
name = "Q1"
chapter = "c"
levels = [
  { level = 1, requires = ["b.6"], next = "6" },
  { level = 2, requires = ["b.1"], next = "1" },
  { level = 3, requires = ["b.4"], next = "4" },
]
[[areas.practices]]
id = "q2"
name = "Q2"
chapter = "c"
levels = [ { level = 1, requires = ["b.5", "b.1"], next = "5" } ]

[[areas]]
id = "z"
name = "Z"
[[areas.practices]]
id = "r1"
name = "R1"
chapter = "c"
levels = [ { level = 1, requires = [["b.5", "b.4"]], next = "5" } ]
"#;

    #[test]
    fn area_and_overall_levels_average_measured_practices_only() {
        let ids: Vec<String> = (1..=6).map(|i| format!("b.{i}")).collect();
        let m = Model::parse(AREAS, "model.toml", &ids).unwrap();
        let findings = vec![
            finding("b.1", Outcome::Pass),
            finding("b.2", Outcome::Pass),
            finding("b.3", Outcome::Pass),
            finding("b.4", Outcome::Fail),
            unknown("b.5", NO_TREE),
            finding("b.6", Outcome::Pass),
        ];
        let (practices, areas) = evaluate(&m, &findings, &MetricValues::default());
        let levels: Vec<(&str, Option<u8>)> =
            practices.iter().map(|p| (p.id.as_str(), p.level)).collect();
        assert_eq!(
            levels,
            vec![
                ("p1", Some(3)),
                ("p2", Some(0)),
                ("p3", None),
                ("q1", Some(2)),
                ("q2", None),
                ("r1", None),
            ]
        );
        // x: (3 + 0) / 2 = 1.5, not (3 + 0 + 0) / 3 = 1.0; y: 2 / 1 = 2.0, not 1.0;
        // z: nothing measured, no score (not 0).
        let scores: Vec<(Option<f64>, usize, usize)> = areas
            .iter()
            .map(|a| (a.score, a.measured, a.applicable))
            .collect();
        assert_eq!(
            scores,
            vec![(Some(1.5), 2, 3), (Some(2.0), 1, 2), (None, 0, 1)]
        );
        // Overall: the mean of the scored areas, (1.5 + 2.0) / 2 = 1.75 → 1.8 (one
        // decimal), over 3 of the 6 applicable practices.
        assert_eq!(
            overall(&areas),
            OverallLevel {
                level: Some(1.8),
                measured: 3,
                applicable: 6,
            }
        );
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

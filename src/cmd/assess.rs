//! `opsmeter assess`: DORA metrics of one or more repositories over a window,
//! as a table or as the JSON contract (`docs/ARCHITECTURE.md`). The work is
//! [`crate::assess`]'s; this prints it and turns the quality gate into an exit code.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::Utc;

use crate::assess::{assess_repos, repo_specs, Report, WindowArgs};
use crate::config::site_root;
use crate::metrics::format_time;
use crate::metrics::tiers::Tier;
use crate::model;
use crate::workspace::Workspace;

/// Options of `opsmeter assess`.
#[derive(Debug, Default, Clone)]
pub struct AssessOptions {
    pub root: Option<PathBuf>,
    pub repos: Vec<PathBuf>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub json: bool,
    pub fail_under: Option<String>,
    pub lenient: bool,
    pub benchmarks: Option<String>,
}

pub fn run(opts: AssessOptions) -> Result<()> {
    let root = site_root(opts.root.as_deref())?;
    let ws = Workspace::load(&root)?;
    let config = &ws.config;
    let (edition_id, edition) = ws.edition(opts.benchmarks.as_deref())?;
    let fail_under =
        match &opts.fail_under {
            Some(t) => Some(Tier::parse(t).with_context(|| {
                format!("--fail-under {t:?}: expected elite, high, medium or low")
            })?),
            None => None,
        };
    let window = WindowArgs::parse(opts.since.as_deref(), opts.until.as_deref(), Utc::now())?
        .window(config.dora.window_days)?;
    let specs = repo_specs(&root, config, &opts.repos)?;
    let report = assess_repos(
        &ws,
        &specs,
        window,
        &edition_id,
        edition,
        opts.lenient,
        false,
    )?;

    // `services = "auto"`: what was proposed, as configuration to paste, on
    // stderr so the JSON on stdout stays JSON.
    for r in &report.repos {
        if let Some(p) = &r.services_proposal {
            eprint!("{p}");
        }
    }
    let mut out = std::io::BufWriter::new(crate::output::stdout());
    if opts.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_table(&mut out, &report, &edition.title)?;
    }
    out.flush()?;

    if let Some(min) = fail_under {
        let mut below = Vec::new();
        for r in &report.repos {
            let t = &r.dora.tiers;
            for (metric, tier) in [
                ("deployment frequency", t.deployment_frequency),
                ("lead time", t.lead_time),
                ("change failure rate", t.change_failure_rate),
                ("recovery time", t.recovery_time),
            ] {
                if let Some(tier) = tier {
                    if tier < min {
                        below.push(format!("{}: {metric} is {}", r.name, tier.as_str()));
                    }
                }
            }
        }
        if !below.is_empty() {
            bail!("below --fail-under {}: {}", min.as_str(), below.join("; "));
        }
    }
    Ok(())
}

fn tier(t: Option<Tier>) -> &'static str {
    t.map(|t| t.as_str()).unwrap_or("—")
}

fn pct(v: Option<f64>) -> String {
    v.map(|r| format!("{:.1} %", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// Hours to a tenth; a time above zero that would show as 0.0 is `< 0.1 h`.
fn opt_hours(v: Option<f64>) -> String {
    match v {
        Some(h) if h > 0.0 && h < 0.05 => "< 0.1 h".into(),
        Some(h) => format!("{h:.1} h"),
        None => "—".into(),
    }
}

fn write_table(out: &mut impl Write, report: &Report, edition: &str) -> Result<()> {
    for (k, r) in report.repos.iter().enumerate() {
        if k > 0 {
            writeln!(out)?;
        }
        let d = &r.dora;
        writeln!(
            out,
            "{}  [{} → {}, {}]",
            r.name,
            format_time(&report.window.since),
            format_time(&report.window.until),
            edition
        )?;
        let failed = r.deployments.iter().filter(|x| x.failed).count();
        let rows: Vec<(String, String, &str)> = vec![
            (
                "deployment frequency".into(),
                format!(
                    "{} deployments, {:.2}/week, {:.1} deploy-days/week",
                    d.deployment_count, d.deployments_per_week, d.deploy_days_per_week
                ),
                tier(d.tiers.deployment_frequency),
            ),
            (
                "lead time for changes".into(),
                format!(
                    "median {}, p90 {}, {} changes",
                    opt_hours(d.lead_time_hours.median),
                    opt_hours(d.lead_time_hours.p90),
                    d.lead_time_hours.count
                ),
                tier(d.tiers.lead_time),
            ),
            (
                "change failure rate".into(),
                match d.change_failure_rate {
                    Some(r) => format!("{:.1} % ({failed} of {})", r * 100.0, d.deployment_count),
                    None => "— (no deployments)".into(),
                },
                tier(d.tiers.change_failure_rate),
            ),
            (
                "recovery time".into(),
                format!(
                    "median {} ({} recovered); time to restore median {} ({} incidents)",
                    opt_hours(d.recovery_time_hours.median),
                    d.recovery_time_hours.count,
                    opt_hours(d.time_to_restore_hours.median),
                    d.time_to_restore_hours.count
                ),
                tier(d.tiers.recovery_time),
            ),
            (
                "rework rate".into(),
                d.rework_rate
                    .map(|r| format!("{:.1} %", r * 100.0))
                    .unwrap_or_else(|| "—".into()),
                "",
            ),
        ];
        writeln!(out, "  {:<24} {:<72} tier", "metric", "value")?;
        for (m, v, t) in rows {
            writeln!(out, "  {m:<24} {v:<72} {t}")?;
        }
        if let Some(c) = &r.coverage {
            writeln!(
                out,
                "  coverage: lines {} ({} of {}), branches {}",
                pct(c.line_rate),
                c.lines_covered,
                c.lines_valid,
                pct(c.branch_rate)
            )?;
        }
        writeln!(
            out,
            "  {:<28} {:<32} {:<12} next step",
            "area", "practice", "level"
        )?;
        for p in &r.practices {
            let level = match (p.level, p.status) {
                (Some(l), _) => format!("{l}/{}", p.max_level),
                (None, model::PracticeStatus::NotMeasured) => "not measured".to_string(),
                (None, _) => "n/a".to_string(),
            };
            writeln!(
                out,
                "  {:<28} {:<32} {:<12} {}",
                p.area,
                p.name,
                level,
                p.next_step.as_deref().unwrap_or(match p.status {
                    model::PracticeStatus::Measured => "top level reached",
                    _ => "",
                })
            )?;
            if let Some(reason) = &p.reason {
                writeln!(out, "  {:<74} {reason}", "")?;
            }
        }
        let areas: Vec<String> = r
            .areas
            .iter()
            .map(|a| match a.score {
                Some(s) if a.measured < a.applicable => {
                    format!(
                        "{} {s:.1} ({} of {} measured)",
                        a.name, a.measured, a.applicable
                    )
                }
                Some(s) => format!("{} {s:.1}", a.name),
                None if a.applicable > 0 => format!("{} not measured", a.name),
                None => format!("{} n/a", a.name),
            })
            .collect();
        writeln!(out, "  areas: {}", areas.join(" · "))?;
        writeln!(out, "  files: {}", r.files.description)?;
        let overall = model::overall(&r.areas);
        writeln!(
            out,
            "  overall level: {} ({} of {} practices measured)",
            overall
                .level
                .map_or_else(|| "not measured".to_string(), |l| format!("{l:.1}")),
            overall.measured,
            overall.applicable
        )?;
        for e in &r.explanations {
            writeln!(out, "  why no {}: {}", e.topic, e.text)?;
        }
        if let Some(services) = &r.services {
            write_services(
                out,
                services,
                r.independence.as_ref().and_then(Option::as_ref),
            )?;
        }
        for n in &r.notes {
            writeln!(out, "  note: {n}")?;
        }
    }
    Ok(())
}

/// The services of a repository: one line each, then the independence measures.
fn write_services(
    out: &mut impl Write,
    services: &[crate::assess::services::ServiceReport],
    independence: Option<&crate::metrics::independence::Independence>,
) -> Result<()> {
    // The name column fits the longest name (nested modules have long ones).
    let w = services
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(24);
    writeln!(
        out,
        "  {:<w$} {:>11} {:>10} {:>16} {:>8}  level",
        "service", "deployments", "per week", "lead time (med)", "failure"
    )?;
    for s in services {
        let Some(d) = &s.dora else {
            writeln!(
                out,
                "  {:<w$} not measured: {}",
                s.name,
                s.reason.as_ref().map(|r| r.english()).unwrap_or_default()
            )?;
            continue;
        };
        let overall = model::overall(&s.areas);
        writeln!(
            out,
            "  {:<w$} {:>11} {:>10.2} {:>16} {:>8}  {}",
            s.name,
            d.deployment_count,
            d.deployments_per_week,
            opt_hours(d.lead_time_hours.median),
            pct(d.change_failure_rate),
            overall
                .level
                .map_or_else(|| "not measured".to_string(), |l| format!("{l:.1}")),
        )?;
    }
    match independence {
        None => writeln!(out, "  independence: not measured")?,
        Some(i) => {
            writeln!(
                out,
                "  independence: {} of changes touch several services ({} of {}); {} of deployments ship one service ({} of {})",
                pct(i.cross_service_change_share),
                i.changes_touching_several,
                i.changes_touching_services,
                pct(i.single_service_deployment_share),
                i.deployments_shipping_one,
                i.deployments_shipping_services
            )?;
            let pairs: Vec<String> = i
                .coupled_pairs
                .iter()
                .take(5)
                .map(|p| format!("{}+{} {}", p.services[0], p.services[1], p.changes))
                .collect();
            if !pairs.is_empty() {
                writeln!(out, "  changed together most: {}", pairs.join(", "))?;
            }
        }
    }
    Ok(())
}

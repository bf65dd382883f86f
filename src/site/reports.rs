//! The numbers behind the dashboards: per-repository series for charts
//! (weekly deployments and lead times, the lead-time distribution, monthly
//! failure and recovery, coverage over time, area levels), the overview's
//! aggregates, and the exports (`/api/report.json`, `/api/report.csv`,
//! `/badges/<slug>.svg`). Pure functions of assessed reports and history.
//!
//! Every number is computed here once and kept in its unit: hours, counts,
//! and shares as ratios (0.0–1.0, never percentages). The charts' axes and
//! the templates' `percent` filter show ratios as percentages.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::assess::{RepoReport, Report};
use crate::metrics::stats::{median, percentile, rate};
use crate::metrics::tiers::Tier;
use crate::metrics::Window;
use crate::model::OverallLevel;
use crate::store::HistoryEntry;

/// One labelled value of a series; `None` is a gap (no data that period).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub label: String,
    pub value: Option<f64>,
}

/// Weekly lead time: median and p90 in hours, `None` when nothing shipped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadWeek {
    pub label: String,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// The series of one repository's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepoSeries {
    pub deployments_per_week: Vec<Point>,
    pub lead_time_per_week: Vec<LeadWeek>,
    /// Changes per lead-time bucket ([`LEAD_TIME_BUCKETS`]), labelled with
    /// the bucket's theme-string key.
    pub lead_time_distribution: Vec<Point>,
    /// The share of deployments that failed, per month, as a ratio.
    pub failure_rate_per_month: Vec<Point>,
    pub recovery_per_month: Vec<Point>,
    /// Line coverage per collection, as a ratio.
    pub coverage_over_time: Vec<Point>,
    /// Area name → mean level of its measured practices, for the areas that apply
    /// (`None`: none of its practices is measured).
    pub area_levels: Vec<Point>,
    /// Median of each lead-time phase per week or month (`None` when no phase is known).
    pub lead_time_phases: Option<PhaseSeries>,
}

/// The median of each phase per period of deployment, for the stacked chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseSeries {
    /// `week` (windows up to 13 weeks) or `month`.
    pub period: &'static str,
    pub labels: Vec<String>,
    /// Phase name → its median per period (`None`: nothing shipped with that phase known).
    pub phases: Vec<(&'static str, Vec<Option<f64>>)>,
}

/// Windows up to this many days get a weekly phase chart, longer ones a monthly one.
const WEEKLY_UP_TO_DAYS: i64 = 91;

/// The phases of what shipped in the window, per week or month of deployment:
/// pull requests' four phases when the host gave them, else git's two for
/// changes that came through a merge commit; `None` when neither is known.
pub fn phase_series(r: &RepoReport, window: &Window) -> Option<PhaseSeries> {
    use crate::metrics::phases;
    let deps = &r.facts.deployments;
    // (deployment time, phases by name) of everything counted.
    type Shipped = (DateTime<Utc>, Vec<(&'static str, Option<f64>)>);
    let mut shipped: Vec<Shipped> = Vec::new();
    if r.facts.pull_requests.is_empty() {
        for c in &r.facts.changes {
            let t = deps[c.deployment].time;
            if c.merged_at.is_some() && window.contains(t) {
                shipped.push((t, phases::change_spans(c, t).named().to_vec()));
            }
        }
    } else {
        for w in phases::window_requests(&r.facts, window) {
            if let (true, Some(d)) = (w.counted(), w.deployment) {
                shipped.push((deps[d].time, w.phases.named().to_vec()));
            }
        }
    }
    if shipped
        .iter()
        .all(|(_, p)| p.iter().all(|(_, v)| v.is_none()))
    {
        return None;
    }
    let weekly = (window.until - window.since).num_days() <= WEEKLY_UP_TO_DAYS;
    let labels: Vec<String> = if weekly {
        weeks(window)
            .iter()
            .map(|w| w.format("%Y-%m-%d").to_string())
            .collect()
    } else {
        months(window)
    };
    let label_of = |t: DateTime<Utc>| {
        if weekly {
            week_start(t).format("%Y-%m-%d").to_string()
        } else {
            t.format("%Y-%m").to_string()
        }
    };
    let names: Vec<&'static str> = shipped[0].1.iter().map(|(n, _)| *n).collect();
    let phases = names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let values = labels
                .iter()
                .map(|label| {
                    let v: Vec<f64> = shipped
                        .iter()
                        .filter(|(t, _)| &label_of(*t) == label)
                        .filter_map(|(_, p)| p[k].1)
                        .collect();
                    median(&v).map(round1)
                })
                .collect();
            (*name, values)
        })
        .collect();
    Some(PhaseSeries {
        period: if weekly { "week" } else { "month" },
        labels,
        phases,
    })
}

/// The lead-time distribution's buckets, on a logarithmic scale: the theme
/// string that names each (`bucket_under_1h` is "<1 h"), and its upper bound
/// in hours, exclusive (the lower bound is the previous bucket's upper, 0 for
/// the first). Lead times that are negative or not finite are not counted.
pub const LEAD_TIME_BUCKETS: [(&str, f64); 6] = [
    ("bucket_under_1h", 1.0),
    ("bucket_1_4h", 4.0),
    ("bucket_4_24h", 24.0),
    ("bucket_1_7d", 168.0),
    ("bucket_7_30d", 720.0),
    ("bucket_over_30d", f64::INFINITY),
];

/// Monday 00:00 UTC of the week containing `t`.
fn week_start(t: DateTime<Utc>) -> NaiveDate {
    let d = t.date_naive();
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// The weeks (their Mondays) that overlap `window`.
fn weeks(window: &Window) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut w = week_start(window.since);
    let last = week_start(window.until - Duration::seconds(1));
    while w <= last {
        out.push(w);
        w += Duration::days(7);
    }
    out
}

/// The months (`YYYY-MM`) that overlap `window`.
fn months(window: &Window) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = (window.since.year(), window.since.month());
    let end = window.until - Duration::seconds(1);
    while (y, m) <= (end.year(), end.month()) {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// Hours and counts in the series: to 0.1, as the charts show them.
fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Ratios in the series: to 0.001 (0.1 % once shown as a percentage).
fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Series for one repository's charts.
pub fn repo_series(r: &RepoReport, window: &Window, history: &[HistoryEntry]) -> RepoSeries {
    let deps = &r.facts.deployments;
    let in_window = |t: DateTime<Utc>| window.contains(t);

    let week_list = weeks(window);
    let mut per_week: BTreeMap<NaiveDate, usize> = week_list.iter().map(|w| (*w, 0)).collect();
    for d in deps.iter().filter(|d| in_window(d.time)) {
        *per_week.entry(week_start(d.time)).or_default() += 1;
    }
    let mut lead_by_week: BTreeMap<NaiveDate, Vec<f64>> = BTreeMap::new();
    let mut all_leads = Vec::new();
    for (t, h) in crate::metrics::change_lead_times(&r.facts, window) {
        lead_by_week.entry(week_start(t)).or_default().push(h);
        all_leads.push(h);
    }
    let deployments_per_week = week_list
        .iter()
        .map(|w| Point {
            label: w.format("%Y-%m-%d").to_string(),
            value: Some(per_week[w] as f64),
        })
        .collect();
    let lead_time_per_week = week_list
        .iter()
        .map(|w| {
            let v = lead_by_week.get(w).map(Vec::as_slice).unwrap_or(&[]);
            LeadWeek {
                label: w.format("%Y-%m-%d").to_string(),
                median: median(v).map(round1),
                p90: percentile(v, 0.9).map(round1),
            }
        })
        .collect();
    let mut lower = 0.0;
    let lead_time_distribution = LEAD_TIME_BUCKETS
        .iter()
        .map(|(key, upper)| {
            let n = all_leads
                .iter()
                .filter(|h| **h >= lower && **h < *upper)
                .count();
            lower = *upper;
            Point {
                label: key.to_string(),
                value: Some(n as f64),
            }
        })
        .collect();

    let month_list = months(window);
    let mut month_deps: BTreeMap<String, (usize, usize, Vec<f64>)> = month_list
        .iter()
        .map(|m| (m.clone(), (0, 0, Vec::new())))
        .collect();
    for (i, d) in deps.iter().enumerate() {
        if !in_window(d.time) {
            continue;
        }
        let key = d.time.format("%Y-%m").to_string();
        let e = month_deps.entry(key).or_default();
        e.0 += 1;
        if let Some(o) = r.outcomes.get(i) {
            if o.failed {
                e.1 += 1;
                if let Some(rec) = o.recovered_at {
                    e.2.push((rec - d.time).num_seconds() as f64 / 3600.0);
                }
            }
        }
    }
    let failure_rate_per_month = month_deps
        .iter()
        .map(|(m, (n, f, _))| Point {
            label: m.clone(),
            value: rate(*f as u64, *n as u64).map(round3),
        })
        .collect();
    let recovery_per_month = month_deps
        .iter()
        .map(|(m, (_, _, rec))| Point {
            label: m.clone(),
            value: median(rec).map(round1),
        })
        .collect();
    let mut coverage_over_time: Vec<Point> = history
        .iter()
        .map(|h| Point {
            label: h.collected_at.format("%Y-%m-%d").to_string(),
            value: h.coverage_line_rate.map(round3),
        })
        .collect();
    if let Some(c) = r.coverage.as_ref().and_then(|c| c.line_rate) {
        let today = window.until.format("%Y-%m-%d").to_string();
        if coverage_over_time.last().map(|p| &p.label) != Some(&today) {
            coverage_over_time.push(Point {
                label: today,
                value: Some(round3(c)),
            });
        }
    }
    let area_levels = r
        .areas
        .iter()
        .filter(|a| a.applicable > 0)
        .map(|a| Point {
            label: a.name.clone(),
            value: a.score,
        })
        .collect();
    RepoSeries {
        deployments_per_week,
        lead_time_per_week,
        lead_time_distribution,
        failure_rate_per_month,
        recovery_per_month,
        coverage_over_time,
        area_levels,
        lead_time_phases: phase_series(r, window),
    }
}

/// The overall level of a repository: the mean of its area scores, each over measured
/// practices only, with how many practices were measured.
pub fn overall_level(r: &RepoReport) -> OverallLevel {
    crate::model::overall(&r.areas)
}

/// How many repositories sit in each tier, per DORA metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierDistribution {
    pub metric: String,
    /// The metric's theme-string key (`lead_time`), for its name in a language.
    #[serde(skip)]
    pub key: &'static str,
    /// Counts for elite, high, medium, low, and no data.
    pub elite: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub none: usize,
}

pub fn tier_distribution(report: &Report) -> Vec<TierDistribution> {
    tier_distribution_of(&report.repos.iter().collect::<Vec<_>>())
}

/// [`tier_distribution`] of some repositories (a team).
pub fn tier_distribution_of(repos: &[&RepoReport]) -> Vec<TierDistribution> {
    type TierOf = fn(&RepoReport) -> Option<Tier>;
    let metrics: [(&str, &'static str, TierOf); 4] = [
        ("Deployment frequency", "deployment_frequency", |r| {
            r.dora.tiers.deployment_frequency
        }),
        ("Lead time for changes", "lead_time", |r| {
            r.dora.tiers.lead_time
        }),
        ("Change failure rate", "change_failure_rate", |r| {
            r.dora.tiers.change_failure_rate
        }),
        ("Recovery time", "recovery_time", |r| {
            r.dora.tiers.recovery_time
        }),
    ];
    metrics
        .iter()
        .map(|(name, key, get)| {
            let mut d = TierDistribution {
                metric: name.to_string(),
                key,
                elite: 0,
                high: 0,
                medium: 0,
                low: 0,
                none: 0,
            };
            for r in repos {
                match get(r) {
                    Some(Tier::Elite) => d.elite += 1,
                    Some(Tier::High) => d.high += 1,
                    Some(Tier::Medium) => d.medium += 1,
                    Some(Tier::Low) => d.low += 1,
                    None => d.none += 1,
                }
            }
            d
        })
        .collect()
}

/// The group's medians across stored history: for each collection date, the
/// median over repositories of their latest entry up to that date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub label: String,
    pub lead_time_median_hours: Option<f64>,
    pub deploy_days_per_week: Option<f64>,
    /// The median change failure rate, as a ratio (the template rounds it when it
    /// shows it as a percentage).
    pub change_failure_rate: Option<f64>,
}

pub fn group_trends(histories: &[Vec<HistoryEntry>]) -> Vec<TrendPoint> {
    let mut dates: Vec<NaiveDate> = histories
        .iter()
        .flatten()
        .map(|h| h.collected_at.date_naive())
        .collect();
    dates.sort();
    dates.dedup();
    dates
        .into_iter()
        .map(|day| {
            let latest: Vec<&HistoryEntry> = histories
                .iter()
                .filter_map(|h| h.iter().rev().find(|e| e.collected_at.date_naive() <= day))
                .collect();
            let lead: Vec<f64> = latest
                .iter()
                .filter_map(|e| e.lead_time_median_hours)
                .collect();
            let days: Vec<f64> = latest.iter().map(|e| e.deploy_days_per_week).collect();
            let cfr: Vec<f64> = latest
                .iter()
                .filter_map(|e| e.change_failure_rate)
                .collect();
            TrendPoint {
                label: day.format("%Y-%m-%d").to_string(),
                lead_time_median_hours: median(&lead).map(round1),
                deploy_days_per_week: median(&days).map(round1),
                change_failure_rate: median(&cfr),
            }
        })
        .collect()
}

/// A CSV cell: quoted when needed, and text that a spreadsheet would run as a
/// formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

/// `/api/report.csv`: one row per repository (`service` empty), each followed
/// by one row per service of the repository (`service` its name). A level cell is empty when no practice
/// behind it is measured (or applies); `practices_measured` of `practices_applicable`
/// says how many practices the overall level rests on.
pub fn report_csv(report: &Report) -> String {
    let area_names: Vec<String> = report
        .repos
        .first()
        .map(|r| r.areas.iter().map(|a| a.name.clone()).collect())
        .unwrap_or_default();
    let mut header = vec![
        "repository",
        "service",
        "deployments",
        "deployments_per_week",
        "deploy_days_per_week",
        "lead_time_median_hours",
        "lead_time_p90_hours",
        "change_failure_rate",
        "recovery_time_median_hours",
        "rework_rate",
        "coverage_line_rate",
        "tier_deployment_frequency",
        "tier_lead_time",
        "tier_change_failure_rate",
        "tier_recovery_time",
        "overall_level",
        "practices_measured",
        "practices_applicable",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    header.extend(area_names.iter().map(|a| format!("area: {a}")));
    let mut out = header
        .iter()
        .map(|h| csv_cell(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in &report.repos {
        let overall = overall_level(r);
        let columns = area_names.len();
        let row = CsvRow {
            repo: &r.name,
            service: "",
            dora: Some(&r.dora),
            coverage: r.coverage.as_ref(),
            areas: &r.areas,
        };
        out.push_str(&row.line(&overall, columns));
        // Each service of the repository, after it; a service not measured
        // has its names and empty cells (unknown, not 0).
        for s in r.services.iter().flatten() {
            let overall = crate::model::overall(&s.areas);
            let row = CsvRow {
                repo: &r.name,
                service: &s.name,
                dora: s.dora.as_ref(),
                coverage: s.coverage.as_ref(),
                areas: &s.areas,
            };
            out.push_str(&row.line(&overall, columns));
        }
    }
    out
}

/// One line of the CSV export: a repository's (`service` empty) or a service's.
struct CsvRow<'a> {
    repo: &'a str,
    service: &'a str,
    /// `None`: not measured (a service whose history could not be read), so
    /// every number is an empty cell, not 0.
    dora: Option<&'a crate::metrics::Dora>,
    coverage: Option<&'a crate::probes::coverage::Coverage>,
    areas: &'a [crate::model::AreaScore],
}

impl CsvRow<'_> {
    /// The line, with `columns` area cells (empty where the row has no such area).
    fn line(&self, overall: &OverallLevel, columns: usize) -> String {
        let (dora, coverage) = (self.dora, self.coverage);
        let tier = |t: Option<Tier>| t.map(|t| t.as_str().to_string()).unwrap_or_default();
        let mut row = vec![csv_cell(self.repo), csv_cell(self.service)];
        match dora {
            Some(d) => row.extend([
                d.deployment_count.to_string(),
                format!("{}", d.deployments_per_week),
                format!("{}", d.deploy_days_per_week),
                num(d.lead_time_hours.median),
                num(d.lead_time_hours.p90),
                num(d.change_failure_rate),
                num(d.recovery_time_hours.median),
                num(d.rework_rate),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), 8)),
        }
        row.push(num(coverage.and_then(|c| c.line_rate)));
        match dora {
            Some(d) => row.extend([
                tier(d.tiers.deployment_frequency),
                tier(d.tiers.lead_time),
                tier(d.tiers.change_failure_rate),
                tier(d.tiers.recovery_time),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), 4)),
        }
        if dora.is_some() {
            row.extend([
                num(overall.level),
                overall.measured.to_string(),
                overall.applicable.to_string(),
            ]);
        } else {
            row.extend(std::iter::repeat_n(String::new(), 3));
        }
        let mut areas: Vec<String> = self.areas.iter().map(|a| num(a.score)).collect();
        areas.resize(columns, String::new());
        row.extend(areas);
        let mut line = row.join(",");
        line.push('\n');
        line
    }
}

/// `/badges/<slug>.svg`: a shields-style badge with the overall level; its title
/// says how many practices it rests on.
pub fn badge(r: &RepoReport) -> String {
    let overall = overall_level(r);
    let (value, colour) = match overall.level {
        Some(l) if l >= 4.0 => (format!("level {l:.1}"), "#2e7d32"),
        Some(l) if l >= 3.0 => (format!("level {l:.1}"), "#558b2f"),
        Some(l) if l >= 2.0 => (format!("level {l:.1}"), "#f9a825"),
        Some(l) => (format!("level {l:.1}"), "#c62828"),
        None => ("not measured".to_string(), "#757575"),
    };
    let label = "DevOps maturity";
    // Width estimate: ~6.5 px per character at 11 px Verdana, plus padding.
    let lw = (label.len() as f64 * 6.5 + 10.0).round() as u32;
    let vw = (value.len() as f64 * 6.5 + 10.0).round() as u32;
    let w = lw + vw;
    let esc = crate::site::highlight::escape_html;
    let title = format!(
        "{}: {} ({} of {} practices measured)",
        r.name, value, overall.measured, overall.applicable
    );
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\" role=\"img\" aria-label=\"{t}\">\
<title>{t}</title>\
<rect width=\"{lw}\" height=\"20\" fill=\"#555\"/><rect x=\"{lw}\" width=\"{vw}\" height=\"20\" fill=\"{colour}\"/>\
<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\">\
<text x=\"{lx}\" y=\"14\">{label}</text><text x=\"{vx}\" y=\"14\">{v}</text></g></svg>\n",
        t = esc(&title),
        lx = lw / 2,
        vx = lw + vw / 2,
        v = esc(&value),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formula_safe() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "'-1");
    }

    #[test]
    fn weeks_and_months_cover_the_window() {
        let w = Window {
            since: DateTime::parse_from_rfc3339("2024-01-03T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            until: DateTime::parse_from_rfc3339("2024-02-05T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        let ws: Vec<String> = weeks(&w).iter().map(|d| d.to_string()).collect();
        assert_eq!(
            ws,
            vec![
                "2024-01-01",
                "2024-01-08",
                "2024-01-15",
                "2024-01-22",
                "2024-01-29"
            ]
        );
        assert_eq!(months(&w), vec!["2024-01", "2024-02"]);
    }
}

//! Assessing the site's repositories during `build`: the configured
//! `[[repos]]`, else the repository that holds the site. The result feeds the
//! overview (`/`), one report per repository (`/repos/<slug>/`) and the
//! exports. A site outside git with no repositories has no dashboards and
//! builds its content alone.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::charts::{self, Band, BarSpec, Chart, HistogramSpec, LineSpec, RadarSpec, Series, Unit};
use super::reports::{self, RepoSeries, TierDistribution, TrendPoint};
use crate::assess::{assess_repos, repo_specs, Report, WindowArgs};
use crate::metrics::{self, Dora, Window};
use crate::sources::git::GitRepo;
use crate::workspace::Workspace;

/// How `build` assesses repositories.
#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// The window's bounds as given, and the clock; its default length comes
    /// from the site's configuration.
    pub window: WindowArgs,
    pub lenient: bool,
}

/// Everything the dashboards show.
pub struct Dashboards {
    pub report: Report,
    pub series: Vec<RepoSeries>,
    /// Each repository's metrics over the window before this one, for the cards' changes.
    pub previous: Vec<Dora>,
    pub trends: Vec<TrendPoint>,
    pub tiers: Vec<TierDistribution>,
    pub edition_title: String,
    /// Each repository's stored history, for team trends.
    pub histories: Vec<Vec<crate::store::HistoryEntry>>,
    /// Teams: name, slug and the indexes of their repositories.
    pub teams: Vec<Team>,
}

/// A `[[teams]]` entry resolved against the assessed repositories.
pub struct Team {
    pub name: String,
    pub slug: String,
    pub members: Vec<usize>,
}

/// Assesses the site's repositories, or returns `None` when it has none.
pub fn assess_site(ws: &Workspace, opts: &DashboardOptions) -> Result<Option<Dashboards>> {
    let (root, config) = (ws.root.as_path(), &ws.config);
    if config.repos.is_empty() && GitRepo::discover(root).is_none() {
        return Ok(None);
    }
    let specs = repo_specs(root, config, &[])?;
    let window = opts.window.window(config.dora.window_days)?;
    let Window { since, until } = window;
    let (edition_id, edition) = ws.edition(None)?;
    let report = assess_repos(ws, &specs, window, &edition_id, edition, opts.lenient)
        .context("assessing repositories for the dashboards")?;
    one_folder_each(
        report
            .repos
            .iter()
            .map(|r| (r.name.as_str(), r.slug.as_str())),
        "repositories",
        "repos",
    )?;
    let previous_window = Window {
        since: since - (until - since),
        until: since,
    };
    let mut series = Vec::new();
    let mut previous = Vec::new();
    let mut histories = Vec::new();
    for r in &report.repos {
        let history = crate::store::load_history(root, &r.slug)?;
        series.push(reports::repo_series(r, &window, &history));
        previous.push(metrics::dora(
            &r.facts,
            &r.outcomes,
            &previous_window,
            &edition_id,
            edition,
        ));
        histories.push(history);
    }
    let trends = reports::group_trends(&histories);
    let tiers = reports::tier_distribution(&report);
    let mut teams = Vec::new();
    for t in &config.teams {
        let mut members = Vec::new();
        for name in &t.repos {
            match report.repos.iter().position(|r| &r.name == name) {
                Some(i) => members.push(i),
                None => bail!(
                    "opsmeter.toml: team `{}` lists `{name}`, which is not one of the repositories ({})",
                    t.name,
                    report.repos.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            }
        }
        teams.push(Team {
            name: t.name.clone(),
            slug: crate::store::slug(&t.name),
            members,
        });
    }
    one_folder_each(
        teams.iter().map(|t| (t.name.as_str(), t.slug.as_str())),
        "teams",
        "teams",
    )?;
    Ok(Some(Dashboards {
        report,
        series,
        previous,
        trends,
        tiers,
        edition_title: edition.title.clone(),
        histories,
        teams,
    }))
}

/// Two names whose folder names (slugs) are the same would overwrite each
/// other's page (and, for repositories, stored facts): an error naming both.
fn one_folder_each<'a>(
    names: impl Iterator<Item = (&'a str, &'a str)>,
    what: &str,
    folder: &str,
) -> Result<()> {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (name, slug) in names {
        if let Some(other) = seen.insert(slug, name) {
            bail!(
                "opsmeter.toml: the {what} `{other}` and `{name}` have the same folder name `{slug}` \
                 (/{folder}/{slug}/), so one would overwrite the other: rename one (`name = \"…\"`)"
            );
        }
    }
    Ok(())
}

/// The charts of one repository's report, in page order.
pub fn repo_charts(name: &str, s: &RepoSeries) -> Vec<Chart> {
    let labels =
        |points: &[reports::Point]| points.iter().map(|p| p.label.clone()).collect::<Vec<_>>();
    let values = |points: &[reports::Point], scale: f64| {
        points
            .iter()
            .map(|p| p.value.map(|v| v * scale))
            .collect::<Vec<_>>()
    };
    let weeks: Vec<String> = s
        .lead_time_per_week
        .iter()
        .map(|w| w.label.clone())
        .collect();
    vec![
        charts::bar_chart(&BarSpec {
            id: "deployments-per-week".into(),
            title: "Deployments per week".into(),
            description: format!("Number of production deployments of {name} in each week of the window."),
            x_label: "Week (starting Monday)".into(),
            y_label: "Deployments".into(),
            unit: Unit::Count,
            categories: labels(&s.deployments_per_week),
            series: vec![Series {
                name: "Deployments".into(),
                values: values(&s.deployments_per_week, 1.0),
            }],
            stacked: false,
            no_data: String::new(),
        }),
        charts::line_chart(&LineSpec {
            id: "lead-time-per-week".into(),
            title: "Lead time per week".into(),
            description: format!(
                "Median lead time for changes of {name} per week of deployment, with a band up to the 90th percentile."
            ),
            x_label: "Week (starting Monday)".into(),
            y_label: "Lead time".into(),
            unit: Unit::Hours,
            x: weeks,
            series: vec![Series {
                name: "Median".into(),
                values: s.lead_time_per_week.iter().map(|w| w.median).collect(),
            }],
            band: Some(Band {
                low: Series {
                    name: "Median".into(),
                    values: s.lead_time_per_week.iter().map(|w| w.median).collect(),
                },
                high: Series {
                    name: "p90".into(),
                    values: s.lead_time_per_week.iter().map(|w| w.p90).collect(),
                },
            }),
            no_data: String::new(),
        }),
        charts::histogram(&HistogramSpec {
            id: "lead-time-distribution".into(),
            title: "Lead-time distribution".into(),
            description: format!("How many changes of {name} reached production within each lead-time range (log scale)."),
            x_label: "Lead time".into(),
            y_label: "Changes".into(),
            values: s.lead_times.clone(),
            buckets: charts::lead_time_buckets(),
            no_data: String::new(),
        }),
        charts::bar_chart(&BarSpec {
            id: "failure-rate-per-month".into(),
            title: "Change failure rate per month".into(),
            description: format!("Share of {name}'s deployments in each month that failed."),
            x_label: "Month".into(),
            y_label: "Change failure rate".into(),
            unit: Unit::Ratio,
            categories: labels(&s.failure_rate_per_month),
            series: vec![Series {
                name: "Change failure rate".into(),
                values: values(&s.failure_rate_per_month, 0.01),
            }],
            stacked: false,
            no_data: String::new(),
        }),
        charts::bar_chart(&BarSpec {
            id: "recovery-per-month".into(),
            title: "Recovery time per month".into(),
            description: format!("Median time for {name} to recover from a failed deployment, by month of the failure."),
            x_label: "Month".into(),
            y_label: "Recovery time".into(),
            unit: Unit::Hours,
            categories: labels(&s.recovery_per_month),
            series: vec![Series {
                name: "Median recovery time".into(),
                values: values(&s.recovery_per_month, 1.0),
            }],
            stacked: false,
            no_data: String::new(),
        }),
        charts::line_chart(&LineSpec {
            id: "coverage-over-time".into(),
            title: "Coverage over time".into(),
            description: format!("Line coverage of {name}'s tests at each collection."),
            x_label: "Collected".into(),
            y_label: "Line coverage".into(),
            unit: Unit::Ratio,
            x: labels(&s.coverage_over_time),
            series: vec![Series {
                name: "Line coverage".into(),
                values: values(&s.coverage_over_time, 0.01),
            }],
            band: None,
            no_data: String::new(),
        }),
        charts::radar(&RadarSpec {
            id: "area-levels".into(),
            title: "Maturity by area".into(),
            description: area_levels_description(name, &s.area_levels),
            axis_label: "Area".into(),
            axes: s.area_levels.iter().map(|p| p.label.clone()).collect(),
            series: vec![Series {
                name: name.to_string(),
                values: s.area_levels.iter().map(|p| p.value).collect(),
            }],
            unit: Unit::Level,
            max: 5.0,
            missing: NOT_MEASURED.into(),
            no_data: "No practice measured".into(),
        }),
    ]
}

/// The stacked chart of the lead-time phases: the median of each phase among
/// the changes deployed in each week or month.
pub fn phase_chart(name: &str, p: &reports::PhaseSeries) -> Chart {
    let period = if p.period == "week" {
        "Week (starting Monday)"
    } else {
        "Month"
    };
    charts::bar_chart(&BarSpec {
        id: "lead-time-phases".into(),
        title: format!("Lead-time phases per {}", p.period),
        description: format!(
            "For the changes of {name} deployed in each {}, the median of each phase of their lead time ({}), stacked.",
            p.period,
            p.phases
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        x_label: period.into(),
        y_label: "Median time".into(),
        unit: Unit::Hours,
        categories: p.labels.clone(),
        series: p
            .phases
            .iter()
            .map(|(n, values)| Series {
                name: (*n).to_string(),
                values: values.clone(),
            })
            .collect(),
        stacked: true,
        no_data: String::new(),
    })
}

/// The report's phase breakdown: which phases, their statistics as cards, and the chart.
fn phases_value(name: &str, d: &Dora, series: &RepoSeries) -> Value {
    use crate::metrics::phases::PhaseStats;
    let card = |phase: &str, s: &PhaseStats| json!({"phase": phase, "count": s.count, "median": s.median, "p90": s.p90});
    let b = &d.lead_time_phases_hours;
    let cards: Vec<Value> = if b.review.count > 0 || b.coding.count > 0 {
        vec![
            card("coding", &b.coding),
            card("pickup", &b.pickup),
            card("review", &b.review),
            card("deploy", &b.deploy),
        ]
    } else if let Some(m) = &d.merge_phases_hours {
        vec![
            card("integration", &m.integration),
            card("deploy", &m.deploy),
        ]
    } else {
        Vec::new()
    };
    let kind = match cards.len() {
        4 => "pull-requests",
        2 => "merges",
        _ => "none",
    };
    json!({
        "kind": kind,
        "cards": cards,
        "chart": series.lead_time_phases.as_ref().filter(|_| kind != "none").map(|p| phase_chart(name, p)),
    })
}

/// What drove each card's change against the previous window, as data the
/// template puts into translated sentences.
fn moved_value(r: &crate::assess::RepoReport, before: &Dora, series: &RepoSeries) -> Value {
    use crate::metrics::phases::largest_shift;
    let d = &r.dora;
    let lead = if d.lead_time_phases_hours.review.count > 0 {
        largest_shift(
            &d.lead_time_phases_hours.medians(),
            &before.lead_time_phases_hours.medians(),
        )
    } else {
        match (&d.merge_phases_hours, &before.merge_phases_hours) {
            (Some(a), Some(b)) => largest_shift(&a.medians(), &b.medians()),
            _ => None,
        }
    };
    let quiet: Vec<&str> = series
        .deployments_per_week
        .iter()
        .filter(|p| p.value == Some(0.0))
        .map(|p| p.label.as_str())
        .collect();
    let failed: Vec<&crate::assess::changes::DeploymentDrill> =
        r.drill.deployments.iter().filter(|x| x.failed).collect();
    let lead = lead.map(|s| {
        let signed = if s.change > 0.0 {
            format!("+{}", s.change)
        } else {
            format!("{}", s.change)
        };
        json!({"phase": s.phase, "before": s.before, "now": s.now, "change": s.change, "signed": signed})
    });
    json!({
        "lead_time": lead,
        "deployments_per_week": {
            "quiet_weeks": quiet,
            "weeks": series.deployments_per_week.len(),
        },
        "change_failure_rate": {"failed": failed},
    })
}

/// How the charts name an area without a measured practice (chart text is English, as
/// the rest of the charts' text).
const NOT_MEASURED: &str = "not measured";

/// The radar's description, naming the areas that are not measured.
fn area_levels_description(name: &str, areas: &[reports::Point]) -> String {
    let missing: Vec<&str> = areas
        .iter()
        .filter(|p| p.value.is_none())
        .map(|p| p.label.as_str())
        .collect();
    let mut d = format!(
        "Level (0–5) of {name} in each area of the maturity model, the mean of its measured practices; areas that do not apply are left out."
    );
    if !missing.is_empty() {
        d.push_str(&format!(
            " Not measured (no practice could be decided): {}.",
            missing.join(", ")
        ));
    }
    d
}

/// The overview's charts: repositories per tier, and the group's trends.
pub fn overview_charts(tiers: &[TierDistribution], trends: &[TrendPoint]) -> Value {
    let metric_names: Vec<String> = tiers.iter().map(|t| t.metric.clone()).collect();
    let tier_series = |name: &str, get: fn(&TierDistribution) -> usize| Series {
        name: name.into(),
        values: tiers.iter().map(|t| Some(get(t) as f64)).collect(),
    };
    let tiers_chart = charts::bar_chart(&BarSpec {
        id: "tier-distribution".into(),
        title: "Repositories per tier".into(),
        description: "For each DORA metric, how many repositories are elite, high, medium or low."
            .into(),
        x_label: "DORA metric".into(),
        y_label: "Repositories".into(),
        unit: Unit::Count,
        categories: metric_names,
        series: vec![
            tier_series("elite", |t| t.elite),
            tier_series("high", |t| t.high),
            tier_series("medium", |t| t.medium),
            tier_series("low", |t| t.low),
        ],
        stacked: true,
        no_data: String::new(),
    });
    let trends_chart = charts::line_chart(&LineSpec {
        id: "group-trends".into(),
        title: "Median lead time across collections".into(),
        description: "Median over all repositories of their lead time, at each stored collection."
            .into(),
        x_label: "Collected".into(),
        y_label: "Median lead time".into(),
        unit: Unit::Hours,
        x: trends.iter().map(|t| t.label.clone()).collect(),
        series: vec![Series {
            name: "Median lead time".into(),
            values: trends.iter().map(|t| t.lead_time_median_hours).collect(),
        }],
        band: None,
        no_data: String::new(),
    });
    json!({"tiers": tiers_chart, "trends": trends_chart})
}

/// A change between two optional numbers, for the cards: the difference and
/// whether it is an improvement (`lower_is_better` for lead time, failure, recovery).
fn delta(now: Option<f64>, before: Option<f64>, lower_is_better: bool) -> Value {
    match (now, before) {
        (Some(a), Some(b)) => {
            let d = ((a - b) * 100.0).round() / 100.0;
            let better = if lower_is_better { d < 0.0 } else { d > 0.0 };
            json!({"value": d, "better": better, "same": d == 0.0})
        }
        _ => Value::Null,
    }
}

impl Dashboards {
    /// The overview's template value.
    pub fn overview_value(&self, url: &dyn Fn(&str) -> String) -> Value {
        let all: Vec<usize> = (0..self.report.repos.len()).collect();
        self.overview_of(&all, url)
    }

    /// The overview of some repositories (all of them, or a team's).
    pub fn overview_of(&self, members: &[usize], url: &dyn Fn(&str) -> String) -> Value {
        let chosen: Vec<&crate::assess::RepoReport> =
            members.iter().map(|&i| &self.report.repos[i]).collect();
        let (tiers, trends) = if members.len() == self.report.repos.len() {
            (self.tiers.clone(), self.trends.clone())
        } else {
            let histories: Vec<Vec<crate::store::HistoryEntry>> =
                members.iter().map(|&i| self.histories[i].clone()).collect();
            (
                reports::tier_distribution_of(&chosen),
                reports::group_trends(&histories),
            )
        };
        let area_names: Vec<String> = chosen
            .first()
            .map(|r| r.areas.iter().map(|a| a.name.clone()).collect())
            .unwrap_or_default();
        let teams: Vec<Value> = self
            .teams
            .iter()
            .map(|t| json!({"name": t.name, "url": url(&format!("/teams/{}/", t.slug))}))
            .collect();
        let repos: Vec<Value> = chosen
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "slug": r.slug,
                    "url": url(&format!("/repos/{}/", r.slug)),
                    "badge": url(&format!("/badges/{}.svg", r.slug)),
                    "dora": r.dora,
                    "coverage": r.coverage.as_ref().and_then(|c| c.line_rate),
                    "areas": r.areas,
                    "overall": reports::overall_level(r),
                })
            })
            .collect();
        json!({
            "window": self.report.window,
            "edition": self.edition_title,
            "area_names": area_names,
            "repos": repos,
            "charts": overview_charts(&tiers, &trends),
            "tiers": tiers,
            "trends": trends,
            "teams": teams,
            "report_json": url("/api/report.json"),
            "report_csv": url("/api/report.csv"),
        })
    }

    /// The template value of repository `i`'s report page.
    pub fn repo_value(&self, i: usize, chapter_url: &dyn Fn(&str) -> Option<String>) -> Value {
        let r = &self.report.repos[i];
        let before = &self.previous[i];
        let d = &r.dora;
        let deltas = json!({
            "deployments_per_week": delta(Some(d.deployments_per_week), Some(before.deployments_per_week), false),
            "lead_time": delta(d.lead_time_hours.median, before.lead_time_hours.median, true),
            "change_failure_rate": delta(
                d.change_failure_rate.map(|v| v * 100.0),
                before.change_failure_rate.map(|v| v * 100.0),
                true
            ),
            "recovery_time": delta(d.recovery_time_hours.median, before.recovery_time_hours.median, true),
        });
        let practices: Vec<Value> = r
            .practices
            .iter()
            .map(|p| {
                let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
                v["chapter_url"] = chapter_url(&p.chapter)
                    .map(Value::String)
                    .unwrap_or(Value::Null);
                v
            })
            .collect();
        let explanations: Vec<Value> = r
            .explanations
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                v["chapter_url"] = chapter_url(e.chapter)
                    .map(Value::String)
                    .unwrap_or(Value::Null);
                v
            })
            .collect();
        json!({
            "repo": r,
            "explanations": explanations,
            "phases": phases_value(&r.name, d, &self.series[i]),
            "drill": r.drill,
            "moved": moved_value(r, before, &self.series[i]),
            "practices": practices,
            "series": self.series[i],
            "charts": repo_charts(&r.name, &self.series[i]),
            "previous": before,
            "deltas": deltas,
            "overall": reports::overall_level(r),
            "window": self.report.window,
        })
    }
}

//! Assessing the site's repositories during `build`: the configured
//! `[[repos]]`, else the repository that holds the site. The result feeds the
//! overview (`/`), one report per repository (`/repos/<slug>/`) and the
//! exports. A site outside git with no repositories has no dashboards and
//! builds its content alone.

use std::borrow::Cow;

use anyhow::{bail, Context, Result};

use super::charts::{self, Band, BarSpec, Chart, LineSpec, RadarSpec, Series, Unit};
use super::context::{
    CoverageHistoryLink, Delta, Deltas, EvidenceRow, ExplanationRow, FailedDeployments, Measured,
    Moved, MovedPhase, Names, Note, OutcomeNames, Overview, OverviewCharts, OverviewRepo,
    PhaseCard, Phases, PracticeRow, QuietWeeks, ReportContext, TeamLink, TierNames, TierRow,
};
use super::i18n::Words;
use super::model_texts::{Localised, ModelTexts};
use super::reports::{self, RepoSeries, TierDistribution, TrendPoint};
use super::urls::{self, Routes};
use crate::assess::{assess_repos, repo_specs, Report, WindowArgs};
use crate::message::Message;
use crate::metrics::{self, Dora, Window};
use crate::probes::Outcome;
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
    /// The edition's title in other languages, by language code.
    pub edition_titles: std::collections::BTreeMap<String, String>,
    /// Each repository's stored history, for team trends.
    pub histories: Vec<Vec<crate::store::HistoryEntry>>,
    /// Teams: name, slug, the indexes of their repositories and services.
    pub teams: Vec<Team>,
    /// What each service's page needs, `[repository][service]`.
    pub services: Vec<Vec<super::services::ServicePage>>,
}

/// A `[[teams]]` entry resolved against the assessed repositories, or an
/// owner `CODEOWNERS` gives services to (`teams_from_codeowners = true`).
pub struct Team {
    pub name: String,
    pub slug: String,
    pub members: Vec<usize>,
    /// Its services, as (repository, service) indexes.
    pub services: Vec<(usize, usize)>,
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
    let report = assess_repos(ws, &specs, window, &edition_id, edition, opts.lenient, true)
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
            services: Vec::new(),
        });
    }
    one_folder_each(
        teams.iter().map(|t| (t.name.as_str(), t.slug.as_str())),
        "teams",
        "teams",
    )?;
    super::services::add_codeowner_teams(&report, &mut teams)?;
    let services =
        super::services::service_pages(&report, &window, &previous_window, &edition_id, edition);
    Ok(Some(Dashboards {
        report,
        series,
        previous,
        trends,
        tiers,
        edition_title: edition.title.clone(),
        edition_titles: edition.titles.clone(),
        histories,
        teams,
        services,
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

/// The handbook chapter the reports' "how this was measured" links to.
pub const MEASUREMENT_CHAPTER: &str = "dora-metrics";

/// The language the texts made by the assessment (reasons why a level could
/// not be decided, evidence notes, notes, benchmark titles) are written in.
const ASSESSMENT_LANGUAGE: &str = "en";

/// What a dashboard page is rendered for: a language, its words, the model's
/// and probes' texts in it, and the site's URLs.
pub struct Locale<'a> {
    pub lang: &'a str,
    pub words: Words<'a>,
    pub texts: &'a ModelTexts,
    pub model: &'a crate::model::Model,
    pub routes: &'a Routes,
    /// The site's base path, which every link starts with.
    pub base_path: &'a str,
}

impl<'a> Locale<'a> {
    /// A site path as a link (with the site's base path).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_path)
    }

    /// `lang="en"` for a text of the assessment on a page in another language.
    pub(super) fn assessment_lang(&self) -> Option<&'static str> {
        (self.lang != ASSESSMENT_LANGUAGE).then_some(ASSESSMENT_LANGUAGE)
    }

    /// A sentence of the assessment in the page's language; text outside the
    /// catalogue (stored before it existed) stays English, and is marked so.
    pub fn message(&self, m: &Message) -> Localised {
        Localised {
            text: self.words.message(m),
            lang: m
                .is_untranslated()
                .then(|| self.assessment_lang().map(String::from))
                .flatten(),
        }
    }

    /// A note of a report in the page's language, with the English words of
    /// other programs it quotes marked as English on that part only.
    pub fn note(&self, m: &Message) -> Note {
        let Localised { text, lang } = self.message(m);
        let parts = match self.assessment_lang() {
            Some(en) if lang.is_none() && m.has_english_detail() => self
                .words
                .message_parts(m)
                .into_iter()
                .map(|(text, english)| Localised {
                    text,
                    lang: english.then(|| en.to_string()),
                })
                .collect(),
            _ => Vec::new(),
        };
        Note { text, lang, parts }
    }

    /// The benchmark edition's title in the page's language, else in English
    /// (marked so on a page in another language).
    fn edition_title(
        &self,
        title: &str,
        titles: &std::collections::BTreeMap<String, String>,
    ) -> Localised {
        match titles.get(self.lang) {
            Some(own) => Localised {
                text: own.clone(),
                lang: None,
            },
            None => self.assessment_text(title),
        }
    }

    /// A text of the assessment, marked as English on a page in another language.
    fn assessment_text(&self, text: &str) -> Localised {
        Localised {
            text: text.to_string(),
            lang: self.assessment_lang().map(String::from),
        }
    }

    /// Theme strings as names: tiers and probe outcomes, for the templates
    /// (`names.tier[d.tiers.lead_time]`).
    pub fn names(&self) -> Names<'a> {
        let w = self.words;
        Names {
            tier: TierNames {
                elite: w.get("tier_elite"),
                high: w.get("tier_high"),
                medium: w.get("tier_medium"),
                low: w.get("tier_low"),
            },
            outcome: OutcomeNames {
                pass: w.get("outcome_pass"),
                fail: w.get("outcome_fail"),
                unknown: w.get("outcome_unknown"),
                not_applicable: w.get("outcome_not_applicable"),
            },
        }
    }
}

/// The `id` of a repository's coverage-over-time chart (its SVG element),
/// which a service's page links to.
pub const COVERAGE_CHART_ID: &str = "coverage-over-time";

/// The charts of one repository's report, in page order. `areas` are the
/// names of the areas that apply, in the page's language.
///
/// `coverage_history` is false on a service's page: coverage history is
/// stored per repository, so a service has no series of its own, and an empty
/// chart would read as "0 %" or "broken" (the page links to the repository's
/// chart instead, see [`CoverageHistoryLink`]).
pub fn repo_charts(
    name: &str,
    s: &RepoSeries,
    w: Words,
    areas: &[String],
    coverage_history: bool,
) -> Vec<Chart> {
    let labels =
        |points: &[reports::Point]| points.iter().map(|p| p.label.clone()).collect::<Vec<_>>();
    let values = |points: &[reports::Point]| points.iter().map(|p| p.value).collect::<Vec<_>>();
    let weeks: Vec<String> = s
        .lead_time_per_week
        .iter()
        .map(|w| w.label.clone())
        .collect();
    let named = |key| w.fill(key, &[("name", name)]);
    let no_data = w.get("chart_no_data").to_string();
    // The distribution's buckets are labelled with theme-string keys; nothing
    // counted is no data, not a row of zeros.
    let distribution = &s.lead_time_distribution;
    let counted = distribution.iter().any(|p| p.value.unwrap_or(0.0) > 0.0);
    let mut charts = vec![
        charts::bar_chart(&BarSpec {
            id: "deployments-per-week".into(),
            title: w.get("chart_deployments_title").into(),
            description: named("chart_deployments_description"),
            x_label: w.get("chart_week").into(),
            y_label: w.get("chart_deployments_axis").into(),
            unit: Unit::Count,
            categories: labels(&s.deployments_per_week),
            series: vec![Series {
                name: w.get("chart_deployments_axis").into(),
                values: values(&s.deployments_per_week),
            }],
            stacked: false,
            no_data: no_data.clone(),
        }),
        charts::line_chart(&LineSpec {
            id: "lead-time-per-week".into(),
            title: w.get("chart_lead_time_title").into(),
            description: named("chart_lead_time_description"),
            x_label: w.get("chart_week").into(),
            y_label: w.get("chart_lead_time_axis").into(),
            unit: Unit::Hours,
            x: weeks,
            series: vec![Series {
                name: w.get("chart_median").into(),
                values: s.lead_time_per_week.iter().map(|w| w.median).collect(),
            }],
            band: Some(Band {
                low: Series {
                    name: w.get("chart_median").into(),
                    values: s.lead_time_per_week.iter().map(|w| w.median).collect(),
                },
                high: Series {
                    name: w.get("chart_p90").into(),
                    values: s.lead_time_per_week.iter().map(|w| w.p90).collect(),
                },
            }),
            no_data: no_data.clone(),
        }),
        charts::bar_chart(&BarSpec {
            id: "lead-time-distribution".into(),
            title: w.get("chart_distribution_title").into(),
            description: named("chart_distribution_description"),
            x_label: w.get("chart_lead_time_axis").into(),
            y_label: w.get("chart_changes_axis").into(),
            unit: Unit::Count,
            categories: distribution
                .iter()
                .map(|p| w.get(&p.label).into())
                .collect(),
            series: vec![Series {
                name: w.get("chart_changes_axis").into(),
                values: distribution
                    .iter()
                    .map(|p| p.value.filter(|_| counted))
                    .collect(),
            }],
            stacked: false,
            no_data: no_data.clone(),
        }),
        charts::bar_chart(&BarSpec {
            id: "failure-rate-per-month".into(),
            title: w.get("chart_failure_title").into(),
            description: named("chart_failure_description"),
            x_label: w.get("chart_month").into(),
            y_label: w.get("change_failure_rate").into(),
            unit: Unit::Ratio,
            categories: labels(&s.failure_rate_per_month),
            series: vec![Series {
                name: w.get("change_failure_rate").into(),
                values: values(&s.failure_rate_per_month),
            }],
            stacked: false,
            no_data: no_data.clone(),
        }),
        charts::bar_chart(&BarSpec {
            id: "recovery-per-month".into(),
            title: w.get("chart_recovery_title").into(),
            description: named("chart_recovery_description"),
            x_label: w.get("chart_month").into(),
            y_label: w.get("recovery_time").into(),
            unit: Unit::Hours,
            categories: labels(&s.recovery_per_month),
            series: vec![Series {
                name: w.get("chart_recovery_series").into(),
                values: values(&s.recovery_per_month),
            }],
            stacked: false,
            no_data: no_data.clone(),
        }),
        charts::radar(&RadarSpec {
            id: "area-levels".into(),
            title: w.get("chart_areas_title").into(),
            description: area_levels_description(name, &s.area_levels, areas, w),
            axis_label: w.get("chart_area_axis").into(),
            axes: areas.to_vec(),
            series: vec![Series {
                name: name.to_string(),
                values: s.area_levels.iter().map(|p| p.value).collect(),
            }],
            unit: Unit::Level,
            max: 5.0,
            missing: w.get("not_measured").into(),
            no_data: w.get("chart_areas_no_data").into(),
        }),
    ];
    if coverage_history {
        // Before the area levels, as on every report.
        let at = charts.len() - 1;
        charts.insert(
            at,
            charts::line_chart(&LineSpec {
                id: COVERAGE_CHART_ID.into(),
                title: w.get("chart_coverage_title").into(),
                description: named("chart_coverage_description"),
                x_label: w.get("chart_collected").into(),
                y_label: w.get("chart_line_coverage").into(),
                unit: Unit::Ratio,
                x: labels(&s.coverage_over_time),
                series: vec![Series {
                    name: w.get("chart_line_coverage").into(),
                    values: values(&s.coverage_over_time),
                }],
                band: None,
                no_data,
            }),
        );
    }
    charts
}

/// The stacked chart of the lead-time phases: the median of each phase among
/// the changes deployed in each week or month.
pub fn phase_chart(name: &str, p: &reports::PhaseSeries, w: Words) -> Chart {
    let weekly = p.period == "week";
    let phase_name = |n: &str| -> String {
        match n {
            "coding" => w.get("phase_coding"),
            "pickup" => w.get("phase_pickup"),
            "review" => w.get("phase_review"),
            "deploy" => w.get("phase_deploy"),
            "integration" => w.get("phase_integration"),
            other => other,
        }
        .to_string()
    };
    let names: Vec<String> = p.phases.iter().map(|(n, _)| phase_name(n)).collect();
    charts::bar_chart(&BarSpec {
        id: "lead-time-phases".into(),
        title: w
            .get(if weekly {
                "chart_phases_title_week"
            } else {
                "chart_phases_title_month"
            })
            .into(),
        description: w.fill(
            if weekly {
                "chart_phases_description_week"
            } else {
                "chart_phases_description_month"
            },
            &[
                ("name", name),
                ("phases", &names.join(w.get("list_separator"))),
            ],
        ),
        x_label: w
            .get(if weekly { "chart_week" } else { "chart_month" })
            .into(),
        y_label: w.get("chart_phases_axis").into(),
        unit: Unit::Hours,
        categories: p.labels.clone(),
        series: p
            .phases
            .iter()
            .zip(names)
            .map(|((_, values), name)| Series {
                name,
                values: values.clone(),
            })
            .collect(),
        stacked: true,
        no_data: String::new(),
    })
}

/// The report's phase breakdown: which phases, their statistics as cards, and the chart.
fn phases_value(name: &str, d: &Dora, series: &RepoSeries, w: Words) -> Phases {
    use crate::metrics::phases::PhaseStats;
    let card = |phase: &'static str, s: &PhaseStats| PhaseCard {
        phase,
        count: s.count,
        median: s.median,
        p90: s.p90,
    };
    let b = &d.lead_time_phases_hours;
    let cards: Vec<PhaseCard> = if b.review.count > 0 || b.coding.count > 0 {
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
    let chart = series
        .lead_time_phases
        .as_ref()
        .filter(|_| kind != "none")
        .map(|p| phase_chart(name, p, w));
    Phases { kind, cards, chart }
}

/// What drove each card's change against the previous window, as data the
/// template puts into translated sentences.
fn moved_value<'a>(
    r: &'a crate::assess::RepoReport,
    before: &Dora,
    series: &'a RepoSeries,
) -> Moved<'a> {
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
    let lead_time = lead.map(|s| MovedPhase {
        phase: s.phase,
        before: s.before,
        now: s.now,
        change: s.change,
        signed: if s.change > 0.0 {
            format!("+{}", s.change)
        } else {
            format!("{}", s.change)
        },
    });
    Moved {
        lead_time,
        deployments_per_week: QuietWeeks {
            quiet_weeks: quiet,
            weeks: series.deployments_per_week.len(),
        },
        change_failure_rate: FailedDeployments { failed },
    }
}

/// The radar's description, naming the areas that are not measured.
fn area_levels_description(
    name: &str,
    levels: &[reports::Point],
    areas: &[String],
    w: Words,
) -> String {
    let missing: Vec<&str> = levels
        .iter()
        .zip(areas)
        .filter(|(p, _)| p.value.is_none())
        .map(|(_, a)| a.as_str())
        .collect();
    let mut d = w.fill("chart_areas_description", &[("name", name)]);
    if !missing.is_empty() {
        d.push(' ');
        d.push_str(&w.fill(
            "chart_areas_not_measured",
            &[("areas", &missing.join(", "))],
        ));
    }
    d
}

/// The overview's charts: repositories per tier, and the group's trends.
pub fn overview_charts(
    tiers: &[TierDistribution],
    trends: &[TrendPoint],
    w: Words,
) -> OverviewCharts {
    let metric_names: Vec<String> = tiers.iter().map(|t| w.get(t.key).to_string()).collect();
    let tier_series = |key: &'static str, get: fn(&TierDistribution) -> usize| Series {
        name: w.get(key).into(),
        values: tiers.iter().map(|t| Some(get(t) as f64)).collect(),
    };
    let no_data = w.get("chart_no_data").to_string();
    let tiers_chart = charts::bar_chart(&BarSpec {
        id: "tier-distribution".into(),
        title: w.get("chart_tiers_title").into(),
        description: w.get("chart_tiers_description").into(),
        x_label: w.get("chart_tiers_axis").into(),
        y_label: w.get("chart_repositories_axis").into(),
        unit: Unit::Count,
        categories: metric_names,
        series: vec![
            tier_series("tier_elite", |t| t.elite),
            tier_series("tier_high", |t| t.high),
            tier_series("tier_medium", |t| t.medium),
            tier_series("tier_low", |t| t.low),
        ],
        stacked: true,
        no_data: no_data.clone(),
    });
    let trends_chart = charts::line_chart(&LineSpec {
        id: "group-trends".into(),
        title: w.get("chart_trends_title").into(),
        description: w.get("chart_trends_description").into(),
        x_label: w.get("chart_collected").into(),
        y_label: w.get("chart_median_lead_time").into(),
        unit: Unit::Hours,
        x: trends.iter().map(|t| t.label.clone()).collect(),
        series: vec![Series {
            name: w.get("chart_median_lead_time").into(),
            values: trends.iter().map(|t| t.lead_time_median_hours).collect(),
        }],
        band: None,
        no_data,
    });
    OverviewCharts {
        tiers: tiers_chart,
        trends: trends_chart,
    }
}

/// A change between two optional numbers, for the cards: the difference,
/// rounded to `places` decimals, and whether it is an improvement
/// (`lower_is_better` for lead time, failure, recovery).
fn delta(
    now: Option<f64>,
    before: Option<f64>,
    lower_is_better: bool,
    places: i32,
) -> Option<Delta> {
    let scale = 10f64.powi(places);
    let d = ((now? - before?) * scale).round() / scale;
    let better = if lower_is_better { d < 0.0 } else { d > 0.0 };
    Some(Delta {
        value: d,
        better,
        same: d == 0.0,
    })
}

/// "How this was measured" in the page's language: the deployment source is a
/// message of the assessment; the bot rule is described in English words
/// around the configured pattern, said again in `w`'s words. `benchmark` is
/// the edition's title in the page's language.
fn measurement_value(
    m: &crate::assess::Measurement,
    loc: &Locale,
    benchmark: Localised,
) -> Measured {
    let w = loc.words;
    let bots = m.bot_pattern.as_str();
    let translated_bots = if bots == "names ending in [bot]" {
        Some(w.get("bots_default").to_string())
    } else {
        bots.strip_prefix("names ending in [bot], or matching ")
            .map(|p| w.fill("bots_pattern", &[("pattern", p)]))
    };
    let deployments = loc.message(&m.deployment_source);
    let hours = format!("{}", m.incident_link_max_hours);
    let bots = translated_bots.unwrap_or_else(|| bots.to_string());
    Measured {
        deployments,
        changes: w.fill("measured_changes_text", &[("bots", &bots)]),
        failures: w.fill("measured_failures_text", &[("hours", &hours)]),
        benchmark,
    }
}

impl Dashboards {
    /// The overview's template value in `loc`'s language.
    pub fn overview_value<'a>(&'a self, loc: &Locale<'a>) -> Overview<'a> {
        let all: Vec<usize> = (0..self.report.repos.len()).collect();
        self.overview_of(&all, None, loc)
    }

    /// The overview of some repositories (all of them, or a team's, with the
    /// team's services).
    pub fn overview_of<'a>(
        &'a self,
        members: &[usize],
        team: Option<&'a Team>,
        loc: &Locale<'a>,
    ) -> Overview<'a> {
        let chosen: Vec<&crate::assess::RepoReport> =
            members.iter().map(|&i| &self.report.repos[i]).collect();
        let (tiers, trends) = if members.len() == self.report.repos.len() {
            (
                Cow::Borrowed(&self.tiers[..]),
                Cow::Borrowed(&self.trends[..]),
            )
        } else {
            let histories: Vec<Vec<crate::store::HistoryEntry>> =
                members.iter().map(|&i| self.histories[i].clone()).collect();
            (
                Cow::Owned(reports::tier_distribution_of(&chosen)),
                Cow::Owned(reports::group_trends(&histories)),
            )
        };
        let area_names = chosen
            .first()
            .map(|r| {
                r.areas
                    .iter()
                    .map(|a| loc.texts.area(loc.lang, &a.id, &a.name))
                    .collect()
            })
            .unwrap_or_default();
        let teams = self
            .teams
            .iter()
            .map(|t| TeamLink {
                name: &t.name,
                url: loc.url(&loc.routes.team(loc.lang, &t.slug)),
            })
            .collect();
        let repos = chosen
            .iter()
            .map(|r| OverviewRepo {
                name: &r.name,
                slug: &r.slug,
                url: loc.url(&loc.routes.report(loc.lang, &r.slug)),
                badge: loc.url(&urls::badge(&r.slug)),
                dora: &r.dora,
                coverage: r.coverage.as_ref().and_then(|c| c.line_rate),
                areas: &r.areas,
                overall: reports::overall_level(r),
            })
            .collect();
        let services = match team {
            Some(t) => t
                .services
                .iter()
                .filter_map(|&(i, k)| self.service_row(i, k, loc))
                .collect(),
            None => self.service_rows_of(members, loc),
        };
        let tier_rows = tiers
            .iter()
            .map(|t| TierRow {
                metric: loc.words.get(t.key),
                elite: t.elite,
                high: t.high,
                medium: t.medium,
                low: t.low,
                none: t.none,
            })
            .collect();
        Overview {
            window: &self.report.window,
            edition: loc.edition_title(&self.edition_title, &self.edition_titles),
            area_names,
            repos,
            charts: overview_charts(&tiers, &trends, loc.words),
            tiers: tier_rows,
            trends,
            teams,
            services_teams: services
                .iter()
                .any(|r: &super::context::ServiceRow| r.owners.is_some()),
            services,
            report_json: loc.url(urls::REPORT_JSON),
            report_csv: loc.url(urls::REPORT_CSV),
            names: None,
        }
    }

    /// The title of the benchmark edition `m` names, in `loc`'s language.
    fn benchmark_title(&self, m: &crate::assess::Measurement, loc: &Locale) -> Localised {
        if m.benchmark == self.edition_title {
            loc.edition_title(&self.edition_title, &self.edition_titles)
        } else {
            loc.assessment_text(&m.benchmark)
        }
    }

    /// The template value of repository `i`'s report page in `loc`'s language.
    /// `section_url(chapter, anchor)` is a section of a handbook chapter.
    pub fn repo_value<'a>(
        &'a self,
        i: usize,
        loc: &Locale<'a>,
        chapter_url: &dyn Fn(&str) -> Option<String>,
        section_url: &dyn Fn(&str, &str) -> Option<String>,
    ) -> ReportContext<'a> {
        let r = &self.report.repos[i];
        let mut value = self.report_value(
            r,
            &self.previous[i],
            &self.series[i],
            loc,
            chapter_url,
            None,
        );
        value.badge = Some(loc.url(&urls::badge(&r.slug)));
        value.services = self.services_block(i, loc, section_url);
        value
    }

    /// The report of service `k` of repository `i` in `loc`'s language, the
    /// same context as a repository's; `None` when it is not measured.
    pub fn service_report_value<'a>(
        &'a self,
        i: usize,
        k: usize,
        loc: &Locale<'a>,
        chapter_url: &dyn Fn(&str) -> Option<String>,
    ) -> Option<ReportContext<'a>> {
        let page = self.services.get(i)?.get(k)?;
        let (r, before, series) = (
            page.report.as_ref()?,
            page.previous.as_ref()?,
            page.series.as_ref()?,
        );
        // Coverage history is stored per repository: the repository's chart, not an empty one.
        let repo = &self.report.repos[i];
        let coverage_history = CoverageHistoryLink {
            repo: &repo.name,
            url: format!(
                "{}#{COVERAGE_CHART_ID}",
                loc.url(&loc.routes.report(loc.lang, &repo.slug))
            ),
        };
        Some(self.report_value(r, before, series, loc, chapter_url, Some(coverage_history)))
    }

    /// A report page's context: of a repository, or of a service shaped as one.
    fn report_value<'a>(
        &'a self,
        r: &'a crate::assess::RepoReport,
        before: &'a Dora,
        series: &'a RepoSeries,
        loc: &Locale<'a>,
        chapter_url: &dyn Fn(&str) -> Option<String>,
        coverage_history: Option<CoverageHistoryLink<'a>>,
    ) -> ReportContext<'a> {
        let d = &r.dora;
        let deltas = Deltas {
            deployments_per_week: delta(
                Some(d.deployments_per_week),
                Some(before.deployments_per_week),
                false,
                2,
            ),
            lead_time: delta(
                d.lead_time_hours.median,
                before.lead_time_hours.median,
                true,
                2,
            ),
            // Ratios to 0.0001: 0.01 percentage points once shown.
            change_failure_rate: delta(d.change_failure_rate, before.change_failure_rate, true, 4),
            recovery_time: delta(
                d.recovery_time_hours.median,
                before.recovery_time_hours.median,
                true,
                2,
            ),
        };
        let practices = r
            .practices
            .iter()
            .map(|p| self.practice_value(r, p, loc, chapter_url))
            .collect();
        let areas: Vec<String> = r
            .areas
            .iter()
            .filter(|a| a.applicable > 0)
            .map(|a| loc.texts.area(loc.lang, &a.id, &a.name).text)
            .collect();
        let explanations = r
            .explanations
            .iter()
            .map(|e| ExplanationRow {
                explanation: e,
                chapter_url: chapter_url(e.chapter),
            })
            .collect();
        ReportContext {
            repo: r,
            explanations,
            phases: phases_value(&r.name, d, series, loc.words),
            drill: &r.drill,
            moved: moved_value(r, before, series),
            practices,
            series,
            charts: repo_charts(
                &r.name,
                series,
                loc.words,
                &areas,
                coverage_history.is_none(),
            ),
            coverage_history,
            previous: before,
            deltas,
            overall: reports::overall_level(r),
            window: &self.report.window,
            measured: measurement_value(
                &r.measurement,
                loc,
                self.benchmark_title(&r.measurement, loc),
            ),
            measured_chapter_url: chapter_url(MEASUREMENT_CHAPTER),
            files: loc.message(&r.files.description),
            notes: r.notes.iter().map(|n| loc.note(n)).collect(),
            badge: None,
            report_json: loc.url(urls::REPORT_JSON),
            services: None,
        }
    }

    /// One practice of a report: its names, next step and evidence in the
    /// page's language; the evidence of a failed probe says what to do.
    fn practice_value<'a>(
        &self,
        r: &'a crate::assess::RepoReport,
        p: &'a crate::model::PracticeScore,
        loc: &Locale,
        chapter_url: &dyn Fn(&str) -> Option<String>,
    ) -> PracticeRow<'a> {
        let name = loc.texts.practice(loc.lang, &p.id, &p.name);
        let area = loc.texts.area(loc.lang, &p.area_id, &p.area);
        let next_step = p.next_step.as_ref().map(|next| {
            let level = loc
                .model
                .areas
                .iter()
                .flat_map(|a| &a.practices)
                .find(|m| m.id == p.id)
                .and_then(|m| m.levels.iter().find(|l| &l.next == next))
                .map(|l| l.level);
            match level {
                Some(level) => loc.texts.next(loc.lang, &p.id, level, next),
                None => loc.assessment_text(next),
            }
        });
        let reason = p.reason.as_ref().map(|r| loc.message(r));
        let mut explained = std::collections::HashSet::new();
        let evidence = p
            .evidence
            .iter()
            .map(|e| {
                let note = match e.note.as_text() {
                    Some(title) if loc.texts.own_probe_title(&e.probe) == Some(title) => {
                        loc.texts.probe_title(loc.lang, &e.probe, title)
                    }
                    _ => loc.message(&e.note),
                };
                let remediation = r
                    .findings
                    .iter()
                    .find(|f| f.probe == e.probe)
                    .filter(|f| f.outcome == Outcome::Fail && !f.remediation.is_empty())
                    .filter(|_| explained.insert(e.probe.clone()))
                    .map(|f| loc.texts.remediation(loc.lang, &f.probe, &f.remediation));
                EvidenceRow {
                    probe: &e.probe,
                    outcome: e.outcome,
                    path: e.path.as_deref(),
                    line: e.line,
                    note: note.text,
                    note_lang: note.lang,
                    remediation,
                }
            })
            .collect();
        PracticeRow {
            id: &p.id,
            name: name.text,
            name_lang: name.lang,
            area: area.text,
            area_lang: area.lang,
            area_id: &p.area_id,
            level: p.level,
            status: p.status,
            max_level: p.max_level,
            applicable: p.applicable,
            chapter: &p.chapter,
            chapter_url: chapter_url(&p.chapter),
            next_step_lang: next_step.as_ref().map(|s| s.lang.clone()),
            next_step: next_step.map(|s| s.text),
            reason_lang: reason.as_ref().map(|r| r.lang.clone()),
            reason: reason.map(|r| r.text),
            evidence,
        }
    }
}

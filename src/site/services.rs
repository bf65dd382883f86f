//! The services of monorepos on the site (issue #16): a report page per
//! service, the services and independence block of a repository's report,
//! the overview's rows of services, and teams from `CODEOWNERS`.
//!
//! A measured service is shaped like a repository (the assessment computes
//! its report with the same `repo_report` from its own facts), so its page is
//! the repository report's context and partials over a [`RepoReport`] made
//! from the [`ServiceReport`], once per build: the same series, cards, charts,
//! deployments, practices and "how this was measured". A service that could
//! not be measured has a page that says why, never numbers of 0.

use anyhow::Result;

use super::charts::{self, BarSpec, Chart, Series, Unit};
use super::context::{OwnerLink, ServiceContext, ServiceRow, ServicesBlock, TeamLink};
use super::dashboards::{Dashboards, Locale, Team};
use super::i18n::Words;
use super::model_texts::Localised;
use super::reports::{self, RepoSeries};
use crate::assess::services::ServiceReport;
use crate::assess::{RepoReport, Report};
use crate::metrics::independence::Independence;
use crate::metrics::tiers::Edition;
use crate::metrics::{self, Dora, Window};

/// The handbook chapter that defines the independence measures, and the
/// anchor (in its English text) of the section that does.
pub const CHAPTER: &str = "microservices";
pub const MEASURES_ANCHOR: &str = "three-measures-of-independence";
/// The section on teams from CODEOWNERS.
pub const TEAMS_ANCHOR: &str = "teams-from-codeowners";

/// At most this many pairs are drawn (the table beside the chart has the same
/// rows; `report.json` has every pair).
pub const PAIRS_DRAWN: usize = 12;

/// What a service's page needs beyond its [`ServiceReport`]: its report as a
/// repository's, with its series and its metrics over the previous window
/// (all `None` for a service that is not measured).
pub struct ServicePage {
    pub report: Option<RepoReport>,
    pub series: Option<RepoSeries>,
    pub previous: Option<Dora>,
}

/// The page of every service of every repository, `[repository][service]`.
pub fn service_pages(
    report: &Report,
    window: &Window,
    previous_window: &Window,
    edition_id: &str,
    edition: &Edition,
) -> Vec<Vec<ServicePage>> {
    report
        .repos
        .iter()
        .map(|r| {
            r.services
                .iter()
                .flatten()
                .map(|s| {
                    let Some(as_repo) = as_repo_report(r, s) else {
                        return ServicePage {
                            report: None,
                            series: None,
                            previous: None,
                        };
                    };
                    // Stored history is per repository: a service's page shows no
                    // coverage-over-time chart and links to the repository's.
                    let series = reports::repo_series(&as_repo, window, &[]);
                    let previous = metrics::dora(
                        &as_repo.facts,
                        &as_repo.outcomes,
                        previous_window,
                        edition_id,
                        edition,
                    );
                    ServicePage {
                        report: Some(as_repo),
                        series: Some(series),
                        previous: Some(previous),
                    }
                })
                .collect()
        })
        .collect()
}

/// A measured service as a repository's report (the repository's web page,
/// for links to evidence; no pull requests or explanations of its own).
fn as_repo_report(repo: &RepoReport, s: &ServiceReport) -> Option<RepoReport> {
    Some(RepoReport {
        name: s.name.clone(),
        slug: s.slug.clone(),
        deployments: s.deployments.clone(),
        pull_requests: Vec::new(),
        dora: s.dora.clone()?,
        coverage: s.coverage.clone(),
        practices: s.practices.clone(),
        areas: s.areas.clone(),
        findings: s.findings.clone(),
        files: s.files.clone()?,
        measurement: s.measurement.clone()?,
        web_url: repo.web_url.clone(),
        notes: s.notes.clone(),
        explanations: Vec::new(),
        services: None,
        independence: None,
        services_proposal: None,
        facts: s.facts.clone(),
        outcomes: s.outcomes.clone(),
        drill: s.drill.clone(),
    })
}

/// The teams `CODEOWNERS` gives services to (`teams_from_codeowners = true`),
/// merged into the configured `[[teams]]`: a configured team whose name is the
/// owner (`@acme/payments`, or `acme/payments`) gets its services; another
/// owner becomes a team of its own. Only owners of at least one service's
/// files make a team, so no team is empty.
pub fn add_codeowner_teams(report: &Report, teams: &mut Vec<Team>) -> Result<()> {
    let configured = teams.len();
    for (i, r) in report.repos.iter().enumerate() {
        for (k, s) in r.services.iter().flatten().enumerate() {
            let Some(owners) = s.owners.as_ref().filter(|o| o.status == "measured") else {
                continue;
            };
            for o in &owners.teams {
                let name = o.owner.to_string();
                let bare = name.trim_start_matches('@');
                let found = teams.iter().position(|t| {
                    t.name == name || (t.name.trim_start_matches('@') == bare && !bare.is_empty())
                });
                let t = match found {
                    Some(t) => t,
                    None => {
                        teams.push(Team {
                            slug: free_slug(teams, &crate::store::slug(&name)),
                            name,
                            members: Vec::new(),
                            services: Vec::new(),
                        });
                        teams.len() - 1
                    }
                };
                if !teams[t].services.contains(&(i, k)) {
                    teams[t].services.push((i, k));
                }
            }
        }
    }
    // Teams of CODEOWNERS in name order after the configured ones.
    teams[configured..].sort_by(|a, b| a.name.cmp(&b.name));
    Ok(())
}

/// `slug`, or `slug-2`, `slug-3`… when a team already has it (`@acme/web`
/// and the user `@acme-web` make the same folder name; neither was named by
/// the user, so neither can be renamed).
fn free_slug(teams: &[Team], slug: &str) -> String {
    let taken = |s: &str| teams.iter().any(|t| t.slug == s);
    if !taken(slug) {
        return slug.to_string();
    }
    (2..)
        .map(|n| format!("{slug}-{n}"))
        .find(|s| !taken(s))
        .unwrap_or_default()
}

/// The bars of the pairs of services that change together most, and their
/// table. Each bar is labelled with its number in the table, which names the
/// pair: two service names rarely fit under a bar (the modules of a Go
/// monorepo, `exporters-otlp-otlptrace-otlptracegrpc`, all begin alike and
/// would be cut to the same label).
pub fn coupling_chart(repo: &str, ind: &Independence, w: Words) -> Option<Chart> {
    if ind.coupled_pairs.is_empty() {
        return None;
    }
    let shown = &ind.coupled_pairs[..ind.coupled_pairs.len().min(PAIRS_DRAWN)];
    let mut chart = charts::bar_chart(&BarSpec {
        id: "coupled-pairs".into(),
        title: w.get("chart_coupling_title").into(),
        description: w.fill(
            "chart_coupling_description",
            &[
                ("name", repo),
                ("shown", &shown.len().to_string()),
                ("total", &ind.coupled_pairs.len().to_string()),
            ],
        ),
        x_label: w.get("chart_coupling_axis_numbered").into(),
        y_label: w.get("chart_coupling_changes").into(),
        unit: Unit::Count,
        categories: (1..=shown.len()).map(|n| n.to_string()).collect(),
        series: vec![Series {
            name: w.get("chart_coupling_changes").into(),
            values: shown.iter().map(|p| Some(p.changes as f64)).collect(),
        }],
        stacked: false,
        no_data: w.get("chart_no_data").into(),
    });
    // The table: number (the bar's label), pair, commits.
    chart.table.headers = vec![
        w.get("chart_coupling_number").into(),
        w.get("chart_coupling_axis").into(),
        w.get("chart_coupling_changes").into(),
    ];
    for (row, p) in chart.table.rows.iter_mut().zip(shown) {
        let pair = format!("{} + {}", p.services[0], p.services[1]);
        row.insert(1, pair);
    }
    Some(chart)
}

impl Dashboards {
    /// The teams a service belongs to, with their pages: the owner of most
    /// of its files first (the order of its owners), then configured teams.
    fn teams_of<'a>(&'a self, i: usize, k: usize, loc: &Locale) -> Vec<TeamLink<'a>> {
        let owners: Vec<String> = self.report.repos[i]
            .services
            .iter()
            .flatten()
            .nth(k)
            .and_then(|s| s.owners.as_ref())
            .map(|o| o.teams.iter().map(|t| t.owner.to_string()).collect())
            .unwrap_or_default();
        let rank = |t: &Team| {
            owners
                .iter()
                .position(|o| o.trim_start_matches('@') == t.name.trim_start_matches('@'))
                .unwrap_or(usize::MAX)
        };
        let mut teams: Vec<&Team> = self
            .teams
            .iter()
            .filter(|t| t.services.contains(&(i, k)))
            .collect();
        teams.sort_by_key(|t| rank(t));
        teams
            .into_iter()
            .map(|t| TeamLink {
                name: &t.name,
                url: loc.url(&loc.routes.team(loc.lang, &t.slug)),
            })
            .collect()
    }

    /// Service `k` of repository `i` as a row.
    pub fn service_row<'a>(&'a self, i: usize, k: usize, loc: &Locale) -> Option<ServiceRow<'a>> {
        let r = &self.report.repos[i];
        let s = r.services.as_ref()?.get(k)?;
        Some(ServiceRow {
            name: &s.name,
            url: loc.url(&loc.routes.service(loc.lang, &r.slug, &s.slug)),
            repo: &r.name,
            repo_url: loc.url(&loc.routes.report(loc.lang, &r.slug)),
            paths: &s.paths,
            excluded_paths: s.paths.iter().filter(|p| p.starts_with('!')).count(),
            status: s.status,
            reason: s.reason.as_ref().map(|m| loc.message(m)),
            dora: s.dora.as_ref(),
            overall: (s.status == "measured").then(|| crate::model::overall(&s.areas)),
            teams: self.teams_of(i, k, loc),
            owners: s.owners.as_ref(),
            owners_reason: owners_reason(s, loc),
        })
    }

    /// The rows of every service of the repositories `members`.
    pub fn service_rows_of<'a>(&'a self, members: &[usize], loc: &Locale) -> Vec<ServiceRow<'a>> {
        members
            .iter()
            .flat_map(|&i| {
                let n = self.report.repos[i].services.as_ref().map_or(0, Vec::len);
                (0..n).filter_map(move |k| self.service_row(i, k, loc))
            })
            .collect()
    }

    /// `report.services` of repository `i`: `None` when it declares none.
    pub fn services_block<'a>(
        &'a self,
        i: usize,
        loc: &Locale,
        section_url: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Option<ServicesBlock<'a>> {
        let r = &self.report.repos[i];
        let services = r.services.as_ref()?;
        let independence = r.independence.as_ref().and_then(Option::as_ref);
        // Not measured: every service carries the same reason.
        let reason = independence
            .is_none()
            .then(|| services.iter().find_map(|s| s.reason.as_ref()))
            .flatten();
        let coupling = independence.and_then(|ind| coupling_chart(&r.name, ind, loc.words));
        let pairs_total = independence.map_or(0, |ind| ind.coupled_pairs.len());
        let rows = self.service_rows_of(&[i], loc);
        Some(ServicesBlock {
            teams_column: rows.iter().any(|r| r.owners.is_some()),
            rows,
            independence,
            reason: reason.map(|m| loc.message(m)),
            coupling,
            pairs_shown: pairs_total.min(PAIRS_DRAWN),
            pairs_total,
            chapter_url: section_url(CHAPTER, MEASURES_ANCHOR),
        })
    }

    /// `service` of the page of service `k` of repository `i`.
    pub fn service_value<'a>(
        &'a self,
        i: usize,
        k: usize,
        loc: &Locale,
        section_url: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Option<ServiceContext<'a>> {
        let r = &self.report.repos[i];
        let s = r.services.as_ref()?.get(k)?;
        let teams = self.teams_of(i, k, loc);
        let owners = s
            .owners
            .iter()
            .flat_map(|o| &o.teams)
            .filter_map(|o| {
                let name = o.owner.to_string();
                // Every owner of a measured service's files is a team (see `add_codeowner_teams`).
                let team = self.teams.iter().find(|t| {
                    t.services.contains(&(i, k))
                        && (t.name == name
                            || t.name.trim_start_matches('@') == name.trim_start_matches('@'))
                })?;
                Some(OwnerLink {
                    url: loc.url(&loc.routes.team(loc.lang, &team.slug)),
                    name,
                    files: o.files,
                })
            })
            .collect();
        Some(ServiceContext {
            service: s,
            repo: &r.name,
            repo_url: loc.url(&loc.routes.report(loc.lang, &r.slug)),
            teams,
            owners,
            shared_ci: crate::assess::services::SHARED_CI,
            chapter_url: section_url(CHAPTER, TEAMS_ANCHOR),
            reason: s.reason.as_ref().map(|m| loc.message(m)),
            owners_reason: owners_reason(s, loc),
        })
    }
}

/// Why a service's owners are not measured, in the page's language.
fn owners_reason(s: &ServiceReport, loc: &Locale) -> Option<Localised> {
    let reason = s.owners.as_ref()?.reason.as_ref()?;
    Some(loc.message(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(name: &str, slug: &str) -> Team {
        Team {
            name: name.into(),
            slug: slug.into(),
            members: Vec::new(),
            services: Vec::new(),
        }
    }

    #[test]
    fn a_taken_team_folder_gets_the_next_number() {
        let teams = vec![team("@acme/web", "acme-web"), team("x", "acme-web-2")];
        assert_eq!(free_slug(&teams, "acme-web"), "acme-web-3");
        assert_eq!(free_slug(&teams, "acme-api"), "acme-api");
    }
}

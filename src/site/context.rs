//! Template contexts: the values every template variable holds, as typed
//! `Serialize` structs borrowing from the loaded site and the assessed report
//! (as Zola's `ser.rs`). `build.rs` and `dashboards.rs` fill them; the theme's
//! templates (`themes/default/templates/`) read them by the names below, and
//! the README's table of template variables is their user-facing contract: a
//! field may be added, never renamed.
//!
//! Numbers stay numbers here (ratios as ratios, hours as hours); the templates
//! format them (`percent`, `round`), so nothing is converted and converted back.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use super::charts::Chart;
use super::markdown::TocEntry;
use super::model_texts::Localised;
use super::reports::{RepoSeries, TrendPoint};
use crate::assess::changes::{DeploymentDrill, Drill};
use crate::assess::explain::Explanation;
use crate::assess::RepoReport;
use crate::metrics::{Dora, Window};
use crate::model::{AreaScore, OverallLevel, PracticeStatus};
use crate::probes::Outcome;

// ---------------------------------------------------------------------------
// Every page

/// `config`: the site's settings.
#[derive(Debug, Serialize)]
pub struct SiteConfig<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub base_url: &'a str,
    pub base_path: &'a str,
    pub default_language: &'a str,
    pub languages: &'a [String],
    pub extra: &'a toml::Table,
}

/// What every template of one language gets: `config`, `lang`, `t`, `nav`,
/// `search_index`, `language_homes` and `home_url`. Built once per language
/// and build; each page's context starts as a copy of it.
#[derive(Debug, Serialize)]
pub struct BaseContext<'a> {
    pub config: &'a SiteConfig<'a>,
    pub lang: &'a str,
    /// The theme strings of the language.
    pub t: &'a BTreeMap<String, String>,
    pub nav: &'a NavRoot<'a>,
    pub search_index: String,
    pub language_homes: Vec<LanguageHome<'a>>,
    pub home_url: String,
}

/// One of `language_homes`: a language's home page.
#[derive(Debug, Serialize)]
pub struct LanguageHome<'a> {
    pub lang: &'a str,
    pub url: String,
}

/// `nav`: a language's section tree, with the first pages of its home section.
#[derive(Debug, Serialize)]
pub struct NavRoot<'a> {
    #[serde(flatten)]
    pub tree: NavNode<'a>,
    pub pages: Vec<EntrySummary<'a>>,
}

/// A section of `nav` (`nav.children`, and theirs).
#[derive(Debug, Serialize)]
pub struct NavNode<'a> {
    pub title: &'a str,
    pub url: String,
    pub children: Vec<NavNode<'a>>,
}

/// `section` of `partials/nav.html`, the sidebar rendered once per section.
#[derive(Debug, Serialize)]
pub struct SidebarSection<'a> {
    pub title: &'a str,
    pub url: String,
    /// The first pages of the section (the sidebar shows at most a limit).
    pub pages: Vec<EntrySummary<'a>>,
    pub page_count: usize,
    /// Whether this is the language's home section.
    pub root: bool,
}

/// A page or section as a link: `page.ancestors`, `page.earlier`,
/// `page.later`, `section.pages`, `section.subsections`, `nav.pages`.
#[derive(Debug, Serialize)]
pub struct EntrySummary<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub url: String,
    pub date: Option<&'a str>,
    pub weight: Option<i64>,
    pub lang: &'a str,
}

/// One language of a page: `page.translations`, and `translations` of the
/// dashboard pages (which have no `title`), for the switcher and `hreflang`.
#[derive(Debug, Serialize)]
pub struct Translation<'a> {
    pub lang: &'a str,
    pub url: String,
    pub permalink: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
    pub current: bool,
}

/// `page` (of `page.html`) or `section` (of `section.html`, `index.html`).
#[derive(Debug, Serialize)]
pub struct EntryContext<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub date: Option<&'a str>,
    pub weight: Option<i64>,
    pub extra: &'a toml::Table,
    pub lang: &'a str,
    pub url: String,
    pub permalink: String,
    /// The rendered Markdown.
    pub content: &'a str,
    pub toc: &'a [TocEntry],
    pub word_count: usize,
    /// Minutes, at 200 words a minute, at least 1.
    pub reading_time: usize,
    pub translations: Vec<Translation<'a>>,
    /// Breadcrumbs, from the language's home down.
    pub ancestors: Vec<EntrySummary<'a>>,
    /// The source file, relative to the site root.
    pub file: Cow<'a, str>,
    /// A handbook chapter's practices (absent on other pages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub practices: Option<Vec<ChapterPractice<'a>>>,
    #[serde(flatten)]
    pub neighbours: Neighbours<'a>,
}

/// What a page has beside it (`earlier`/`later`, `null` at an end), or what a
/// section holds (`pages`, `subsections`).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Neighbours<'a> {
    Page {
        earlier: Option<EntrySummary<'a>>,
        later: Option<EntrySummary<'a>>,
    },
    Section {
        pages: Vec<EntrySummary<'a>>,
        subsections: Vec<EntrySummary<'a>>,
    },
}

/// One of `page.practices`: a practice a handbook chapter teaches, in the
/// chapter's language, with the level each assessed repository reached.
#[derive(Debug, Serialize)]
pub struct ChapterPractice<'a> {
    pub id: &'a str,
    pub name: String,
    pub name_lang: Option<String>,
    pub area: String,
    pub area_lang: Option<String>,
    pub max_level: usize,
    pub levels: Vec<LevelStep>,
    pub repos: Vec<PracticeLevel<'a>>,
}

/// One of `page.practices[].levels`: what to do to reach a level.
#[derive(Debug, Serialize)]
pub struct LevelStep {
    pub level: u8,
    pub next: String,
    pub next_lang: Option<String>,
}

/// One of `page.practices[].repos`: a repository's level of the practice.
#[derive(Debug, Serialize)]
pub struct PracticeLevel<'a> {
    pub name: &'a str,
    /// Its report in the chapter's language.
    pub url: String,
    pub level: Option<u8>,
    pub status: PracticeStatus,
    pub max_level: u8,
}

// ---------------------------------------------------------------------------
// Dashboards

/// `names`: tier and probe-outcome names in the page's language
/// (`names.tier[d.tiers.lead_time]`, `names.outcome[e.outcome]`).
#[derive(Debug, Clone, Serialize)]
pub struct Names<'a> {
    pub tier: TierNames<'a>,
    pub outcome: OutcomeNames<'a>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TierNames<'a> {
    pub elite: &'a str,
    pub high: &'a str,
    pub medium: &'a str,
    pub low: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutcomeNames<'a> {
    pub pass: &'a str,
    pub fail: &'a str,
    pub unknown: &'a str,
    #[serde(rename = "not-applicable")]
    pub not_applicable: &'a str,
}

/// `overview`: the dashboard of all repositories (home page, with `names`)
/// or of a team's (`team.html`).
#[derive(Debug, Serialize)]
pub struct Overview<'a> {
    pub window: &'a Window,
    /// The benchmark edition's title, in the assessment's language.
    pub edition: Localised,
    /// The areas' names, in column order.
    pub area_names: Vec<Localised>,
    pub repos: Vec<OverviewRepo<'a>>,
    pub charts: OverviewCharts,
    pub tiers: Vec<TierRow<'a>>,
    pub trends: Cow<'a, [TrendPoint]>,
    pub teams: Vec<TeamLink<'a>>,
    /// Every service of the repositories shown (the home page), or the
    /// team's services (a team's page); empty when there are none.
    pub services: Vec<ServiceRow<'a>>,
    /// Whether any service has owners (`teams_from_codeowners`): the teams column is shown.
    pub services_teams: bool,
    pub report_json: String,
    pub report_csv: String,
    /// The same as the top-level `names` (home page only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<Names<'a>>,
}

/// One of `overview.repos`: a repository's row.
#[derive(Debug, Serialize)]
pub struct OverviewRepo<'a> {
    pub name: &'a str,
    pub slug: &'a str,
    /// Its report in the page's language.
    pub url: String,
    pub badge: String,
    pub dora: &'a Dora,
    /// The line coverage as a ratio, when measured.
    pub coverage: Option<f64>,
    pub areas: &'a [AreaScore],
    pub overall: OverallLevel,
}

/// `overview.charts`: repositories per tier, and the group's trends.
#[derive(Debug, Serialize)]
pub struct OverviewCharts {
    pub tiers: Chart,
    pub trends: Chart,
}

/// One of `overview.tiers`: how many repositories sit in each tier of a metric.
#[derive(Debug, Serialize)]
pub struct TierRow<'a> {
    /// The metric's name in the page's language.
    pub metric: &'a str,
    pub elite: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub none: usize,
}

/// One of `overview.teams`.
#[derive(Debug, Serialize)]
pub struct TeamLink<'a> {
    pub name: &'a str,
    pub url: String,
}

/// `report`: one repository's report page.
#[derive(Debug, Serialize)]
pub struct ReportContext<'a> {
    /// The repository's report of the JSON contract.
    pub repo: &'a RepoReport,
    pub explanations: Vec<ExplanationRow<'a>>,
    pub phases: Phases,
    pub drill: &'a Drill,
    pub moved: Moved<'a>,
    pub practices: Vec<PracticeRow<'a>>,
    pub series: &'a RepoSeries,
    pub charts: Vec<Chart>,
    /// On a service's page, where coverage over time is (`null` on a
    /// repository's page, which has the chart itself).
    pub coverage_history: Option<CoverageHistoryLink<'a>>,
    /// The metrics over the window before this one.
    pub previous: &'a Dora,
    pub deltas: Deltas,
    pub overall: OverallLevel,
    pub window: &'a Window,
    pub measured: Measured,
    pub measured_chapter_url: Option<String>,
    /// Where the files were read, in the page's language (`repo.files.description`).
    pub files: Localised,
    /// The notes about how complete the facts are, in the page's language
    /// (`lang` set on a note stored in English only, by an older `collect`).
    pub notes: Vec<Note>,
    /// The repository's badge (`null` on a service's page: badges are per repository).
    pub badge: Option<String>,
    pub report_json: String,
    /// The repository's services (`null` when it declares none, and on a service's page).
    pub services: Option<ServicesBlock<'a>>,
}

/// One of `report.notes`: its text in the page's language (`lang` set when it
/// is English only), and, when it quotes another program's English words (a
/// parser's error), the same text in `parts`, each of those words with
/// `lang` set on a page in another language (empty otherwise).
#[derive(Debug, Serialize)]
pub struct Note {
    pub text: String,
    pub lang: Option<String>,
    pub parts: Vec<Localised>,
}

/// `report.coverage_history`: coverage is collected over time per repository,
/// so a service's page has no coverage chart of its own (unknown, not 0 %)
/// and links to its repository's.
#[derive(Debug, Serialize)]
pub struct CoverageHistoryLink<'a> {
    /// The repository's name.
    pub repo: &'a str,
    /// Its coverage-over-time chart on its report, in the page's language.
    pub url: String,
}

/// One of `report.explanations`: why a measurement is missing, with the
/// handbook chapter that says how to start.
#[derive(Debug, Serialize)]
pub struct ExplanationRow<'a> {
    #[serde(flatten)]
    pub explanation: &'a Explanation,
    pub chapter_url: Option<String>,
}

/// `report.phases`: the lead-time phase cards and their chart.
#[derive(Debug, Serialize)]
pub struct Phases {
    /// `pull-requests` (four phases), `merges` (two) or `none`.
    pub kind: &'static str,
    pub cards: Vec<PhaseCard>,
    pub chart: Option<Chart>,
}

/// One of `report.phases.cards`: a phase's statistics in hours.
#[derive(Debug, Serialize)]
pub struct PhaseCard {
    pub phase: &'static str,
    pub count: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// `report.moved`: what drove each card's change against the previous window.
#[derive(Debug, Serialize)]
pub struct Moved<'a> {
    pub lead_time: Option<MovedPhase>,
    pub deployments_per_week: QuietWeeks<'a>,
    pub change_failure_rate: FailedDeployments<'a>,
}

/// `report.moved.lead_time`: the phase that moved most, in hours.
#[derive(Debug, Serialize)]
pub struct MovedPhase {
    pub phase: &'static str,
    pub before: f64,
    pub now: f64,
    pub change: f64,
    /// `change` with its sign (`+2.5`, `-1`).
    pub signed: String,
}

/// `report.moved.deployments_per_week`: the weeks without a deployment.
#[derive(Debug, Serialize)]
pub struct QuietWeeks<'a> {
    pub quiet_weeks: Vec<&'a str>,
    pub weeks: usize,
}

/// `report.moved.change_failure_rate`: the failed deployments of the window.
#[derive(Debug, Serialize)]
pub struct FailedDeployments<'a> {
    pub failed: Vec<&'a DeploymentDrill>,
}

/// `report.deltas`: each card's change against the previous window, `null`
/// when either window has no value.
#[derive(Debug, Serialize)]
pub struct Deltas {
    /// Deployments per week.
    pub deployments_per_week: Option<Delta>,
    /// Hours.
    pub lead_time: Option<Delta>,
    /// A difference of ratios (the template shows percentage points).
    pub change_failure_rate: Option<Delta>,
    /// Hours.
    pub recovery_time: Option<Delta>,
}

/// A change between two windows' values.
#[derive(Debug, Serialize)]
pub struct Delta {
    pub value: f64,
    pub better: bool,
    pub same: bool,
}

/// `report.measured`: how this was measured, in the page's language.
#[derive(Debug, Serialize)]
pub struct Measured {
    /// Where the deployments came from.
    pub deployments: Localised,
    pub changes: String,
    pub failures: String,
    /// The benchmark edition's title.
    pub benchmark: Localised,
}

/// One of `report.practices`: a practice's score with its names, next step
/// and evidence in the page's language (`*_lang` set when a text is in another).
#[derive(Debug, Serialize)]
pub struct PracticeRow<'a> {
    pub id: &'a str,
    pub name: String,
    pub name_lang: Option<String>,
    pub area: String,
    pub area_lang: Option<String>,
    pub area_id: &'a str,
    pub level: Option<u8>,
    pub status: PracticeStatus,
    pub max_level: u8,
    pub applicable: bool,
    pub chapter: &'a str,
    pub chapter_url: Option<String>,
    pub next_step: Option<String>,
    /// Present when there is a next step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step_lang: Option<Option<String>>,
    pub reason: Option<String>,
    /// Present when there is a reason: `en` when it is not in the page's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_lang: Option<Option<String>>,
    pub evidence: Vec<EvidenceRow<'a>>,
}

/// One of `report.practices[].evidence`: a probe's outcome and where it looked.
#[derive(Debug, Serialize)]
pub struct EvidenceRow<'a> {
    pub probe: &'a str,
    pub outcome: Outcome,
    pub path: Option<&'a str>,
    pub line: Option<usize>,
    pub note: String,
    pub note_lang: Option<String>,
    /// What to do, on the first evidence of a failed probe that says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Localised>,
}

// ---------------------------------------------------------------------------
// Services of a monorepo (`src/site/services.rs` fills these)

/// One service as a row: of `report.services.rows` (a repository's report)
/// and of `overview.services` (every service of the overview's repositories,
/// or a team's services).
#[derive(Debug, Serialize)]
pub struct ServiceRow<'a> {
    pub name: &'a str,
    /// Its report in the page's language.
    pub url: String,
    pub repo: &'a str,
    /// The repository's report in the page's language.
    pub repo_url: String,
    pub paths: &'a [String],
    /// How many of `paths` take files out (`!…`): the table shows the others and this count.
    pub excluded_paths: usize,
    /// `measured`, or `not-measured` with `reason` (in the page's language;
    /// `reason.lang` set when it is not).
    pub status: &'static str,
    pub reason: Option<Localised>,
    /// Its DORA metrics over the window (`null` when not measured).
    pub dora: Option<&'a Dora>,
    /// Its overall level (`null` when not measured).
    pub overall: Option<OverallLevel>,
    /// Its teams from CODEOWNERS, with their pages (empty without `teams_from_codeowners`).
    pub teams: Vec<TeamLink<'a>>,
    /// Its owners as assessed (`null` without `teams_from_codeowners`; when
    /// `not-measured`, `owners.reason` says why).
    pub owners: Option<&'a crate::assess::services::ServiceTeams>,
    /// Why its owners are not measured, in the page's language (`owners.reason`).
    pub owners_reason: Option<Localised>,
}

/// `report.services`: a repository's services and how independently they
/// change and ship (`null` on a repository without services).
#[derive(Debug, Serialize)]
pub struct ServicesBlock<'a> {
    pub rows: Vec<ServiceRow<'a>>,
    /// Whether any row has owners (`teams_from_codeowners`): the teams column is shown.
    pub teams_column: bool,
    /// `null` when the services could not be measured (then `reason` says why).
    pub independence: Option<&'a crate::metrics::independence::Independence>,
    pub reason: Option<Localised>,
    /// The pairs that change together most, drawn as bars with their table
    /// (`null` when no two services changed together).
    pub coupling: Option<Chart>,
    /// How many pairs the chart shows, of how many.
    pub pairs_shown: usize,
    pub pairs_total: usize,
    /// The handbook's section defining the three measures, in the page's language.
    pub chapter_url: Option<String>,
}

/// `service`: what a service's page shows beside its report (`report`, set
/// only when the service is measured: the same context as a repository's).
#[derive(Debug, Serialize)]
pub struct ServiceContext<'a> {
    /// The service's report of the JSON contract (`name`, `paths`,
    /// `tag_pattern`, `status`, `reason`, `owners`, …).
    pub service: &'a crate::assess::services::ServiceReport,
    pub repo: &'a str,
    pub repo_url: String,
    /// Its teams (owners from CODEOWNERS), with their pages.
    pub teams: Vec<TeamLink<'a>>,
    /// Its owners from CODEOWNERS, each with the files it owns and its team
    /// page (empty when not measured: `service.owners.reason` says why).
    pub owners: Vec<OwnerLink>,
    /// What the probes of a service read: its paths and the repository's
    /// shared CI definitions (`assess::services::SHARED_CI`).
    pub shared_ci: &'static [&'static str],
    pub chapter_url: Option<String>,
    /// Why the service is not measured, in the page's language (`service.reason`).
    pub reason: Option<Localised>,
    /// Why its owners are not measured, in the page's language (`service.owners.reason`).
    pub owners_reason: Option<Localised>,
}

/// One of `service.owners`: an owner of some of a service's files.
#[derive(Debug, Serialize)]
pub struct OwnerLink {
    /// As written in CODEOWNERS (`@acme/payments`).
    pub name: String,
    pub files: usize,
    /// Its team page.
    pub url: String,
}

//! Assessing repositories: the stage that ties the pipeline together. From
//! the configuration it resolves the repositories to assess; for each, it
//! reads the facts (stored by `collect`, or read from git and events files on
//! the fly), computes the DORA metrics over a window, runs the probes and
//! scores the maturity model; the result is the report of the JSON contract
//! (`docs/ARCHITECTURE.md`), which `assess` prints and `build` renders.

use std::path::{Path, PathBuf};

pub mod changes;
pub mod explain;
pub mod services;
mod window;

pub use changes::{Drill, PullRequestReport};
pub use explain::Explanation;
pub use window::{parse_date, WindowArgs};

use anyhow::{bail, Context, Result};

use serde::Serialize;

use crate::config::{Config, RepoSource};
use crate::facts::RepoFacts;
use crate::message::Message;
use crate::metrics::{self, format_time, Dora, MetricOptions, Outcome, Window};
use crate::model::{self, AreaScore, MetricValues, Model, PracticeScore};
use crate::probes::coverage::Coverage;
use crate::probes::{self, FileSource, Finding, RepoFiles};
use crate::sources::git::GitRepo;
use crate::sources::repo::{self, RepoSpec};
use crate::sources::rules::Rules;
use crate::workspace::Workspace;
use std::sync::Arc;

/// One deployment in the report.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentReport {
    #[serde(rename = "ref")]
    pub reference: String,
    pub sha: Option<String>,
    pub time: String,
    pub change_count: usize,
    pub failed: bool,
    pub baseline: bool,
    pub rework: bool,
    pub recovered_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RepoReport {
    pub name: String,
    /// File-name form of the name (`data/facts/<slug>.json`, `/repos/<slug>/`).
    pub slug: String,
    pub deployments: Vec<DeploymentReport>,
    /// The pull (merge) requests of the window with their phases: shipped by a
    /// deployment in the window, or merged in it and not deployed yet.
    pub pull_requests: Vec<PullRequestReport>,
    pub dora: Dora,
    pub coverage: Option<Coverage>,
    pub practices: Vec<PracticeScore>,
    pub areas: Vec<AreaScore>,
    pub findings: Vec<Finding>,
    /// Where the probes read the repository's files.
    pub files: FileSource,
    /// The definitions in force for this repository.
    pub measurement: Measurement,
    /// Web page of the repository, when known: evidence links to its files.
    pub web_url: Option<String>,
    /// What a reader should know about how complete the facts are (English
    /// sentences in the JSON; the page's language on pages).
    pub notes: Vec<Message>,
    /// Why a deployment, coverage or incident measurement is missing, and what to do.
    pub explanations: Vec<Explanation>,
    /// The services inside the repository (`[[repos.services]]`): absent when
    /// it declares none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<services::ServiceReport>>,
    /// How independently the services change and ship: absent when the
    /// repository declares no services, `null` when they could not be measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub independence: Option<Option<crate::metrics::independence::Independence>>,
    /// `services = "auto"`: the proposed services as TOML to paste into the
    /// configuration (printed by `assess`, not part of the JSON contract).
    #[serde(skip)]
    pub services_proposal: Option<String>,
    /// The facts behind the numbers, for charts (not part of the JSON contract).
    #[serde(skip)]
    pub facts: RepoFacts,
    #[serde(skip)]
    pub outcomes: Vec<Outcome>,
    /// The slowest changes and what each deployment shipped, for the report page.
    #[serde(skip)]
    pub drill: Drill,
}

/// How a repository was measured: shown on its report ("how this was measured").
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// Where the deployments came from, in words (English in the JSON).
    pub deployment_source: Message,
    pub bot_pattern: String,
    pub production_pattern: String,
    pub incident_link_max_hours: f64,
    pub benchmark: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub window: Window,
    pub repos: Vec<RepoReport>,
}

/// The repositories to assess: `--repo` paths, else `[[repos]]`, else the
/// repository that contains the site root.
pub fn repo_specs(root: &Path, config: &Config, cli_repos: &[PathBuf]) -> Result<Vec<RepoSpec>> {
    if !cli_repos.is_empty() {
        let rules = Arc::new(Rules::compile(&config.dora)?);
        return Ok(cli_repos
            .iter()
            .map(|p| RepoSpec {
                name: repo::folder_name(p),
                path: Some(p.clone()),
                events: Vec::new(),
                settings: config.dora.clone(),
                rules: rules.clone(),
                coverage_globs: default_globs(),
                coverage_reports: Vec::new(),
                web_url: None,
                files_ref: None,
                services: None,
                auto_services: false,
                teams_from_codeowners: false,
            })
            .collect());
    }
    if !config.repos.is_empty() {
        let mut specs = Vec::new();
        for r in &config.repos {
            let settings = r.settings(&config.dora);
            let rules = Arc::new(Rules::compile(&settings)?);
            let (services, auto_services) =
                crate::sources::services::ServiceSet::for_entry(r.services.as_ref())?;
            let spec_for = |name: String, path: Option<PathBuf>| RepoSpec {
                services: services.clone(),
                auto_services,
                teams_from_codeowners: r.teams_from_codeowners,
                name,
                path,
                events: r.events.iter().map(|e| (root.join(e), e.clone())).collect(),
                settings: settings.clone(),
                rules: rules.clone(),
                coverage_globs: r.coverage_globs.clone().unwrap_or_else(default_globs),
                coverage_reports: r
                    .coverage_reports
                    .iter()
                    .map(|c| (root.join(c), c.clone()))
                    .collect(),
                web_url: r
                    .web_url
                    .clone()
                    .or_else(|| match (r.source(), &r.api_url) {
                        (RepoSource::GitHubRepo(gh), None) => {
                            Some(format!("https://github.com/{gh}"))
                        }
                        (RepoSource::GitLabProject(gl), None) => {
                            Some(format!("https://gitlab.com/{gl}"))
                        }
                        _ => None,
                    }),
                files_ref: r.reference.clone(),
            };
            // An organisation or group stands for the repositories `collect` stored for it.
            let group = match r.source() {
                RepoSource::GitHubOrg(org) => Some(("github", org)),
                RepoSource::GitLabGroup(g) => Some(("gitlab", g)),
                _ => None,
            };
            if let Some((host, owner)) = group {
                let members = stored_members(root, host, owner)?;
                if !members.is_empty() {
                    specs.extend(members.into_iter().map(|name| spec_for(name, None)));
                    continue;
                }
            }
            let path = r.path.as_ref().map(|p| root.join(p));
            let name = r
                .name
                .clone()
                .or_else(|| r.host().map(|(_, p, _)| p.to_string()))
                .or_else(|| path.as_deref().map(repo::folder_name))
                .unwrap_or_else(|| "repository".into());
            specs.push(spec_for(name, path));
        }
        return Ok(specs);
    }
    match GitRepo::discover(root) {
        Some(path) => Ok(vec![RepoSpec {
            name: repo::folder_name(&path),
            path: Some(path),
            events: Vec::new(),
            settings: config.dora.clone(),
            rules: Arc::new(Rules::compile(&config.dora)?),
            coverage_globs: default_globs(),
            coverage_reports: Vec::new(),
            web_url: None,
            files_ref: None,
            services: None,
            auto_services: false,
            teams_from_codeowners: false,
        }]),
        None => bail!(
            "no repositories to assess: {} is not inside a git repository; pass --repo PATH or add [[repos]] to opsmeter.toml",
            root.display()
        ),
    }
}

fn default_globs() -> Vec<String> {
    crate::sources::coverage::DEFAULT_GLOBS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The files of a repository to probe: its work tree, the tree of a commit
/// (bare repository, configured `ref`), or why there are none.
pub fn repo_files(spec: &RepoSpec) -> RepoFiles {
    RepoFiles::open(spec.path.as_deref(), spec.files_ref.as_deref())
}

/// Practice findings of a repository: probes over its files, and its coverage.
pub struct Practices {
    pub findings: Vec<Finding>,
    pub coverage: Option<Coverage>,
    /// Where the probes read the files.
    pub files: FileSource,
}

/// Where a repository's deployments came from, in words, for "how this was measured".
fn deployment_source(facts: &RepoFacts, st: &crate::config::DoraSettings) -> Message {
    use crate::facts::DeploymentSource as S;
    let has = |s: S| facts.deployments.iter().any(|d| d.source == s);
    if has(S::Events) {
        Message::new("msg_source_events")
    } else if has(S::Deployment) {
        crate::msg!(
            "msg_source_host_deployments",
            pattern = &st.production_pattern
        )
    } else if has(S::Workflow) {
        let mut files: Vec<&str> = facts
            .deployments
            .iter()
            .filter(|d| d.source == S::Workflow)
            .filter_map(|d| d.reference.rsplit_once('#').map(|(f, _)| f))
            .collect();
        files.sort();
        files.dedup();
        let files: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
        crate::msg!("msg_source_workflow", workflows = files.join(", "))
    } else if has(S::Release) {
        Message::new("msg_source_host_releases")
    } else if let Some(branch) = &st.deploy_branch {
        crate::msg!("msg_source_branch", branch = branch)
    } else {
        crate::msg!("msg_source_tags", pattern = &st.tag_pattern)
    }
}

/// Names of the repositories whose stored facts were collected from `host`
/// under `owner/` (an organisation or group entry), sorted.
fn stored_members(root: &Path, host: &str, owner: &str) -> Result<Vec<String>> {
    let dir = root.join("data/facts");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{}/", owner.to_ascii_lowercase());
    let mut names = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let Some(slug) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        if let Some((facts, _)) = crate::store::load_facts(root, slug)? {
            let member = facts.collection.as_ref().is_some_and(|c| {
                c.host == host && c.project.to_ascii_lowercase().starts_with(&prefix)
            });
            if member {
                names.push(facts.name);
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Metrics and scores of collected facts, as the report's repository entry.
/// What every repository of one assessment is scored against.
pub struct Scoring<'a> {
    pub model: &'a Model,
    pub window: &'a Window,
    pub edition_id: &'a str,
    pub edition: &'a crate::metrics::tiers::Edition,
    /// Whether the report is for pages: then it also keeps the facts (for
    /// charts) and the drill-down (slowest changes, what each deployment
    /// shipped, with commit subjects read from git), which `assess` does not
    /// print and which cost a pass over every change.
    pub pages: bool,
}

/// A note when the changes that are their deployment's own commit, made
/// less than an hour before it, are half of the window's changes or more: the
/// median lead time is then theirs (`metrics::TaggedCommits`).
fn tagged_commits_note(t: &metrics::TaggedCommits) -> Option<Message> {
    if t.count == 0 || t.count * 2 < t.total {
        return None;
    }
    Some(match t.others_median {
        Some(m) => crate::msg!(
            "msg_note_lead_time_tagged_commits",
            count = t.count.to_string(),
            total = t.total.to_string(),
            others = (t.total - t.count).to_string(),
            median = format!("{m:.1}")
        ),
        None => crate::msg!(
            "msg_note_lead_time_tagged_commits_all",
            total = t.total.to_string()
        ),
    })
}

/// `web_url` is the repository's page (configured, else derived from the
/// host it was collected from); `git` its local repository, for the subjects
/// of the commits the report lists.
pub fn repo_report(
    facts: &RepoFacts,
    practices: Practices,
    measurement: Measurement,
    opts: &MetricOptions,
    scoring: &Scoring<'_>,
    web_url: Option<&str>,
    git: Option<&GitRepo>,
) -> RepoReport {
    let Scoring {
        model,
        window,
        edition_id,
        edition,
        pages,
    } = *scoring;
    let outcomes: Vec<Outcome> = metrics::outcomes(facts, opts);
    let dora = metrics::dora(facts, &outcomes, window, edition_id, edition);
    let values = MetricValues {
        coverage_line_rate: practices.coverage.as_ref().and_then(|c| c.line_rate),
        coverage_branch_rate: practices.coverage.as_ref().and_then(|c| c.branch_rate),
        dora: Some(dora.clone()),
    };
    let (scores, areas) = model::evaluate(model, &practices.findings, &values);
    let deployments = facts
        .deployments
        .iter()
        .enumerate()
        .filter(|(_, d)| window.contains(d.time))
        .map(|(i, d)| DeploymentReport {
            reference: d.reference.clone(),
            sha: d.sha.map(|s| s.to_hex()),
            time: format_time(&d.time),
            change_count: outcomes[i].change_count,
            failed: outcomes[i].failed,
            baseline: i == 0,
            rework: outcomes[i].rework,
            recovered_at: outcomes[i].recovered_at.map(|t| format_time(&t)),
        })
        .collect();
    let links = changes::HostLinks::new(web_url, facts.collection.as_ref());
    let pull_requests = changes::pull_requests(facts, window, links.as_ref());
    let drill = if pages {
        changes::drill(facts, &outcomes, window, links.as_ref(), git)
    } else {
        changes::Drill::default()
    };
    RepoReport {
        name: facts.name.clone(),
        slug: crate::store::slug(&facts.name),
        deployments,
        pull_requests,
        dora,
        coverage: practices.coverage,
        practices: scores,
        areas,
        findings: practices.findings,
        files: practices.files,
        measurement,
        web_url: links.map(|l| l.web().to_string()),
        notes: facts
            .notes
            .iter()
            .cloned()
            .chain(tagged_commits_note(&metrics::tagged_commits(facts, window)))
            .collect(),
        explanations: Vec::new(),
        services: None,
        independence: None,
        services_proposal: None,
        facts: if pages {
            facts.clone()
        } else {
            RepoFacts::default()
        },
        outcomes,
        drill,
    }
}

/// Assesses every repository: facts, metrics over `window`, probes, coverage
/// and model scores. Used by `assess` and by `build` (`pages`: see
/// [`Scoring::pages`]).
pub fn assess_repos(
    ws: &Workspace,
    specs: &[RepoSpec],
    window: Window,
    edition_id: &str,
    edition: &crate::metrics::tiers::Edition,
    lenient: bool,
    pages: bool,
) -> Result<Report> {
    let (root, catalogue, model) = (ws.root.as_path(), &ws.catalogue, &ws.model);

    let mut reports = Vec::new();
    for spec in specs {
        let mut spec = spec.clone();
        let proposal = crate::collect::propose_services(&mut spec, Some(&window))
            .with_context(|| format!("proposing the services of {}", spec.name))?;
        let spec = &spec;
        let (mut facts, warnings) = crate::collect::facts_for(root, spec, lenient)
            .with_context(|| format!("collecting {}", spec.name))?;
        match spec.services.as_deref() {
            None => facts.services = None,
            Some(set) if facts.services.is_none() => {
                facts.services = Some(repo::unmeasured_services(
                    set,
                    Message::new("msg_services_from_host"),
                ));
            }
            Some(_) => {}
        }
        for w in warnings {
            tracing::warn!("{w} (skipped: --lenient)");
        }
        let mopts = MetricOptions {
            incident_link_max: spec.rules.metrics.incident_link_max,
        };
        // A host repository without a checkout: `collect` probed its files.
        let stored = facts.files.as_ref().filter(|_| spec.path.is_none());
        let mut files = match stored {
            Some(_) => RepoFiles::unavailable(Path::new("."), Message::text("probed by collect")),
            None => repo_files(spec),
        };
        let (mut coverage_reports, problems) =
            probes::coverage::collect(&files, &spec.coverage_globs, &spec.coverage_reports);
        if !problems.is_empty() {
            if !lenient {
                return Err(anyhow::Error::new(crate::diagnostics::Diagnostics(
                    problems,
                )))
                .with_context(|| format!("reading coverage of {}", spec.name));
            }
            for p in problems {
                tracing::warn!("{p} (skipped: --lenient)");
            }
        }
        let (mut findings, source) = match stored {
            Some(p) => {
                let found = probes::stored::findings(p, &coverage_reports);
                coverage_reports.splice(0..0, probes::stored::reports(p));
                (found, probes::stored::source(p))
            }
            None => {
                let mut found = probes::run_all(&files, catalogue);
                found.push(probes::coverage::run(&files, &coverage_reports));
                (found, files.source.clone())
            }
        };
        let git = spec
            .path
            .as_deref()
            .and_then(|p| GitRepo::open(p).ok())
            .filter(|g| !g.is_shallow());
        findings.extend(probes::flow::run(&facts, git.as_ref(), window.until));
        let practices = Practices {
            findings,
            coverage: probes::coverage::summarise(&coverage_reports),
            files: source,
        };
        let st = &spec.settings;
        let measurement = Measurement {
            deployment_source: deployment_source(&facts, st),
            bot_pattern: if st.bot_pattern.is_empty() {
                "names ending in [bot]".to_string()
            } else {
                format!("names ending in [bot], or matching {}", st.bot_pattern)
            },
            production_pattern: st.production_pattern.clone(),
            incident_link_max_hours: st.incident_link_max_hours,
            benchmark: edition.title.clone(),
        };
        // The repository's page: configured, else the one its host gave.
        let web_url = spec
            .web_url
            .clone()
            .or_else(|| stored.and_then(|p| p.web_url.clone()));
        let explanations = explain::explain(
            &facts,
            spec,
            &window,
            practices.coverage.as_ref(),
            &practices.files,
        );
        let scoring = Scoring {
            model,
            window: &window,
            edition_id,
            edition,
            pages,
        };
        let assessed = facts.services.as_ref().map(|sv| {
            services::assess_services(
                sv,
                services::RepoContext {
                    files: &mut files,
                    coverage_reports: &coverage_reports,
                    catalogue,
                    measurement: &measurement,
                    opts: &mopts,
                    scoring: &scoring,
                    web_url: web_url.as_deref(),
                    git: git.as_ref(),
                    teams_from_codeowners: spec.teams_from_codeowners,
                },
            )
        });
        let mut report = repo_report(
            &facts,
            practices,
            measurement,
            &mopts,
            &scoring,
            web_url.as_deref(),
            git.as_ref(),
        );
        report.explanations = explanations;
        report.services_proposal = proposal;
        if let Some(a) = assessed {
            report.services = Some(a.services);
            report.independence = Some(a.independence);
        }
        reports.push(report);
    }
    Ok(Report {
        window,
        repos: reports,
    })
}

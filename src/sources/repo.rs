//! Facts for one repository: deployments from an events file or from git,
//! the changes each shipped, and incidents.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::events::{self, Events};
use super::git::services::ServiceDeployments;
use super::git::{sort_deployments, GitRepo};
use super::services::ServiceSet;
use crate::config::DoraSettings;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::facts::{
    Deployment, DeploymentSearch, DeploymentSource, DeploymentStatus, Incident, RepoFacts,
};
use crate::message::Message;

/// A repository to collect, with the settings in force for it.
#[derive(Debug, Clone)]
pub struct RepoSpec {
    pub name: String,
    pub path: Option<PathBuf>,
    /// (path to read, path to show in messages).
    pub events: Vec<(PathBuf, PathBuf)>,
    pub settings: DoraSettings,
    /// The settings' patterns, compiled once ([`RepoSpec::new`]).
    pub rules: std::sync::Arc<super::rules::Rules>,
    /// Globs of coverage reports in the work tree.
    pub coverage_globs: Vec<String>,
    /// Coverage reports named in the configuration: (path to read, path to show).
    pub coverage_reports: Vec<(PathBuf, PathBuf)>,
    /// Web page of the repository, for links to evidence files.
    pub web_url: Option<String>,
    /// Branch, tag or commit whose tree the probes read (`ref` in the configuration).
    pub files_ref: Option<String>,
    /// The services inside the repository (`[[repos.services]]`, or the
    /// proposal of `services = "auto"` once made).
    pub services: Option<std::sync::Arc<ServiceSet>>,
    /// `services = "auto"`: propose services before collecting.
    pub auto_services: bool,
    /// `teams_from_codeowners = true`: each service's owners from `CODEOWNERS`.
    pub teams_from_codeowners: bool,
}

/// Collects the facts of one repository. Malformed events rows fail the
/// collection unless `lenient`, in which case they are returned as warnings
/// and the good rows still count.
pub fn collect(spec: &RepoSpec, lenient: bool) -> Result<(RepoFacts, Vec<Diagnostic>)> {
    let mut facts = RepoFacts {
        name: spec.name.clone(),
        ..RepoFacts::default()
    };
    let (events, problems) = events::read(&spec.events);
    if !problems.is_empty() && !lenient {
        return Err(Diagnostics(problems).into());
    }
    let warnings = problems;

    let git = match &spec.path {
        Some(p) => {
            let repo = GitRepo::open(p)?;
            if spec.services.as_deref().is_some_and(|s| !s.is_empty()) {
                // The services' graph reuses the repository's pre-read.
                repo.keep_trees();
            }
            if repo.is_shallow() {
                facts.notes.push(crate::msg!(
                    "msg_note_shallow",
                    path = p.display().to_string()
                ));
                None
            } else {
                Some(repo)
            }
        }
        None => None,
    };
    let bots = &spec.rules.bots;

    let mut deployments = event_deployments(&events, spec, git.as_ref(), None, &mut facts.notes)?;
    if deployments.is_empty() {
        if let Some(git) = &git {
            deployments = match &spec.settings.deploy_branch {
                Some(branch) => {
                    let d = git.branch_deployments(branch, &mut facts.notes)?;
                    if d.is_empty() {
                        facts.deployment_search = Some(DeploymentSearch {
                            branch: Some(branch.clone()),
                            ..DeploymentSearch::default()
                        });
                    }
                    d
                }
                None => {
                    let pattern = &spec.rules.tags;
                    let d = git.tag_deployments(pattern, &mut facts.notes)?;
                    if d.is_empty() {
                        facts.notes.push(crate::msg!(
                            "msg_note_no_tags",
                            pattern = &spec.settings.tag_pattern
                        ));
                        let tags = git.tag_names()?;
                        facts.deployment_search = Some(DeploymentSearch {
                            tags: Some(tags.len()),
                            tag_pattern: spec.settings.tag_pattern.clone(),
                            other_tags: tags.into_iter().take(3).map(|(n, _)| n).collect(),
                            ..DeploymentSearch::default()
                        });
                    }
                    d
                }
            }
            .into_iter()
            .map(|(d, id)| (d, Some(id)))
            .collect();
        }
    }
    sort_deployments(&mut deployments);

    let shipped = match &git {
        Some(git) => {
            let commits: Vec<_> = deployments
                .iter()
                .map(|(d, id)| {
                    if d.status == DeploymentStatus::Success {
                        *id
                    } else {
                        None
                    }
                })
                .collect();
            // Deployments that are merges into a deploy branch other than the default
            // branch do not bring changes into the mainline: the merges below them do.
            let deploy_merges = deployments
                .iter()
                .any(|(d, _)| d.source == DeploymentSource::Branch)
                && spec
                    .settings
                    .deploy_branch
                    .as_deref()
                    .map(|b| b.trim_start_matches("refs/heads/"))
                    != git.default_branch().as_deref();
            let shipped = git.ship(&commits, bots, deploy_merges, &mut facts.notes)?;
            if let Some(set) = spec.services.as_deref().filter(|s| !s.is_empty()) {
                let deployed: Vec<(Deployment, Option<gix::ObjectId>)> = deployments
                    .iter()
                    .zip(&commits)
                    .map(|(d, c)| (d.0.clone(), *c))
                    .collect();
                let source = repository_source(&deployed, &spec.settings);
                facts.services = Some(service_facts(
                    git,
                    set,
                    spec,
                    &events,
                    &deployed,
                    &source,
                    deploy_merges,
                )?);
            }
            Some(shipped)
        }
        None => None,
    };
    if let (Some(set), None) = (spec.services.as_deref(), &facts.services) {
        let why = match &spec.path {
            None => Message::new("msg_services_no_path"),
            Some(p) => crate::msg!("msg_services_shallow", path = p.display().to_string()),
        };
        facts.services = Some(unmeasured_services(set, why));
    }
    facts.deployments = deployments.into_iter().map(|(d, _)| d).collect();
    for row in &events.incidents {
        facts.incidents.push(Incident {
            id: row.id.clone(),
            started_at: row.started_at,
            resolved_at: row.resolved_at,
            cause_deployment: match (&shipped, &row.cause_sha) {
                (Some(s), Some(sha)) => s.deployment_of(sha),
                _ => None,
            },
        });
    }
    facts.incidents.sort_by(|a, b| {
        a.started_at
            .cmp(&b.started_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    if let Some(s) = shipped {
        facts.changes = s.changes;
    }
    Ok((facts, warnings))
}

type Point = (Deployment, Option<gix::ObjectId>);

/// Where the repository's own deployments came from, in words.
fn repository_source(deployments: &[Point], settings: &crate::config::DoraSettings) -> Message {
    if deployments
        .iter()
        .any(|(d, _)| d.source == DeploymentSource::Events)
    {
        Message::new("msg_source_events_plain")
    } else if let Some(branch) = &settings.deploy_branch {
        crate::msg!("msg_source_branch", branch = branch)
    } else {
        crate::msg!("msg_source_tags", pattern = &settings.tag_pattern)
    }
}

/// Services without facts, and why (no clone, a shallow clone): not 0.
pub fn unmeasured_services(set: &ServiceSet, why: Message) -> crate::facts::ServicesFacts {
    crate::facts::ServicesFacts {
        services: set
            .defs
            .iter()
            .map(|d| crate::facts::ServiceFacts {
                name: d.name.clone(),
                paths: d.paths.clone(),
                tag_pattern: d.tag_pattern.clone(),
                deployment_source: Message::default(),
                facts: RepoFacts {
                    name: d.name.clone(),
                    ..RepoFacts::default()
                },
            })
            .collect(),
        touches: Vec::new(),
        unmeasured: Some(why),
    }
}

/// The services' facts: each service's deployments are the events rows naming
/// it, else its tags, else the repository's deployments that ship its changes.
fn service_facts(
    git: &GitRepo,
    set: &ServiceSet,
    spec: &RepoSpec,
    events: &Events,
    repository: &[Point],
    repository_source: &Message,
    deploy_merges: bool,
) -> Result<crate::facts::ServicesFacts> {
    let mut plans = Vec::new();
    for def in &set.defs {
        let mut notes = Vec::new();
        let mut rows = event_deployments(events, spec, Some(git), Some(&def.name), &mut notes)?;
        sort_deployments(&mut rows);
        let plan = if !rows.is_empty() {
            ServiceDeployments::Own {
                deployments: rows,
                source: Message::new("msg_source_service_events"),
                none_note: Message::default(),
            }
        } else if let (Some(re), Some(pattern)) = (&def.tags, &def.tag_pattern) {
            let mut tagged: Vec<Point> = git
                .tag_deployments(re, &mut notes)?
                .into_iter()
                .map(|(d, id)| (d, Some(id)))
                .collect();
            sort_deployments(&mut tagged);
            ServiceDeployments::Own {
                deployments: tagged,
                source: crate::msg!("msg_source_tags", pattern = pattern),
                none_note: crate::msg!("msg_note_service_no_tags", pattern = pattern),
            }
        } else {
            ServiceDeployments::Repository
        };
        plans.push(plan);
    }
    let out = git.service_facts(
        set,
        plans,
        repository,
        repository_source,
        &events.incidents,
        &spec.rules.bots,
        deploy_merges,
    )?;
    Ok(out)
}

fn event_deployments(
    events: &Events,
    spec: &RepoSpec,
    git: Option<&GitRepo>,
    service: Option<&str>,
    notes: &mut Vec<Message>,
) -> Result<Vec<Point>> {
    let production = &spec.rules.production;
    let mut out = Vec::new();
    for row in &events.deployments {
        if !row.environment.is_empty() && !production.is_match(&row.environment) {
            continue;
        }
        if service.is_some() && row.service.as_deref() != service {
            continue;
        }
        let commit = match (git, &row.revision) {
            (Some(g), Some(rev)) => {
                let c = g.resolve(rev);
                if c.is_none() {
                    notes.push(crate::msg!(
                        "msg_note_event_not_a_commit",
                        place = format!("{}:{}", row.file.display(), row.line),
                        deployment = &row.id,
                        revision = format!("{rev:?}")
                    ));
                }
                c
            }
            _ => None,
        };
        out.push((
            Deployment {
                reference: row.id.clone(),
                sha: commit.as_ref().map(super::git::to_sha),
                time: row.finished_at,
                source: DeploymentSource::Events,
                status: row.status,
            },
            commit,
        ));
    }
    Ok(out)
}

/// A repository's name from its folder: the last path component, without `.git`.
pub fn folder_name(p: &Path) -> String {
    let canon = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let n = canon
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repository".into());
    n.strip_suffix(".git").map(str::to_string).unwrap_or(n)
}

//! The services of a repository in the report (issue #16): each service's
//! deployments, DORA metrics and practices, shaped exactly as the
//! repository's own (they are computed by the same [`super::repo_report`]
//! from the service's facts), and the repository's independence measures.
//!
//! In the JSON contract, a repository that declares services carries
//! `"services": [ServiceReport]` and `"independence"` (an [`Independence`]
//! object, or `null` when the services could not be measured); a repository
//! without services has neither key.
//!
//! What a service's probes see: the repository's files restricted to the
//! service's `paths`, plus the repository-wide CI/CD definitions at the root
//! ([`SHARED_CI`]: `.github/workflows/`, `.gitlab-ci.yml`, `Jenkinsfile`, …),
//! because in a monorepo the pipelines that build and deploy every service
//! live there. Coverage: the repository's coverage reports that lie inside
//! the service's paths.

use serde::Serialize;

use super::{repo_report, DeploymentReport, Drill, Measurement, Practices, Scoring};
use crate::facts::{RepoFacts, ServiceFacts, ServicesFacts};
use crate::message::Message;
use crate::metrics::independence::{self, Independence};
use crate::metrics::{Dora, MetricOptions, Outcome};
use crate::model::{AreaScore, PracticeScore};
use crate::probes::coverage::Coverage;
use crate::probes::{self, FileSource, Finding, RepoFiles};
use crate::sources::codeowners::{CodeOwners, OwnerFiles};
use crate::sources::coverage::CoverageReport;
use crate::sources::git::GitRepo;

/// Repository-wide CI/CD definitions every service's probes also see.
pub const SHARED_CI: &[&str] = &[
    ".github/workflows/**",
    ".github/actions/**",
    ".gitlab-ci.yml",
    ".gitlab/**",
    "Jenkinsfile",
    ".circleci/**",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    ".buildkite/**",
    ".drone.yml",
    ".travis.yml",
];

/// One service of a repository.
#[derive(Debug, Serialize)]
pub struct ServiceReport {
    /// As configured (or proposed by `services = "auto"`).
    pub name: String,
    /// File-name form of the name: its report is `/repos/<repo slug>/services/<slug>/`.
    pub slug: String,
    /// The globs of its files.
    pub paths: Vec<String>,
    /// The tags that are its deployments, when it has its own.
    pub tag_pattern: Option<String>,
    /// `measured`, or `not-measured` (then `reason` says why, `dora` is
    /// `null` and the lists are empty: unknown, not 0).
    pub status: &'static str,
    /// English in the JSON; the page's language on pages.
    pub reason: Option<Message>,
    /// Its deployments in the window, shaped as the repository's.
    pub deployments: Vec<DeploymentReport>,
    /// Its DORA metrics over the window, shaped as the repository's.
    pub dora: Option<Dora>,
    /// The maturity model's practices, from probes over the service's view of
    /// the files and its own metrics.
    pub practices: Vec<PracticeScore>,
    pub areas: Vec<AreaScore>,
    pub findings: Vec<Finding>,
    pub coverage: Option<Coverage>,
    /// Where its probes read the files (the repository's files, restricted).
    pub files: Option<FileSource>,
    /// The definitions in force (its own deployment source).
    pub measurement: Option<Measurement>,
    pub notes: Vec<Message>,
    /// Who owns it (`teams_from_codeowners = true`; absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owners: Option<ServiceTeams>,
    /// The facts behind the numbers, for the service's charts (not part of the JSON contract).
    #[serde(skip)]
    pub facts: RepoFacts,
    #[serde(skip)]
    pub outcomes: Vec<Outcome>,
    #[serde(skip)]
    pub drill: Drill,
}

/// A service's owners from the repository's `CODEOWNERS` file: its teams are
/// every owner of some of its files, the owner of most files first. When the
/// file is missing or gives none of its files an owner, the owners are not
/// measured, with the reason: never an empty team.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceTeams {
    /// `measured` or `not-measured` (then `reason` says why and `teams` is empty).
    pub status: &'static str,
    pub reason: Option<Message>,
    /// The `CODEOWNERS` file read (`.github/CODEOWNERS`), when there is one.
    pub file: Option<String>,
    /// Its owners and how many of its files each owns, most files first.
    pub teams: Vec<OwnerFiles>,
    /// Its files in the tree read, and those no rule gives an owner.
    pub files: usize,
    pub unowned_files: usize,
}

/// The repository's `CODEOWNERS` file, or why there is none to read.
fn codeowners_of(files: &RepoFiles) -> Result<CodeOwners, Message> {
    if let Some(why) = &files.unavailable {
        return Err(crate::msg!(
            "msg_owners_files_unreadable",
            why = why.clone()
        ));
    }
    match CodeOwners::find(&files.paths, |p| files.read(p)) {
        Ok(Some(c)) => {
            for w in &c.warnings {
                tracing::warn!("{w}");
            }
            Ok(c)
        }
        Ok(None) => Err(crate::msg!(
            "msg_owners_no_codeowners",
            locations = crate::sources::codeowners::LOCATIONS.join(", "),
            files = files.source.description.clone()
        )),
        Err(e) => Err(crate::msg!(
            "msg_owners_codeowners_invalid",
            file = e.file,
            reason = e.reason
        )),
    }
}

/// The owners of one service's `paths`.
fn service_teams(
    owners: &Result<CodeOwners, Message>,
    paths: &[String],
    files: &[String],
) -> ServiceTeams {
    let not_measured = |file: Option<&str>, reason: Message| ServiceTeams {
        status: "not-measured",
        reason: Some(reason),
        file: file.map(String::from),
        teams: Vec::new(),
        files: 0,
        unowned_files: 0,
    };
    let owners = match owners {
        Ok(o) => o,
        Err(why) => return not_measured(None, why.clone()),
    };
    let found = match owners.owners_of_paths(paths, files) {
        Ok(f) => f,
        Err(e) => {
            return not_measured(
                Some(&owners.file),
                crate::msg!("msg_owners_paths_invalid", error = e),
            )
        }
    };
    let mut t = if found.files == 0 {
        not_measured(Some(&owners.file), Message::new("msg_owners_no_files"))
    } else if found.owners.is_empty() {
        not_measured(
            Some(&owners.file),
            crate::msg!(
                "msg_owners_no_rule",
                file = &owners.file,
                count = found.files
            ),
        )
    } else {
        ServiceTeams {
            status: "measured",
            reason: None,
            file: Some(owners.file.clone()),
            teams: found.owners,
            files: 0,
            unowned_files: 0,
        }
    };
    t.files = found.files;
    t.unowned_files = found.unowned_files;
    t
}

/// The services of a repository, and how independently they change and ship.
pub struct ServicesAssessed {
    pub services: Vec<ServiceReport>,
    /// `None` when the services could not be measured.
    pub independence: Option<Independence>,
}

/// What the services' assessment borrows from the repository's.
pub struct RepoContext<'a> {
    pub files: &'a mut RepoFiles,
    pub coverage_reports: &'a [CoverageReport],
    pub catalogue: &'a probes::patterns::Catalogue,
    pub measurement: &'a Measurement,
    pub opts: &'a MetricOptions,
    pub scoring: &'a Scoring<'a>,
    pub web_url: Option<&'a str>,
    pub git: Option<&'a GitRepo>,
    /// `teams_from_codeowners = true`: find each service's owners.
    pub teams_from_codeowners: bool,
}

/// Assesses every service of `sv` with the repository's context.
pub fn assess_services(sv: &ServicesFacts, cx: RepoContext<'_>) -> ServicesAssessed {
    let codeowners = cx.teams_from_codeowners.then(|| codeowners_of(cx.files));
    let teams_of = |paths: &[String], files: &RepoFiles| {
        codeowners
            .as_ref()
            .map(|o| service_teams(o, paths, &files.paths))
    };
    if let Some(why) = &sv.unmeasured {
        return ServicesAssessed {
            services: sv
                .services
                .iter()
                .map(|s| ServiceReport {
                    owners: teams_of(&s.paths, cx.files),
                    ..not_measured(s, why)
                })
                .collect(),
            independence: None,
        };
    }
    let mut shared = globset::GlobSetBuilder::new();
    for g in SHARED_CI {
        if let Ok(g) = crate::config::services::service_glob(g) {
            shared.add(g);
        }
    }
    let shared = shared.build().unwrap_or_else(|_| globset::GlobSet::empty());
    let mut services = Vec::new();
    for s in &sv.services {
        let own = own_paths(&s.paths);
        let own = |p: &str| own.as_ref().is_some_and(|o| o.is_match(p));
        let keep = |p: &str| own(p) || shared.is_match(p);
        let root = cx.files.root.clone();
        let reports: Vec<CoverageReport> = cx
            .coverage_reports
            .iter()
            .filter(|r| {
                let rel = r.path.strip_prefix(&root).unwrap_or(&r.path);
                own(&rel.to_string_lossy().replace('\\', "/"))
            })
            .cloned()
            .collect();
        let what = crate::msg!("msg_files_service", service = &s.name);
        let (mut findings, files) = cx.files.restricted(keep, what, |view| {
            let mut found = probes::run_all(view, cx.catalogue);
            found.push(probes::coverage::run(view, &reports));
            (found, view.source.clone())
        });
        findings.extend(probes::flow::run(&s.facts, cx.git, cx.scoring.window.until));
        let measurement = Measurement {
            deployment_source: s.deployment_source.clone(),
            ..cx.measurement.clone()
        };
        let practices = Practices {
            findings,
            coverage: probes::coverage::summarise(&reports),
            files,
        };
        let owners = teams_of(&s.paths, cx.files);
        let r = repo_report(
            &s.facts,
            practices,
            measurement,
            cx.opts,
            cx.scoring,
            cx.web_url,
            cx.git,
        );
        services.push(ServiceReport {
            name: s.name.clone(),
            slug: crate::store::slug(&s.name),
            paths: s.paths.clone(),
            tag_pattern: s.tag_pattern.clone(),
            status: "measured",
            reason: None,
            deployments: r.deployments,
            dora: Some(r.dora),
            practices: r.practices,
            areas: r.areas,
            findings: r.findings,
            coverage: r.coverage,
            files: Some(r.files),
            measurement: Some(r.measurement),
            notes: r.notes,
            owners,
            facts: r.facts,
            outcomes: r.outcomes,
            drill: r.drill,
        });
    }
    let outcomes: Vec<Vec<Outcome>> = services.iter().map(|s| s.outcomes.clone()).collect();
    ServicesAssessed {
        independence: Some(independence::independence(sv, &outcomes, cx.scoring.window)),
        services,
    }
}

/// A service's own paths, as the history pass matches them.
fn own_paths(paths: &[String]) -> Option<crate::config::services::PathSet> {
    crate::config::services::PathSet::new(paths).ok()
}

fn not_measured(s: &ServiceFacts, why: &Message) -> ServiceReport {
    ServiceReport {
        name: s.name.clone(),
        slug: crate::store::slug(&s.name),
        paths: s.paths.clone(),
        tag_pattern: s.tag_pattern.clone(),
        status: "not-measured",
        reason: Some(why.clone()),
        deployments: Vec::new(),
        dora: None,
        practices: Vec::new(),
        areas: Vec::new(),
        findings: Vec::new(),
        coverage: None,
        files: None,
        measurement: None,
        notes: Vec::new(),
        owners: None,
        facts: s.facts.clone(),
        outcomes: Vec::new(),
        drill: Drill::default(),
    }
}

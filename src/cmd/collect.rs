//! `opsmeter collect`: gathers the facts of every configured repository into
//! `data/facts/<slug>.json` (atomically) and appends a summary line to
//! `data/history/<slug>.jsonl`. Local git repositories are read with the git
//! collector; GitHub and GitLab ones through their APIs, a few at a time.
//!
//! One repository failing never stops the others: it is reported by name and
//! reason, keeps its previous facts, and the command exits 2.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use futures::stream::StreamExt;
use regex::Regex;

use crate::cmd::assess::parse_date;
use crate::config::{site_root, Config, DoraSettings, HostKind, RepoConfig};
use crate::diagnostics::Diagnostic;
use crate::facts::{Collection, RepoFacts};
use crate::metrics::tiers::{Benchmarks, Edition};
use crate::metrics::{self, MetricOptions, Window};
use crate::sources::git::{BotMatcher, GitRepo};
use crate::sources::host::{HostOptions, OrgFilter};
use crate::sources::http::{fnv1a, Client, Policy};
use crate::sources::repo::{self, RepoSpec};
use crate::sources::{github, gitlab};
use crate::store::{self, HistoryEntry};

/// Options of `opsmeter collect`.
#[derive(Debug, Default, Clone)]
pub struct CollectOptions {
    pub root: Option<PathBuf>,
    pub since: Option<String>,
    pub shard: Option<String>,
}

/// Some repositories failed (each already reported): the CLI exits 2.
#[derive(Debug)]
pub struct PartialFailure {
    pub failed: usize,
    pub total: usize,
}

impl std::fmt::Display for PartialFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} repositories failed to collect; their previous facts are kept",
            self.failed, self.total
        )
    }
}

impl std::error::Error for PartialFailure {}

/// The facts `assess` (and `build`) read for a repository: the stored ones
/// when `opsmeter collect` wrote them for this very source, else the local
/// repository and events files read on the fly, else an empty record saying
/// that nothing was collected yet.
pub fn facts_for(
    root: &Path,
    spec: &RepoSpec,
    lenient: bool,
) -> Result<(RepoFacts, Vec<Diagnostic>)> {
    if let Some((facts, _)) = store::load_facts(root, &store::slug(&spec.name))? {
        let usable = match &facts.collection {
            Some(c) if c.host == "local" => c.project == local_project(root, spec),
            Some(_) => true,
            None => false,
        };
        if usable {
            return Ok((facts, Vec::new()));
        }
    }
    if spec.path.is_some() || !spec.events.is_empty() {
        return repo::collect(spec, lenient);
    }
    let facts = RepoFacts {
        name: spec.name.clone(),
        notes: vec![format!(
            "no facts collected yet for {}: run `opsmeter collect` (an organisation or group \
             entry is collected as one facts file per repository)",
            spec.name
        )],
        ..RepoFacts::default()
    };
    Ok((facts, Vec::new()))
}

/// What identifies a local source in its stored facts: its path, relative to
/// the site root when inside it, and its events files.
fn local_project(root: &Path, spec: &RepoSpec) -> String {
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    let mut parts: Vec<String> = spec.path.iter().map(|p| rel(p)).collect();
    parts.extend(
        spec.events
            .iter()
            .map(|(_, shown)| shown.display().to_string()),
    );
    parts.join(" + ")
}

/// Where one repository's facts come from.
#[derive(Clone)]
enum Source {
    Local(Box<RepoSpec>),
    GitHub {
        repo: String,
        client: Arc<Client>,
        api: String,
    },
    GitLab {
        project: String,
        client: Arc<Client>,
        api: String,
    },
}

/// One repository to collect.
#[derive(Clone)]
struct Target {
    name: String,
    source: Source,
    settings: DoraSettings,
    incident_label: String,
}

/// An organisation or group, expanded into targets once listed.
struct OrgEntry {
    name: String,
    kind: HostKind,
    path: String,
    client: Arc<Client>,
    api: String,
    filter: OrgFilter,
    settings: DoraSettings,
    incident_label: String,
}

pub fn run(opts: CollectOptions) -> Result<()> {
    let root = site_root(opts.root.as_deref())?;
    let config = Config::load(&root)?;
    let since = opts.since.as_deref().map(parse_date).transpose()?;
    let shard = opts.shard.as_deref().map(parse_shard).transpose()?;
    let benchmarks = Benchmarks::load(&root)?;
    let edition_id = config.dora.benchmarks.clone();
    let edition = benchmarks.edition(&edition_id)?.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(collect_all(
        &root,
        &config,
        since,
        shard,
        &edition_id,
        &edition,
    ))
}

/// `K/N` with 1 ≤ K ≤ N.
fn parse_shard(s: &str) -> Result<(u64, u64)> {
    let parsed = s
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((k, n)) if n >= 1 && (1..=n).contains(&k) => Ok((k, n)),
        _ => bail!("--shard {s:?}: expected K/N with 1 <= K <= N, like 2/8"),
    }
}

/// Whether a repository belongs to shard `k` of `n`: a stable hash of its slug.
fn in_shard(name: &str, (k, n): (u64, u64)) -> bool {
    fnv1a(store::slug(name).as_bytes()) % n == k - 1
}

/// One client per host, API URL and token variable.
struct Clients {
    root: PathBuf,
    policy: Policy,
    made: HashMap<(HostKind, String, String), Arc<Client>>,
}

impl Clients {
    fn get(&mut self, kind: HostKind, api: &str, token_env: &str) -> Result<Arc<Client>> {
        let key = (kind, api.to_string(), token_env.to_string());
        if let Some(c) = self.made.get(&key) {
            return Ok(c.clone());
        }
        let token = std::env::var(token_env)
            .ok()
            .filter(|t| !t.trim().is_empty());
        let client = match kind {
            HostKind::GitHub => {
                if token.is_none() {
                    tracing::warn!(
                        "{token_env} is not set: reading {api} without authentication (GitHub allows \
                         60 requests an hour that way, and public repositories only)"
                    );
                }
                Client::github(
                    api,
                    token.map(|t| t.trim().to_string()),
                    &self.root,
                    self.policy,
                )?
            }
            HostKind::GitLab => {
                if token.is_none() {
                    tracing::warn!(
                        "{token_env} is not set: reading {api} without authentication (public projects only, lower rate limits)"
                    );
                }
                Client::gitlab(
                    api,
                    token.map(|t| t.trim().to_string()),
                    &self.root,
                    self.policy,
                )?
            }
        };
        let client = Arc::new(client);
        self.made.insert(key, client.clone());
        Ok(client)
    }
}

/// A repository that could not be collected, and why.
struct Failure {
    name: String,
    reason: String,
}

async fn collect_all(
    root: &Path,
    config: &Config,
    since: Option<DateTime<Utc>>,
    shard: Option<(u64, u64)>,
    edition_id: &str,
    edition: &Edition,
) -> Result<()> {
    let mut clients = Clients {
        root: root.to_path_buf(),
        policy: Policy::from_settings(&config.collect),
        made: HashMap::new(),
    };
    let mut targets = Vec::new();
    let mut orgs = Vec::new();
    let mut failures: Vec<Failure> = Vec::new();
    if config.repos.is_empty() {
        // As `assess`: without [[repos]], the checkout the site lives in.
        let Some(path) = GitRepo::discover(root) else {
            bail!(
                "nothing to collect: add [[repos]] to opsmeter.toml ({} is not inside a git repository)",
                root.display()
            );
        };
        let spec = local_spec(root, &RepoConfig::default(), Some(path), &config.dora);
        targets.push(Target {
            name: spec.name.clone(),
            settings: spec.settings.clone(),
            source: Source::Local(Box::new(spec)),
            incident_label: "incident".into(),
        });
    }
    for r in &config.repos {
        let settings = r.settings(&config.dora);
        let label = r
            .incident_label
            .clone()
            .unwrap_or_else(|| "incident".into());
        let Some((kind, path, is_org)) = r.host() else {
            let spec = local_spec(root, r, r.path.as_ref().map(|p| root.join(p)), &config.dora);
            targets.push(Target {
                name: spec.name.clone(),
                source: Source::Local(Box::new(spec)),
                settings,
                incident_label: label,
            });
            continue;
        };
        let (default_api, default_env) = match kind {
            HostKind::GitHub => (github::DEFAULT_API, "GITHUB_TOKEN"),
            HostKind::GitLab => (gitlab::DEFAULT_API, "GITLAB_TOKEN"),
        };
        let api = r
            .api_url
            .as_deref()
            .unwrap_or(default_api)
            .trim_end_matches('/')
            .to_string();
        let name = r.name.clone().unwrap_or_else(|| path.to_string());
        let client = match clients.get(kind, &api, r.token_env.as_deref().unwrap_or(default_env)) {
            Ok(c) => c,
            Err(e) => {
                failures.push(Failure {
                    name,
                    reason: format!("{e:#}"),
                });
                continue;
            }
        };
        if is_org {
            orgs.push(OrgEntry {
                name,
                kind,
                path: path.to_string(),
                client,
                api,
                filter: OrgFilter::new(
                    &r.include,
                    &r.exclude,
                    r.include_archived,
                    r.include_forks,
                )?,
                settings,
                incident_label: label,
            });
            continue;
        }
        let source = match kind {
            HostKind::GitHub => Source::GitHub {
                repo: path.to_string(),
                client,
                api,
            },
            HostKind::GitLab => Source::GitLab {
                project: path.to_string(),
                client,
                api,
            },
        };
        targets.push(Target {
            name,
            source,
            settings,
            incident_label: label,
        });
    }
    for org in orgs {
        let listed = match org.kind {
            HostKind::GitHub => {
                github::list_org(&org.client, &org.api, &org.path, &org.filter).await
            }
            HostKind::GitLab => {
                gitlab::list_group(&org.client, &org.api, &org.path, &org.filter).await
            }
        };
        match listed {
            Ok(members) => {
                for m in members {
                    let source = match org.kind {
                        HostKind::GitHub => Source::GitHub {
                            repo: m.clone(),
                            client: org.client.clone(),
                            api: org.api.clone(),
                        },
                        HostKind::GitLab => Source::GitLab {
                            project: m.clone(),
                            client: org.client.clone(),
                            api: org.api.clone(),
                        },
                    };
                    targets.push(Target {
                        name: m,
                        source,
                        settings: org.settings.clone(),
                        incident_label: org.incident_label.clone(),
                    });
                }
            }
            Err(e) => failures.push(Failure {
                name: org.name.clone(),
                reason: format!("{e:#}"),
            }),
        }
    }
    // Two entries that would share a facts file: the first one wins.
    let mut slugs = HashSet::new();
    targets.retain(|t| {
        let fresh = slugs.insert(store::slug(&t.name));
        if !fresh {
            tracing::warn!(
                "{} is configured twice (or shares its file name with another); collected once",
                t.name
            );
        }
        fresh
    });
    if let Some(s) = shard {
        targets.retain(|t| in_shard(&t.name, s));
    }

    let total = targets.len() + failures.len();
    let progress = Progress::new(targets.len());
    let concurrency = config.collect.concurrency.max(1);
    let mut results = futures::stream::iter(targets.into_iter().map(|t| {
        let root = root.to_path_buf();
        async move {
            let result = collect_one(&root, &t, since).await;
            (t, result)
        }
    }))
    .buffer_unordered(concurrency);

    let mut collected = 0usize;
    progress.draw("");
    while let Some((target, result)) = results.next().await {
        progress.clear();
        progress.done.set(progress.done.get() + 1);
        let now = Utc::now();
        let saved = result.and_then(|facts| {
            store::save_facts(root, &facts, now)?;
            let entry = history_entry(&facts, &target.settings, edition_id, edition, now);
            store::append_history(root, &store::slug(&facts.name), &entry)?;
            Ok(facts)
        });
        match saved {
            Ok(facts) => {
                collected += 1;
                println!(
                    "{}: {} deployments, {} changes, {} pull requests, {} incidents",
                    facts.name,
                    facts.deployments.len(),
                    facts.changes.len(),
                    facts.pull_requests.len(),
                    facts.incidents.len()
                );
            }
            Err(e) => failures.push(Failure {
                name: target.name.clone(),
                reason: scrub(&target, &format!("{e:#}")),
            }),
        }
        progress.draw(&target.name);
    }
    progress.clear();

    let mut requests = Vec::new();
    for c in clients.made.values() {
        let (sent, not_modified) = c.counts();
        if sent > 0 {
            requests.push(format!(
                "{}: {sent} requests, {not_modified} answered 304 Not Modified",
                c.host
            ));
        }
    }
    requests.sort();
    println!(
        "Collected {collected} of {total} repositories into {}{}",
        store::facts_path(root, "x")
            .parent()
            .unwrap_or(root)
            .display(),
        if requests.is_empty() {
            String::new()
        } else {
            format!(" ({})", requests.join("; "))
        }
    );
    if failures.is_empty() {
        return Ok(());
    }
    failures.sort_by(|a, b| a.name.cmp(&b.name));
    for f in &failures {
        eprintln!("error: {}: {}", f.name, f.reason);
    }
    Err(PartialFailure {
        failed: failures.len(),
        total,
    }
    .into())
}

fn scrub(target: &Target, message: &str) -> String {
    match &target.source {
        Source::GitHub { client, .. } | Source::GitLab { client, .. } => client.scrub(message),
        Source::Local(_) => message.to_string(),
    }
}

/// Collects one repository; its previous facts give the cursor.
async fn collect_one(root: &Path, t: &Target, since: Option<DateTime<Utc>>) -> Result<RepoFacts> {
    let stored = |host: &str, project: &str| -> Option<RepoFacts> {
        match store::load_facts(root, &store::slug(&t.name)) {
            Ok(Some((facts, _))) => facts
                .collection
                .as_ref()
                .is_some_and(|c| c.host == host && c.project == project)
                .then_some(facts),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("{}: ignoring the stored facts: {e:#}", t.name);
                None
            }
        }
    };
    match &t.source {
        Source::Local(spec) => {
            let spec = (**spec).clone();
            let project = local_project(root, &spec);
            let (mut facts, _) = tokio::task::spawn_blocking(move || repo::collect(&spec, false))
                .await
                .map_err(|e| anyhow!("the git collector stopped: {e}"))??;
            facts.collection = Some(Collection {
                host: "local".into(),
                project,
                api_url: String::new(),
                cursor: None,
            });
            Ok(facts)
        }
        Source::GitHub { repo, client, api } => {
            let o = host_options(t)?;
            github::collect(
                client,
                api,
                repo,
                &t.name,
                &o,
                stored("github", repo),
                since,
            )
            .await
        }
        Source::GitLab {
            project,
            client,
            api,
        } => {
            let o = host_options(t)?;
            gitlab::collect(
                client,
                api,
                project,
                &t.name,
                &o,
                stored("gitlab", project),
                since,
            )
            .await
        }
    }
}

fn host_options(t: &Target) -> Result<HostOptions> {
    let s = &t.settings;
    Ok(HostOptions {
        production: Regex::new(&s.production_pattern)
            .with_context(|| format!("production_pattern {:?}", s.production_pattern))?,
        tags: Regex::new(&s.tag_pattern)
            .with_context(|| format!("tag_pattern {:?}", s.tag_pattern))?,
        bots: BotMatcher::new(&s.bot_pattern)?,
        incident_label: t.incident_label.clone(),
    })
}

/// A local entry as the git collector takes it (coverage is `assess`'s business).
fn local_spec(root: &Path, r: &RepoConfig, path: Option<PathBuf>, dora: &DoraSettings) -> RepoSpec {
    RepoSpec {
        name: r
            .name
            .clone()
            .or_else(|| path.as_deref().map(super::assess::repo_folder_name))
            .unwrap_or_else(|| "repository".into()),
        path,
        events: r.events.iter().map(|e| (root.join(e), e.clone())).collect(),
        settings: r.settings(dora),
        coverage_globs: Vec::new(),
        coverage_reports: Vec::new(),
        web_url: None,
        files_ref: r.reference.clone(),
    }
}

/// The headline numbers of the default window (the `window_days` before now).
fn history_entry(
    facts: &RepoFacts,
    settings: &DoraSettings,
    edition_id: &str,
    edition: &Edition,
    now: DateTime<Utc>,
) -> HistoryEntry {
    let window = Window {
        since: now - Duration::days(i64::from(settings.window_days)),
        until: now,
    };
    let opts = MetricOptions {
        incident_link_max: Duration::seconds((settings.incident_link_max_hours * 3600.0) as i64),
    };
    let outcomes = metrics::outcomes(facts, &opts);
    let d = metrics::dora(facts, &outcomes, &window, edition_id, edition);
    HistoryEntry {
        collected_at: now,
        window_days: settings.window_days,
        deployment_count: d.deployment_count,
        deploy_days_per_week: d.deploy_days_per_week,
        lead_time_median_hours: d.lead_time_hours.median,
        change_failure_rate: d.change_failure_rate,
        recovery_median_hours: d.recovery_time_hours.median,
        coverage_line_rate: None,
    }
}

/// `[done/total] name` on one line, only when stderr is a terminal.
struct Progress {
    total: usize,
    done: std::cell::Cell<usize>,
    on: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: std::cell::Cell::new(0),
            on: std::io::stderr().is_terminal() && total > 0,
        }
    }

    /// Draws the bar; `last` is the repository collected last.
    fn draw(&self, last: &str) {
        if self.on {
            let width = 24;
            let filled = self.done.get() * width / self.total.max(1);
            eprint!(
                "\r\x1b[2K[{}{}] {}/{} {last}",
                "#".repeat(filled),
                " ".repeat(width - filled),
                self.done.get(),
                self.total
            );
        }
    }

    fn clear(&self) {
        if self.on {
            eprint!("\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_a_stable_partition() {
        assert_eq!(parse_shard("2/8").unwrap(), (2, 8));
        for bad in ["0/2", "3/2", "1/0", "x", "1/"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
        let names: Vec<String> = (0..50).map(|i| format!("acme/repo-{i}")).collect();
        let mut seen = 0;
        for k in 1..=3 {
            seen += names.iter().filter(|n| in_shard(n, (k, 3))).count();
        }
        assert_eq!(seen, names.len());
        assert!(names.iter().all(|n| in_shard(n, (1, 1))));
    }
}

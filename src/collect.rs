//! Collecting: gathers the facts of every configured repository into
//! `data/facts/<slug>.json` (atomically) and appends a summary line to
//! `data/history/<slug>.jsonl`. Local git repositories are read with the git
//! collector; GitHub and GitLab ones through their APIs, a few at a time, by
//! the one host collector ([`crate::sources::host::api`]), which also lists
//! the default branch's files: the probes run on them here (blobs read on
//! demand, cached by id) and their findings are stored with the facts.
//!
//! One repository failing never stops the others: it is reported by name and
//! reason and keeps its previous facts. Progress is reported through a
//! callback, so the terminal (progress bar, printing) stays in `cmd`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use futures::stream::StreamExt;

use crate::config::{Config, DoraSettings, HostKind, RepoConfig};
use crate::diagnostics::Diagnostic;
use crate::facts::{Collection, ProbedFiles, RepoFacts};
use crate::metrics::tiers::Edition;
use crate::metrics::{self, MetricOptions, Window};
use crate::probes::{self, patterns::Catalogue, BlobReader, FileSource, ListedFile, RepoFiles};
use crate::sources::git::GitRepo;
use crate::sources::github::GitHub;
use crate::sources::gitlab::GitLab;
use crate::sources::host::{self, api::HostApi, HostOptions, OrgFilter};
use crate::sources::http::{fnv1a, Client, Policy, StatusError};
use crate::sources::repo::{self, RepoSpec};
use crate::sources::rules::Rules;
use crate::sources::{github, gitlab};
use crate::store::{self, HistoryEntry};

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
            Some(c) if c.host == "local" => {
                c.project == local_project(root, spec) && same_services(spec, &facts)
            }
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
        notes: vec![crate::msg!("msg_note_not_collected", name = &spec.name)],
        ..RepoFacts::default()
    };
    Ok((facts, Vec::new()))
}

/// Whether stored facts hold the services the configuration declares now
/// (else they are read again from the repository).
fn same_services(spec: &RepoSpec, facts: &RepoFacts) -> bool {
    let declared = spec.services.as_deref().filter(|s| !s.is_empty());
    match (declared, &facts.services) {
        (None, None) => true,
        (Some(set), Some(stored)) => {
            stored.unmeasured.is_none()
                && set.defs.len() == stored.services.len()
                && set.defs.iter().zip(&stored.services).all(|(d, s)| {
                    d.name == s.name && d.paths == s.paths && d.tag_pattern == s.tag_pattern
                })
        }
        _ => false,
    }
}

/// What identifies a local source in its stored facts: its path, relative to
/// the site root when inside it, and its events files.
pub(crate) fn local_project(root: &Path, spec: &RepoSpec) -> String {
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
    /// A repository (`owner/name`) or project (`group/project`) of a host.
    Host {
        kind: HostKind,
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
    /// The settings' patterns, compiled once for the entry.
    rules: Arc<Rules>,
    incident_label: String,
    /// Coverage report globs for the files of a host repository.
    coverage_globs: Vec<String>,
    /// The GitHub Actions workflow whose runs are the deployments.
    deploy_workflow: Option<String>,
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
    rules: Arc<Rules>,
    incident_label: String,
    coverage_globs: Vec<String>,
    deploy_workflow: Option<String>,
}

/// Whether a repository belongs to shard `k` of `n`: a stable hash of its slug.
pub fn in_shard(name: &str, (k, n): (u64, u64)) -> bool {
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
#[derive(Debug)]
pub struct Failure {
    pub name: String,
    /// Why, with any token scrubbed.
    pub reason: String,
}

/// What one collection is asked to do.
pub struct Request<'a> {
    pub root: &'a Path,
    pub config: &'a Config,
    /// Read pull requests and incidents from here instead of the stored cursor.
    pub since: Option<DateTime<Utc>>,
    /// Only the repositories of shard `k` of `n`.
    pub shard: Option<(u64, u64)>,
    pub edition_id: &'a str,
    pub edition: &'a Edition,
    /// The clock, read once by the caller: the time stored with the facts.
    pub now: DateTime<Utc>,
}

/// What a collection reports while it works.
pub enum Event<'a> {
    /// The repositories to collect are known.
    Started { total: usize },
    /// A repository's facts are stored.
    Stored { facts: &'a RepoFacts },
    /// A repository failed; its previous facts are kept.
    Failed { name: &'a str },
}

/// What a collection did.
#[derive(Debug)]
pub struct Summary {
    pub collected: usize,
    /// Repositories attempted: collected, failed, and entries that failed before.
    pub total: usize,
    /// Per host: requests sent, and how many were answered 304.
    pub requests: Vec<String>,
    /// Sorted by name.
    pub failures: Vec<Failure>,
    /// Where the facts are stored.
    pub facts_dir: PathBuf,
}

/// Collects every repository of the configuration (or of one shard), storing
/// each one's facts and history line as soon as it is read.
pub async fn collect_all(req: &Request<'_>, mut on: impl FnMut(Event<'_>)) -> Result<Summary> {
    let Request {
        root,
        config,
        since,
        shard,
        edition_id,
        edition,
        now,
    } = *req;
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
        let rules = Arc::new(Rules::compile(&config.dora)?);
        let spec = local_spec(
            root,
            &RepoConfig::default(),
            Some(path),
            &config.dora,
            &rules,
        )?;
        targets.push(Target {
            name: spec.name.clone(),
            rules,
            settings: spec.settings.clone(),
            source: Source::Local(Box::new(spec)),
            incident_label: "incident".into(),
            coverage_globs: Vec::new(),
            deploy_workflow: None,
        });
    }
    for r in &config.repos {
        let settings = r.settings(&config.dora);
        let rules = Arc::new(Rules::compile(&settings)?);
        let label = r
            .incident_label
            .clone()
            .unwrap_or_else(|| "incident".into());
        let coverage_globs = r.coverage_globs.clone().unwrap_or_else(|| {
            crate::sources::coverage::DEFAULT_GLOBS
                .iter()
                .map(|g| g.to_string())
                .collect()
        });
        let Some((kind, path, is_org)) = r.host() else {
            let mut spec = local_spec(
                root,
                r,
                r.path.as_ref().map(|p| root.join(p)),
                &settings,
                &rules,
            )?;
            if let Some(proposal) = propose_services(&mut spec, None)? {
                tracing::info!("{proposal}");
            }
            targets.push(Target {
                name: spec.name.clone(),
                rules,
                source: Source::Local(Box::new(spec)),
                settings,
                incident_label: label,
                coverage_globs,
                deploy_workflow: r.deploy_workflow.clone(),
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
                rules,
                incident_label: label,
                coverage_globs,
                deploy_workflow: r.deploy_workflow.clone(),
            });
            continue;
        }
        let source = Source::Host {
            kind,
            project: path.to_string(),
            client,
            api,
        };
        targets.push(Target {
            name,
            source,
            settings,
            rules,
            incident_label: label,
            coverage_globs,
            deploy_workflow: r.deploy_workflow.clone(),
        });
    }
    for org in orgs {
        let listed = match org.kind {
            HostKind::GitHub => {
                host::api::members::<GitHub>(&org.client, &org.api, &org.path, &org.filter).await
            }
            HostKind::GitLab => {
                host::api::members::<GitLab>(&org.client, &org.api, &org.path, &org.filter).await
            }
        };
        match listed {
            Ok(members) => {
                for m in members {
                    let source = Source::Host {
                        kind: org.kind,
                        project: m.clone(),
                        client: org.client.clone(),
                        api: org.api.clone(),
                    };
                    targets.push(Target {
                        name: m,
                        source,
                        settings: org.settings.clone(),
                        rules: org.rules.clone(),
                        incident_label: org.incident_label.clone(),
                        coverage_globs: org.coverage_globs.clone(),
                        deploy_workflow: org.deploy_workflow.clone(),
                    });
                }
            }
            Err(e) => failures.push(Failure {
                name: org.name.clone(),
                reason: format!("{e:#}"),
            }),
        }
    }
    // One facts file per repository: the same repository listed twice (say by
    // its organisation and by itself) is collected once; two different names
    // that would share a file are an error naming both.
    let mut slugs: HashMap<String, String> = HashMap::new();
    let mut clashes = Vec::new();
    targets.retain(|t| {
        let slug = store::slug(&t.name);
        match slugs.get(&slug) {
            None => {
                slugs.insert(slug, t.name.clone());
                true
            }
            Some(first) if *first == t.name => {
                tracing::warn!("{} is configured twice; collected once", t.name);
                false
            }
            Some(first) => {
                clashes.push(Failure {
                    name: t.name.clone(),
                    reason: format!(
                        "its facts file data/facts/{slug}.json would be the one of `{first}`; \
                         give one of them another `name` in opsmeter.toml"
                    ),
                });
                false
            }
        }
    });
    failures.extend(clashes);
    if let Some(s) = shard {
        targets.retain(|t| in_shard(&t.name, s));
    }

    // The probes' catalogue (the site's `data/probes.toml`, else the built-in one).
    let catalogue = Arc::new(Catalogue::load(root)?);
    let total = targets.len() + failures.len();
    on(Event::Started {
        total: targets.len(),
    });
    let concurrency = config.collect.concurrency.max(1);
    let mut results = futures::stream::iter(targets.into_iter().map(|t| {
        let root = root.to_path_buf();
        let catalogue = catalogue.clone();
        async move {
            let result = collect_one(&root, &t, since, catalogue).await;
            (t, result)
        }
    }))
    .buffer_unordered(concurrency);

    let mut collected = 0usize;
    while let Some((target, result)) = results.next().await {
        let saved = result.and_then(|facts| {
            store::save_facts(root, &facts, now)?;
            let entry = history_entry(
                &facts,
                &target.settings,
                &target.rules.metrics,
                edition_id,
                edition,
                now,
            );
            store::append_history(root, &store::slug(&facts.name), &entry)?;
            Ok(facts)
        });
        match saved {
            Ok(facts) => {
                collected += 1;
                on(Event::Stored { facts: &facts });
            }
            Err(e) => {
                on(Event::Failed { name: &target.name });
                failures.push(Failure {
                    name: target.name.clone(),
                    reason: scrub(&target, &format!("{e:#}")),
                });
            }
        }
    }

    let mut requests = Vec::new();
    for c in clients.made.values() {
        let (sent, not_modified) = c.counts();
        let (fetched, cached) = c.blob_counts();
        if sent > 0 {
            requests.push(format!(
                "{}: {sent} requests, {not_modified} answered 304 Not Modified; \
                 files: {fetched} blobs fetched, {cached} read from the cache",
                c.host
            ));
        }
    }
    requests.sort();
    failures.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Summary {
        collected,
        total,
        requests,
        failures,
        facts_dir: store::facts_path(root, "x")
            .parent()
            .unwrap_or(root)
            .to_path_buf(),
    })
}

fn scrub(target: &Target, message: &str) -> String {
    match &target.source {
        Source::Host { client, .. } => client.scrub(message),
        Source::Local(_) => message.to_string(),
    }
}

/// Collects one repository; its previous facts give the cursor.
async fn collect_one(
    root: &Path,
    t: &Target,
    since: Option<DateTime<Utc>>,
    catalogue: Arc<Catalogue>,
) -> Result<RepoFacts> {
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
        Source::Host {
            kind,
            project,
            client,
            api,
        } => {
            let host = HostTarget {
                client,
                api,
                project,
                o: host_options(t)?,
                coverage_globs: &t.coverage_globs,
                catalogue,
            };
            match kind {
                HostKind::GitHub => {
                    collect_host::<GitHub>(&host, &t.name, stored(GitHub::KIND, project), since)
                        .await
                }
                HostKind::GitLab => {
                    collect_host::<GitLab>(&host, &t.name, stored(GitLab::KIND, project), since)
                        .await
                }
            }
        }
    }
}

/// One repository of a host, and what its files are probed with.
struct HostTarget<'a> {
    client: &'a Arc<Client>,
    api: &'a str,
    project: &'a str,
    o: HostOptions,
    coverage_globs: &'a [String],
    catalogue: Arc<Catalogue>,
}

/// The facts of a host repository, with the probes' findings on its default branch's files.
async fn collect_host<H: HostApi + 'static>(
    h: &HostTarget<'_>,
    name: &str,
    stored: Option<RepoFacts>,
    since: Option<DateTime<Utc>>,
) -> Result<RepoFacts> {
    let mut facts =
        host::api::collect::<H>(h.client, h.api, h.project, name, &h.o, stored, since).await?;
    let (files, notes) = probe_host::<H>(h).await?;
    facts.files = Some(files);
    facts.notes.extend(notes);
    Ok(facts)
}

/// Lists the default branch's files through the host's API and runs every
/// probe on them, reading a blob only when a probe asks for its path. A
/// repository whose tree cannot be listed (empty, or the host refuses) gets
/// findings that say so; a blob that cannot be read fails the repository
/// (its findings would be wrong) and keeps its previous facts.
async fn probe_host<H: HostApi + 'static>(
    h: &HostTarget<'_>,
) -> Result<(ProbedFiles, Vec<crate::message::Message>)> {
    // Folders neither the probes nor the coverage search look into.
    let prune = |name: &str| {
        probes::files::SKIPPED_DIRS.contains(&name)
            && crate::sources::coverage::skips_folder(name, || false)
    };
    let listed = host::api::default_files::<H>(h.client, h.api, h.project, &h.o, &prune).await;
    let (files, web_url) = match listed {
        Ok((head, tree)) => {
            let source = FileSource::host(h.client.host, &head.branch, &head.commit);
            let runtime = tokio::runtime::Handle::current();
            let (client, api, project) =
                (h.client.clone(), h.api.to_string(), h.project.to_string());
            // Probes are synchronous: they run on a blocking thread, and each
            // blob they ask for is fetched on the runtime, waited for there.
            let reader: BlobReader = Box::new(move |id: &str| {
                runtime
                    .block_on(host::api::blob::<H>(&client, &api, &project, id))
                    .map_err(|e| format!("{e:#}"))
            });
            let tree = tree
                .into_iter()
                .map(|f| ListedFile {
                    path: f.path,
                    blob: f.blob,
                    size: f.size,
                })
                .collect();
            (RepoFiles::listed(source, tree, reader), head.web_url)
        }
        Err(e)
            if StatusError::is(&e, &[403, 404, 409])
                || e.to_string().contains("default branch") =>
        {
            let why = crate::msg!(
                "msg_files_not_listed",
                host = h.client.host.to_string(),
                error = h.client.scrub(&format!("{e:#}"))
            );
            (RepoFiles::unavailable(Path::new("."), why), None)
        }
        Err(e) => return Err(e.context("reading the repository's files")),
    };
    let catalogue = h.catalogue.clone();
    let globs = h.coverage_globs.to_vec();
    let probed = tokio::task::spawn_blocking(move || {
        let (reports, problems) = probes::coverage::collect(&files, &globs, &[]);
        let mut findings = probes::run_all(&files, &catalogue);
        findings.push(probes::coverage::run(&files, &reports));
        (
            files.source.clone(),
            findings,
            reports,
            problems,
            files.read_failures(),
        )
    })
    .await
    .map_err(|e| anyhow!("the probes stopped: {e}"))?;
    let (source, findings, reports, problems, failures) = probed;
    if let Some(first) = failures.first() {
        bail!(
            "{} files of {} could not be read (first: {first}); the probes' findings would be wrong",
            failures.len(),
            source.description
        );
    }
    let notes = problems
        .iter()
        .map(probes::coverage::skipped_note)
        .collect();
    Ok((
        probes::stored::record(&source, web_url, &findings, &reports),
        notes,
    ))
}

fn host_options(t: &Target) -> Result<HostOptions> {
    Ok(HostOptions {
        rules: t.rules.clone(),
        incident_label: t.incident_label.clone(),
        deploy_workflow: match &t.deploy_workflow {
            Some(w) => Some(
                globset::Glob::new(w)
                    .with_context(|| format!("deploy_workflow {w:?}"))?
                    .compile_matcher(),
            ),
            None => None,
        },
    })
}

/// A local entry as the git collector takes it (coverage is `assess`'s business).
fn local_spec(
    root: &Path,
    r: &RepoConfig,
    path: Option<PathBuf>,
    settings: &DoraSettings,
    rules: &Arc<Rules>,
) -> Result<RepoSpec> {
    let (services, auto_services) =
        crate::sources::services::ServiceSet::for_entry(r.services.as_ref())?;
    Ok(RepoSpec {
        rules: rules.clone(),
        name: r
            .name
            .clone()
            .or_else(|| path.as_deref().map(repo::folder_name))
            .unwrap_or_else(|| "repository".into()),
        path,
        events: r.events.iter().map(|e| (root.join(e), e.clone())).collect(),
        settings: settings.clone(),
        coverage_globs: Vec::new(),
        coverage_reports: Vec::new(),
        web_url: None,
        files_ref: r.reference.clone(),
        services,
        auto_services,
        teams_from_codeowners: r.teams_from_codeowners,
    })
}

/// `services = "auto"`: proposes the entry's services from its tags and
/// folders and uses them for this run; returns the proposal as TOML to paste
/// into the configuration (`None` when the entry is not `auto`). A tag prefix
/// counts as released when it has a tag in `window` (`assess`'s; `collect`
/// has none) or in the year before the repository's newest tag. Without a
/// local repository there is nothing to propose from: the services stay
/// unknown, and the text says why.
pub fn propose_services(spec: &mut RepoSpec, window: Option<&Window>) -> Result<Option<String>> {
    if !spec.auto_services {
        return Ok(None);
    }
    spec.auto_services = false;
    let Some(path) = spec.path.clone() else {
        return Ok(Some(format!(
            "# services = \"auto\" for {}: nothing proposed, the entry has no `path` to a clone or mirror to read tags and folders from\n",
            spec.name
        )));
    };
    let git = crate::sources::git::GitRepo::open(&path)?;
    let tags = git.tag_names()?;
    let files = crate::probes::RepoFiles::open(Some(&path), spec.files_ref.as_deref());
    let recency = crate::sources::services::Recency::new(
        tags.iter().map(|(_, t)| *t),
        window.map(|w| (w.since.timestamp(), w.until.timestamp())),
    );
    let tree = match (&files.unavailable, &files.source.reference) {
        (Some(why), _) => format!("the files, which cannot be listed ({})", why.english()),
        (None, Some(r)) => format!("the tree of {r}"),
        (None, None) => "the work tree".to_string(),
    };
    let proposed = crate::sources::services::propose(
        tags.iter().map(|(n, t)| (n.as_str(), *t)),
        files.paths.iter().map(String::as_str),
        &tree,
        recency,
    );
    spec.services = Some(Arc::new(proposed.to_set()?));
    Ok(Some(proposed.to_toml(&spec.name)))
}

/// The headline numbers of the default window (the `window_days` before now).
fn history_entry(
    facts: &RepoFacts,
    settings: &DoraSettings,
    opts: &MetricOptions,
    edition_id: &str,
    edition: &Edition,
    now: DateTime<Utc>,
) -> HistoryEntry {
    let window = Window {
        since: now - Duration::days(i64::from(settings.window_days)),
        until: now,
    };
    let outcomes = metrics::outcomes(facts, opts);
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

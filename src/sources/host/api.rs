//! One collector for every host: the algorithm that turns a host's answers
//! into facts is written once, here, and each host ([`super::super::github`],
//! [`super::super::gitlab`]) only says where to read and how its fields are
//! named, by implementing [`HostApi`].
//!
//! The algorithm: deployments to production environments; when there are
//! none, releases; when none, tags matching `tag_pattern`. The commits between
//! consecutive successful deployments (a compare per pair: a range the host
//! cannot compare is a note, not a failure). Pull or merge requests and
//! incidents updated since the cursor (the stored one, or `--since`), merged
//! with the stored ones. Then [`super::assemble`] maps requests to the
//! deployments that shipped them.
//!
//! The files of a repository without a checkout are read here too: the
//! default branch's head ([`HostApi::head`]), its tree listed by the host
//! ([`HostApi::tree`]), and blobs by id ([`HostApi::blob_url`]), which the
//! client caches for good.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{HostOptions, HostRead, OrgFilter, RangeCommit};
use crate::facts::{
    Collection, Deployment, DeploymentSearch, Incident, PullRequest, RepoFacts, Sha,
};
use crate::message::Message;
use crate::sources::http::{Client, Freshness, StatusError};

/// What differs between hosts: endpoints and field names.
pub(crate) trait HostApi {
    /// `github` or `gitlab`: `collection.host` of the stored facts.
    const KIND: &'static str;
    /// What the host calls a change request, for notes: the message key of
    /// "pull requests".
    const REQUESTS: &'static str;

    /// The API URL of one repository (`owner/name`, `group/project`).
    fn base(api: &str, project: &str) -> String;

    /// A repository as an organisation's (or group's) listing gives it.
    type Member: DeserializeOwned + Serialize;

    /// The listing of an organisation's (or group's) repositories.
    fn members_url(api: &str, org: &str) -> String;

    /// A listed repository: (short name, archived, fork, full path).
    fn member(m: Self::Member) -> (String, bool, bool, String);

    /// Finished deployments to production environments.
    async fn environment_deployments(r: &Repo<'_>, stored: &RepoFacts) -> Result<Vec<Deployment>>;

    /// Published releases, at their commit.
    async fn releases(r: &Repo<'_>, notes: &mut Vec<Message>) -> Result<Vec<Deployment>>;

    /// Tags matching `tag_pattern`.
    async fn tags(r: &Repo<'_>, notes: &mut Vec<Message>) -> Result<Vec<Deployment>>;

    /// The names of all tags (to explain why none is a deployment).
    async fn tag_names(r: &Repo<'_>) -> Result<Vec<String>>;

    /// Finished runs on `branch` of the CI workflows `pick` selects, as
    /// deployments (a successful run deploys, a failed one is a failed
    /// deployment), and the file names of those workflows. A host without
    /// such workflows answers none.
    async fn workflow_runs(
        r: &Repo<'_>,
        pick: &WorkflowPick<'_>,
        branch: &str,
    ) -> Result<(Vec<String>, Vec<Deployment>)>;

    /// The compare of two commits: what `to` deploys and `from` did not.
    fn compare_url(base: &str, from: &str, to: &str) -> String;

    /// Merged requests updated since the cursor, bots and the `known`
    /// (stored) numbers excluded; and the latest update time seen.
    async fn requests(r: &Repo<'_>, known: &Known, cursor: Cursor) -> Result<Listed<PullRequest>>;

    /// Incidents updated since the cursor.
    async fn incidents(r: &Repo<'_>, cursor: Cursor) -> Result<Listed<Incident>>;

    /// The default branch, the commit it points to, and the repository's web page.
    async fn head(r: &Repo<'_>) -> Result<BranchHead>;

    /// The files of `commit`'s tree (symbolic links and submodules left out);
    /// folders for which `prune` says yes need not be listed.
    async fn tree(r: &Repo<'_>, commit: &str, prune: &Prune) -> Result<Vec<TreeFile>>;

    /// Where a blob's raw bytes are read.
    fn blob_url(base: &str, blob: &str) -> String;

    /// The `Accept` header that asks for raw bytes.
    const RAW: &'static str;
}

/// Which CI workflows' runs are deployments.
pub(crate) enum WorkflowPick<'a> {
    /// Those whose file name matches `deploy_workflow`.
    Configured(&'a globset::GlobMatcher),
    /// Those whose file or name says deploy, release or publish (the
    /// fallback when a repository has no other deployment).
    Named,
}

impl WorkflowPick<'_> {
    /// Whether the workflow at `path` (`.github/workflows/deploy.yml`), called `name`, is picked.
    pub(crate) fn picks(&self, path: &str, name: &str) -> bool {
        let file = path.rsplit('/').next().unwrap_or(path);
        match self {
            WorkflowPick::Configured(glob) => glob.is_match(file) || glob.is_match(path),
            WorkflowPick::Named => {
                let says = |s: &str| {
                    let s = s.to_ascii_lowercase();
                    ["deploy", "release", "publish"]
                        .iter()
                        .any(|w| s.contains(w))
                };
                says(file) || says(name)
            }
        }
    }
}

/// A repository's default branch and its head.
#[derive(Debug, Clone)]
pub(crate) struct BranchHead {
    pub branch: String,
    /// 40 hex digits.
    pub commit: String,
    /// The repository's web page, for links to its files.
    pub web_url: Option<String>,
}

/// One file of a listed tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeFile {
    pub path: String,
    pub blob: String,
    pub size: Option<u64>,
}

/// Whether a folder (by name) need not be listed.
pub(crate) type Prune = dyn Fn(&str) -> bool + Send + Sync;

/// A tree entry as both hosts write it: `path`, `mode`, `type`, and GitHub's
/// `sha` and `size` or GitLab's `id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TreeEntry {
    pub path: String,
    #[serde(default)]
    pub mode: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(alias = "id")]
    pub sha: String,
    #[serde(default)]
    pub size: Option<u64>,
}

impl TreeEntry {
    /// The entry as a file under `prefix`, when it is one: a blob that is not
    /// a symbolic link (mode 120000); submodules are `commit` entries.
    pub(crate) fn file(&self, prefix: &str) -> Option<TreeFile> {
        (self.kind == "blob" && self.mode != "120000").then(|| TreeFile {
            path: format!("{prefix}{}", self.path),
            blob: self.sha.to_ascii_lowercase(),
            size: self.size,
        })
    }

    /// Whether the entry is a folder under a pruned one (or pruned itself).
    pub(crate) fn pruned(&self, prune: &Prune) -> bool {
        self.path.split('/').any(prune)
    }
}

/// What both hosts answer for a repository: its default branch (none when
/// it is empty) and web page (GitHub's `html_url`, GitLab's `web_url`).
#[derive(Debug, Serialize, Deserialize)]
struct RepoInfo {
    #[serde(default)]
    default_branch: Option<String>,
    #[serde(default, alias = "web_url")]
    html_url: Option<String>,
}

/// The default branch's name, and the repository's web page.
pub(crate) async fn default_branch(r: &Repo<'_>) -> Result<(String, Option<String>)> {
    let info: RepoInfo = r.client.get(&r.base, Freshness::Revalidate).await?.items;
    let branch = info
        .default_branch
        .filter(|b| !b.is_empty())
        .ok_or_else(|| anyhow::anyhow!("the repository has no default branch (it is empty)"))?;
    Ok((branch, info.html_url))
}

/// The default branch and its head: `branch_url` names the answer that
/// holds the head commit, which `commit_of` picks out.
pub(crate) async fn branch_head<T: DeserializeOwned + Serialize>(
    r: &Repo<'_>,
    branch_url: impl Fn(&str) -> String,
    commit_of: impl Fn(T) -> String,
) -> Result<BranchHead> {
    let (branch, web_url) = default_branch(r).await?;
    let answer: T = r
        .client
        .get(&branch_url(&branch), Freshness::Revalidate)
        .await?
        .items;
    let commit = sha(&commit_of(answer))
        .ok_or_else(|| anyhow::anyhow!("the head of {branch} is not a commit id"))?;
    Ok(BranchHead {
        branch,
        commit: commit.to_hex(),
        web_url,
    })
}

/// The files of a repository's default branch: its head and listing.
pub(crate) async fn default_files<H: HostApi>(
    client: &Client,
    api: &str,
    project: &str,
    o: &HostOptions,
    prune: &Prune,
) -> Result<(BranchHead, Vec<TreeFile>)> {
    let r = Repo {
        client,
        base: H::base(api, project),
        o,
    };
    let head = H::head(&r)
        .await
        .context("finding the default branch's head")?;
    let files = H::tree(&r, &head.commit, prune)
        .await
        .with_context(|| format!("listing the tree of {} at {}", head.branch, head.commit))?;
    Ok((head, files))
}

/// The bytes of one blob of a repository (from the cache when it is there).
pub(crate) async fn blob<H: HostApi>(
    client: &Client,
    api: &str,
    project: &str,
    id: &str,
) -> Result<Vec<u8>> {
    let url = H::blob_url(&H::base(api, project), id);
    client.blob(&url, id, H::RAW).await
}

/// One repository of a host, as its requests need it.
pub(crate) struct Repo<'a> {
    pub client: &'a Client,
    /// The repository's API URL ([`HostApi::base`]).
    pub base: String,
    pub o: &'a HostOptions,
}

/// Where the last collection stopped: items updated before it are stored.
pub(crate) type Cursor = Option<DateTime<Utc>>;

/// Numbers of the requests already stored: not asked about again.
pub(crate) type Known = std::collections::HashSet<u64>;

/// Items read, and the latest update time among them (the next cursor).
pub(crate) type Listed<T> = (Vec<T>, Option<DateTime<Utc>>);

/// The repositories of an organisation or group to collect, as full paths, sorted.
pub(crate) async fn members<H: HostApi>(
    client: &Client,
    api: &str,
    org: &str,
    filter: &OrgFilter,
) -> Result<Vec<String>> {
    let listed: Vec<H::Member> = client
        .list(&H::members_url(api, org))
        .await
        .with_context(|| format!("listing the repositories of {org}"))?;
    let mut out: Vec<String> = listed
        .into_iter()
        .map(H::member)
        .filter(|(name, archived, fork, _)| filter.keep(name, *archived, *fork))
        .map(|(_, _, _, full)| full)
        .collect();
    out.sort();
    Ok(out)
}

/// A compare answer: GitHub's `{"commits": [{"sha", "commit": {"message"}}]}`,
/// GitLab's `{"commits": [{"id", "message"}]}`.
#[derive(Debug, Serialize, Deserialize)]
struct Compare {
    #[serde(default)]
    commits: Vec<CompareCommit>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CompareCommit {
    #[serde(alias = "id")]
    sha: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    commit: Option<CommitBody>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CommitBody {
    #[serde(default)]
    message: String,
}

impl Compare {
    /// The commits, in the order given; those without a valid sha left out.
    fn into_range(self) -> Vec<RangeCommit> {
        self.commits
            .into_iter()
            .filter_map(|c| {
                Some(RangeCommit {
                    sha: sha(&c.sha)?,
                    message: c
                        .message
                        .or(c.commit.map(|b| b.message))
                        .unwrap_or_default(),
                })
            })
            .collect()
    }
}

/// A sha as hosts write it (any case), or `None` when it is not 40 hex digits.
pub(crate) fn sha(hex: &str) -> Option<Sha> {
    Sha::from_hex(&hex.to_ascii_lowercase())
}

/// Collects one repository of host `H`. `stored` are its previous facts, for
/// the cursor and what need not be asked again; `since` overrides the cursor.
pub(crate) async fn collect<H: HostApi>(
    client: &Client,
    api: &str,
    project: &str,
    name: &str,
    o: &HostOptions,
    stored: Option<RepoFacts>,
    since: Option<DateTime<Utc>>,
) -> Result<RepoFacts> {
    let r = Repo {
        client,
        base: H::base(api, project),
        o,
    };
    let stored = stored.unwrap_or_default();
    let mut notes = Vec::new();

    let mut search = None;
    let mut deployments: Vec<Deployment>;
    if let Some(glob) = &o.deploy_workflow {
        let (branch, _) = default_branch(&r).await?;
        let (files, runs) = H::workflow_runs(&r, &WorkflowPick::Configured(glob), &branch).await?;
        if files.is_empty() {
            notes.push(crate::msg!(
                "msg_note_no_workflow",
                glob = glob.glob().to_string()
            ));
        }
        deployments = runs;
    } else {
        deployments = H::environment_deployments(&r, &stored).await?;
        if deployments.is_empty() {
            deployments = H::releases(&r, &mut notes).await?;
        }
        if deployments.is_empty() {
            deployments = H::tags(&r, &mut notes).await?;
        }
        if deployments.is_empty() {
            let (files, runs) = named_workflows::<H>(&r).await?;
            if runs.is_empty() {
                notes.push(crate::msg!(
                    "msg_note_host_no_deployments",
                    pattern = o.rules.tags.as_str()
                ));
                search = Some(searched(H::tag_names(&r).await?, o.rules.tags.as_str()));
            } else {
                notes.push(crate::msg!(
                    "msg_note_host_workflow_runs",
                    pattern = o.rules.tags.as_str(),
                    workflows = files
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                deployments = runs;
            }
        }
    }
    super::sort_deployments(&mut deployments);

    let mut ranges = Vec::new();
    for (i, from, to) in super::compare_pairs(&deployments) {
        match compare(
            client,
            &H::compare_url(&r.base, &from.to_hex(), &to.to_hex()),
        )
        .await
        {
            Ok(commits) => ranges.push((i, commits)),
            // A deployed commit that no longer exists, or unrelated histories:
            // that range is unknown, the rest still counts.
            Err(e) if StatusError::is(&e, &[404, 422]) => notes.push(crate::msg!(
                "msg_note_not_compared",
                deployment = &deployments[i].reference,
                error = format!("{e:#}"),
                requests = Message::new(H::REQUESTS)
            )),
            Err(e) => return Err(e),
        }
    }

    let cursor = since.or(stored.collection.as_ref().and_then(|c| c.cursor));
    let known: Known = stored.pull_requests.iter().map(|p| p.number).collect();
    let (fresh_pulls, newest_pull) = H::requests(&r, &known, cursor).await?;
    let pull_requests = super::merge_by(stored.pull_requests, fresh_pulls, |p| p.number);
    let (fresh_incidents, newest_issue) = H::incidents(&r, cursor).await?;
    let incidents = super::merge_by(stored.incidents, fresh_incidents, |i| i.id.clone());

    let mut facts = super::assemble(HostRead {
        name: name.to_string(),
        deployments,
        ranges,
        pull_requests,
        incidents,
        notes,
        collection: Collection {
            host: H::KIND.into(),
            project: project.to_string(),
            api_url: api.to_string(),
            cursor: super::later(cursor, super::later(newest_pull, newest_issue)),
        },
    });
    facts.deployment_search = search;
    Ok(facts)
}

/// The runs of workflows named for deploying, releasing or publishing, on
/// the default branch: none when the host answers 404 (no such repository
/// page, Actions unavailable).
async fn named_workflows<H: HostApi>(r: &Repo<'_>) -> Result<(Vec<String>, Vec<Deployment>)> {
    let branch = match default_branch(r).await {
        Ok((branch, _)) => branch,
        Err(e) if StatusError::is(&e, &[404]) => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    match H::workflow_runs(r, &WorkflowPick::Named, &branch).await {
        Err(e) if StatusError::is(&e, &[404]) => Ok((Vec::new(), Vec::new())),
        other => other,
    }
}

/// What a host held when no source gave a deployment: no production
/// deployment, no release, and `names` (all tags), none matching `pattern`;
/// the three last by name are kept (hosts list tags without dates).
fn searched(mut names: Vec<String>, pattern: &str) -> DeploymentSearch {
    names.sort_by(|a, b| b.cmp(a));
    DeploymentSearch {
        host_deployments: Some(0),
        releases: Some(0),
        tags: Some(names.len()),
        tag_pattern: pattern.to_string(),
        other_tags: names.into_iter().take(3).collect(),
        branch: None,
    }
}

/// The commits of a compare, all its pages (an immutable answer: cached for good).
async fn compare(client: &Client, url: &str) -> Result<Vec<RangeCommit>> {
    let mut next = Some(url.to_string());
    let mut out = Vec::new();
    while let Some(url) = next {
        let page = client.get::<Compare>(&url, Freshness::Immutable).await?;
        out.extend(page.items.into_range());
        next = page.next;
    }
    Ok(out)
}

/// A listing sorted newest-updated first, read down to the cursor: its items
/// and the latest update time among them.
pub(crate) async fn updated_since<T>(
    client: &Client,
    url: &str,
    cursor: Cursor,
    updated: impl Fn(&T) -> DateTime<Utc>,
) -> Result<Listed<T>>
where
    T: DeserializeOwned + Serialize,
{
    let list: Vec<T> = client
        .get_all(url, |page: &[T]| match cursor {
            Some(c) => page.last().is_some_and(|x| updated(x) >= c),
            None => true,
        })
        .await?;
    let newest = list.iter().map(&updated).max();
    Ok((list, newest))
}

/// Whether a listed request must be read: updated since the cursor and not
/// already stored.
pub(crate) fn is_new(updated: DateTime<Utc>, cursor: Cursor, number: u64, known: &Known) -> bool {
    cursor.is_none_or(|c| updated >= c) && !known.contains(&number)
}

/// An incident from an issue: numbered `#n`, resolved when closed.
pub(crate) fn incident(
    number: u64,
    created_at: DateTime<Utc>,
    state: &str,
    closed_at: Option<DateTime<Utc>>,
) -> Incident {
    Incident {
        id: format!("#{number}"),
        started_at: created_at,
        resolved_at: if state == "closed" { closed_at } else { None },
        cause_deployment: None,
    }
}

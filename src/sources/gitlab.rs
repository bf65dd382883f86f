//! The GitLab collector: a thin REST v4 client (gitlab.com or self-hosted,
//! through `api_url`), on the same HTTP stack as the GitHub one.
//!
//! Per project: deployments to environments matching `production_pattern`;
//! when there are none, releases; when none, tags. Merged merge requests with
//! their commits (first commit time) and notes (first response by someone
//! else); the deployment that first shipped each, from the compare API
//! between consecutive deployments. Incidents: issues of type incident.
//! Incremental as GitHub's: newest-updated first, down to the stored cursor.

use std::collections::HashSet;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::host::api::{self, HostApi};
use super::host::{self, lenient, HostOptions, OrgFilter, RangeCommit};
use super::http::{encode, Client, Freshness};
use crate::facts::{
    Deployment, DeploymentSource, DeploymentStatus, Incident, PullRequest, RepoFacts, Sha,
};

/// gitlab.com's API.
pub const DEFAULT_API: &str = "https://gitlab.com/api/v4";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    #[serde(default)]
    username: String,
    #[serde(default)]
    bot: Option<bool>,
}

impl User {
    fn is_bot(&self, o: &HostOptions) -> bool {
        self.bot == Some(true) || o.bots.is_bot(&self.username)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Project {
    path: String,
    path_with_namespace: String,
    #[serde(default)]
    archived: bool,
    /// Present (an object) on forks.
    #[serde(default, deserialize_with = "lenient")]
    forked_from_project: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Environment {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct GlDeployment {
    iid: u64,
    sha: String,
    #[serde(default)]
    status: String,
    created_at: DateTime<Utc>,
    #[serde(default)]
    updated_at: Option<DateTime<Utc>>,
    /// Top-level in recent GitLab versions; older ones give the job's.
    #[serde(default, deserialize_with = "lenient")]
    finished_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient")]
    deployable: Option<Deployable>,
    environment: Environment,
}

#[derive(Debug, Serialize, Deserialize)]
struct Deployable {
    #[serde(default, deserialize_with = "lenient")]
    finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CommitRef {
    id: String,
    #[serde(default)]
    committed_date: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Release {
    tag_name: String,
    created_at: Option<DateTime<Utc>>,
    released_at: Option<DateTime<Utc>>,
    #[serde(default)]
    upcoming_release: bool,
    #[serde(default, deserialize_with = "lenient")]
    commit: Option<CommitRef>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Tag {
    name: String,
    #[serde(default, deserialize_with = "lenient")]
    commit: Option<CommitRef>,
    /// The tagger date of an annotated tag (recent GitLab versions).
    #[serde(default, deserialize_with = "lenient")]
    created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct MergeRequest {
    iid: u64,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: Option<String>,
    author: Option<User>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    merged_at: Option<DateTime<Utc>>,
    merge_commit_sha: Option<String>,
    squash_commit_sha: Option<String>,
    /// The head of the source branch: the landed commit of a fast-forward merge.
    sha: Option<String>,
    #[serde(default)]
    source_branch: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct MrCommit {
    id: String,
    authored_date: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Note {
    author: Option<User>,
    created_at: DateTime<Utc>,
    #[serde(default)]
    system: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct Compare {
    #[serde(default)]
    commits: Vec<CompareCommit>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CompareCommit {
    id: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Issue {
    iid: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    state: String,
}

fn sha(hex: &str) -> Option<Sha> {
    Sha::from_hex(&hex.to_ascii_lowercase())
}

/// GitLab's endpoints and fields for the one host collector ([`host::api::collect`]).
pub(crate) struct GitLab;

impl HostApi for GitLab {
    const KIND: &'static str = "gitlab";
    const REQUESTS: &'static str = "merge requests";

    fn base(api: &str, project: &str) -> String {
        format!("{api}/projects/{}", encode(project))
    }

    /// The projects of a group (subgroups included), as paths.
    async fn members(
        client: &Client,
        api: &str,
        group: &str,
        filter: &OrgFilter,
    ) -> Result<Vec<String>> {
        let url = format!(
            "{api}/groups/{}/projects?include_subgroups=true&per_page=100",
            encode(group)
        );
        let projects: Vec<Project> = client
            .get_all(&url, |_| true)
            .await
            .with_context(|| format!("listing the projects of {group}"))?;
        let mut out: Vec<String> = projects
            .into_iter()
            .filter(|p| filter.keep(&p.path, p.archived, p.forked_from_project.is_some()))
            .map(|p| p.path_with_namespace)
            .collect();
        out.sort();
        Ok(out)
    }

    /// GitLab keeps no deployment statuses to reuse: the listing is complete.
    async fn environment_deployments(
        client: &Client,
        base: &str,
        o: &HostOptions,
        _stored: &RepoFacts,
    ) -> Result<Vec<Deployment>> {
        environment_deployments(client, base, o).await
    }

    async fn releases(
        client: &Client,
        base: &str,
        _notes: &mut Vec<String>,
    ) -> Result<Vec<Deployment>> {
        releases(client, base).await
    }

    async fn tags(
        client: &Client,
        base: &str,
        o: &HostOptions,
        _notes: &mut Vec<String>,
    ) -> Result<Vec<Deployment>> {
        tags(client, base, o).await
    }

    /// One compare answers the whole range (GitLab does not paginate it).
    async fn compare(client: &Client, base: &str, from: Sha, to: Sha) -> Result<Vec<RangeCommit>> {
        let url = format!(
            "{base}/repository/compare?from={}&to={}",
            from.to_hex(),
            to.to_hex()
        );
        let c: Compare = client.get(&url, Freshness::Immutable).await?.items;
        Ok(c.commits
            .into_iter()
            .filter_map(|c| {
                Some(RangeCommit {
                    sha: sha(&c.id)?,
                    message: c.message,
                })
            })
            .collect())
    }

    async fn pull_requests(
        client: &Client,
        base: &str,
        o: &HostOptions,
        stored: Vec<PullRequest>,
        cursor: Option<DateTime<Utc>>,
    ) -> Result<(Vec<PullRequest>, Option<DateTime<Utc>>)> {
        merge_requests(client, base, o, stored, cursor).await
    }

    /// Issues of type incident (the label is GitHub's way).
    async fn incidents(
        client: &Client,
        base: &str,
        _o: &HostOptions,
        stored: Vec<Incident>,
        cursor: Option<DateTime<Utc>>,
    ) -> Result<(Vec<Incident>, Option<DateTime<Utc>>)> {
        incidents(client, base, stored, cursor).await
    }
}

/// Finished deployments to production environments: `success`, or `failed`.
async fn environment_deployments(
    client: &Client,
    base: &str,
    o: &HostOptions,
) -> Result<Vec<Deployment>> {
    let list: Vec<GlDeployment> = client
        .get_all(
            &format!("{base}/deployments?order_by=id&sort=asc&per_page=100"),
            |_| true,
        )
        .await?;
    Ok(list
        .into_iter()
        .filter(|d| o.production.is_match(&d.environment.name))
        .filter_map(|d| {
            let status = match d.status.as_str() {
                "success" => DeploymentStatus::Success,
                "failed" => DeploymentStatus::Failure,
                _ => return None,
            };
            Some(Deployment {
                reference: format!("{}#{}", d.environment.name, d.iid),
                sha: sha(&d.sha),
                time: d
                    .finished_at
                    .or(d.deployable.and_then(|j| j.finished_at))
                    .or(d.updated_at)
                    .unwrap_or(d.created_at),
                source: DeploymentSource::Deployment,
                status,
            })
        })
        .collect())
}

/// Releases already released (upcoming ones left out), at their commit.
async fn releases(client: &Client, base: &str) -> Result<Vec<Deployment>> {
    let list: Vec<Release> = client
        .get_all(&format!("{base}/releases?per_page=100"), |_| true)
        .await?;
    Ok(list
        .into_iter()
        .filter(|r| !r.upcoming_release)
        .filter_map(|r| {
            Some(Deployment {
                time: r.released_at.or(r.created_at)?,
                sha: r.commit.as_ref().and_then(|c| sha(&c.id)),
                reference: r.tag_name,
                source: DeploymentSource::Release,
                status: DeploymentStatus::Success,
            })
        })
        .collect())
}

/// Tags matching `tag_pattern`: the tagger date when GitLab gives it, else
/// the commit's committer date.
async fn tags(client: &Client, base: &str, o: &HostOptions) -> Result<Vec<Deployment>> {
    let list: Vec<Tag> = client
        .get_all(&format!("{base}/repository/tags?per_page=100"), |_| true)
        .await?;
    Ok(list
        .into_iter()
        .filter(|t| o.tags.is_match(&t.name))
        .filter_map(|t| {
            let commit = t.commit?;
            Some(Deployment {
                time: t.created_at.or(commit.committed_date)?,
                sha: sha(&commit.id),
                reference: t.name,
                source: DeploymentSource::Tag,
                status: DeploymentStatus::Success,
            })
        })
        .collect())
}

/// Merged merge requests, bots excluded: the stored ones plus those updated
/// since the cursor, each asked for its commits and notes once.
async fn merge_requests(
    client: &Client,
    base: &str,
    o: &HostOptions,
    stored: Vec<PullRequest>,
    cursor: Option<DateTime<Utc>>,
) -> Result<(Vec<PullRequest>, Option<DateTime<Utc>>)> {
    let url =
        format!("{base}/merge_requests?state=merged&order_by=updated_at&sort=desc&per_page=100");
    let (list, newest) =
        api::updated_since(client, &url, cursor, |m: &MergeRequest| m.updated_at).await?;
    let known: HashSet<u64> = stored.iter().map(|p| p.number).collect();
    let mut fresh = Vec::new();
    for m in list {
        if !api::is_new(m.updated_at, cursor, m.iid, &known) {
            continue;
        }
        let author = m.author.clone().unwrap_or(User {
            username: String::new(),
            bot: None,
        });
        if author.is_bot(o) {
            continue;
        }
        let commits: Vec<MrCommit> = client
            .get_all(
                &format!("{base}/merge_requests/{}/commits?per_page=100", m.iid),
                |_| true,
            )
            .await?;
        let notes: Vec<Note> = client
            .get_all(
                &format!(
                    "{base}/merge_requests/{}/notes?sort=asc&order_by=created_at&per_page=100",
                    m.iid
                ),
                |_| true,
            )
            .await?;
        let first_response_at = notes
            .iter()
            .filter(|n| !n.system)
            .filter(|n| {
                n.author
                    .as_ref()
                    .is_some_and(|a| a.username != author.username && !a.is_bot(o))
            })
            .map(|n| n.created_at)
            .min();
        let (revert, reverts) = host::revert_of(&m.title, m.description.as_deref().unwrap_or(""));
        // The commit that landed: a merge commit, else the squashed one, else
        // (fast-forward) the head of the source branch.
        let landed = m
            .merge_commit_sha
            .as_deref()
            .or(m.squash_commit_sha.as_deref())
            .or(m.sha.as_deref())
            .and_then(sha);
        fresh.push(PullRequest {
            number: m.iid,
            title: m.title,
            author: author.username,
            branch: m.source_branch,
            created_at: m.created_at,
            merged_at: m.merged_at.unwrap_or(m.updated_at),
            first_commit_at: commits.iter().filter_map(|c| c.authored_date).min(),
            first_response_at,
            additions: None,
            deletions: None,
            merge_sha: landed,
            revert,
            reverts,
            deployment: None,
        });
    }
    Ok((host::merge_by(stored, fresh, |p| p.number), newest))
}

/// Issues of type incident, merged with the stored ones by iid.
async fn incidents(
    client: &Client,
    base: &str,
    stored: Vec<Incident>,
    cursor: Option<DateTime<Utc>>,
) -> Result<(Vec<Incident>, Option<DateTime<Utc>>)> {
    let url =
        format!("{base}/issues?issue_type=incident&order_by=updated_at&sort=desc&per_page=100");
    let (list, newest) = api::updated_since(client, &url, cursor, |i: &Issue| i.updated_at).await?;
    let fresh: Vec<Incident> = list
        .into_iter()
        .map(|i| api::incident(i.iid, i.created_at, &i.state, i.closed_at))
        .collect();
    Ok((host::merge_by(stored, fresh, |i| i.id.clone()), newest))
}

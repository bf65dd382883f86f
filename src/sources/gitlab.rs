//! The GitLab collector: a thin REST v4 client (gitlab.com or self-hosted,
//! through `api_url`), on the same HTTP stack as the GitHub one.
//!
//! Per project: deployments to environments matching `production_pattern`;
//! when there are none, releases; when none, tags. Merged merge requests with
//! their commits (first commit time) and notes (first response by someone
//! else); the deployment that first shipped each, from the compare API
//! between consecutive deployments. Incidents: issues of type incident.
//! Incremental as GitHub's: newest-updated first, down to the stored cursor.

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::host::api::{
    self, sha, BranchHead, Cursor, HostApi, Known, Listed, Prune, Repo, TreeEntry, TreeFile,
    WorkflowPick,
};
use super::host::{self, lenient, User};
use super::http::encode;
use crate::facts::{
    Deployment, DeploymentSource, DeploymentStatus, Incident, PullRequest, RepoFacts,
};
use crate::message::Message;

/// gitlab.com's API.
pub const DEFAULT_API: &str = "https://gitlab.com/api/v4";

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Project {
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
struct Issue {
    iid: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    state: String,
}

/// A branch: its head commit.
#[derive(Debug, Serialize, Deserialize)]
struct Branch {
    commit: CommitRef,
}

/// GitLab's endpoints and fields for the one host collector ([`host::api::collect`]).
pub(crate) struct GitLab;

impl HostApi for GitLab {
    const KIND: &'static str = "gitlab";
    const REQUESTS: &'static str = "msg_merge_requests";

    fn base(api: &str, project: &str) -> String {
        format!("{api}/projects/{}", encode(project))
    }

    type Member = Project;

    /// Subgroups' projects included.
    fn members_url(api: &str, group: &str) -> String {
        format!(
            "{api}/groups/{}/projects?include_subgroups=true&per_page=100",
            encode(group)
        )
    }

    fn member(p: Project) -> (String, bool, bool, String) {
        let fork = p.forked_from_project.is_some();
        (p.path, p.archived, fork, p.path_with_namespace)
    }

    /// Finished deployments to production environments: `success`, or `failed`.
    async fn environment_deployments(r: &Repo<'_>, _stored: &RepoFacts) -> Result<Vec<Deployment>> {
        let (client, base, o) = (r.client, r.base.as_str(), r.o);
        let list: Vec<GlDeployment> = client
            .list(&format!(
                "{base}/deployments?order_by=id&sort=asc&per_page=100"
            ))
            .await?;
        Ok(list
            .into_iter()
            .filter(|d| o.rules.production.is_match(&d.environment.name))
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
    async fn releases(r: &Repo<'_>, _notes: &mut Vec<Message>) -> Result<Vec<Deployment>> {
        let (client, base) = (r.client, r.base.as_str());
        let list: Vec<Release> = client
            .list(&format!("{base}/releases?per_page=100"))
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
    /// GitLab has no Actions workflows (its pipelines are not read as deployments yet).
    async fn workflow_runs(
        _r: &Repo<'_>,
        _pick: &WorkflowPick<'_>,
        _branch: &str,
    ) -> Result<(Vec<String>, Vec<Deployment>)> {
        Ok((Vec::new(), Vec::new()))
    }

    async fn tag_names(r: &Repo<'_>) -> Result<Vec<String>> {
        let url = format!("{}/repository/tags?per_page=100", r.base);
        let list: Vec<Tag> = r.client.list(&url).await?;
        Ok(list.into_iter().map(|t| t.name).collect())
    }

    async fn tags(r: &Repo<'_>, _notes: &mut Vec<Message>) -> Result<Vec<Deployment>> {
        let (client, base, o) = (r.client, r.base.as_str(), r.o);
        let list: Vec<Tag> = client
            .list(&format!("{base}/repository/tags?per_page=100"))
            .await?;
        Ok(list
            .into_iter()
            .filter(|t| o.rules.tags.is_match(&t.name))
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

    /// One compare answers the whole range (GitLab does not paginate it).
    fn compare_url(base: &str, from: &str, to: &str) -> String {
        format!("{base}/repository/compare?from={from}&to={to}")
    }

    /// Merged merge requests, bots excluded: the stored ones plus those updated
    /// since the cursor, each asked for its commits and notes once.
    async fn requests(r: &Repo<'_>, known: &Known, cursor: Cursor) -> Result<Listed<PullRequest>> {
        let (client, base, o) = (r.client, r.base.as_str(), r.o);
        let url = format!(
            "{base}/merge_requests?state=merged&order_by=updated_at&sort=desc&per_page=100"
        );
        let (list, newest) =
            api::updated_since(client, &url, cursor, |m: &MergeRequest| m.updated_at).await?;
        let mut fresh = Vec::new();
        for m in list {
            if !api::is_new(m.updated_at, cursor, m.iid, known) {
                continue;
            }
            let author = m.author.clone().unwrap_or_default();
            if author.is_bot(o) {
                continue;
            }
            let commits: Vec<MrCommit> = client
                .list(&format!(
                    "{base}/merge_requests/{}/commits?per_page=100",
                    m.iid
                ))
                .await?;
            let notes: Vec<Note> = client
                .list(&format!(
                    "{base}/merge_requests/{}/notes?sort=asc&order_by=created_at&per_page=100",
                    m.iid
                ))
                .await?;
            let first_response_at = notes
                .iter()
                .filter(|n| !n.system)
                .filter(|n| {
                    n.author
                        .as_ref()
                        .is_some_and(|a| a.login != author.login && !a.is_bot(o))
                })
                .map(|n| n.created_at)
                .min();
            let (revert, reverts) =
                host::revert_of(&m.title, m.description.as_deref().unwrap_or(""));
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
                author: author.login,
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
        Ok((fresh, newest))
    }

    /// Issues of type incident, merged with the stored ones by iid.
    async fn incidents(r: &Repo<'_>, cursor: Cursor) -> Result<Listed<Incident>> {
        let (client, base) = (r.client, r.base.as_str());
        let url =
            format!("{base}/issues?issue_type=incident&order_by=updated_at&sort=desc&per_page=100");
        let (list, newest) =
            api::updated_since(client, &url, cursor, |i: &Issue| i.updated_at).await?;
        let fresh: Vec<Incident> = list
            .into_iter()
            .map(|i| api::incident(i.iid, i.created_at, &i.state, i.closed_at))
            .collect();
        Ok((fresh, newest))
    }

    /// The default branch (`GET /projects/:id`) and its head (`repository/branches/:branch`).
    async fn head(r: &Repo<'_>) -> Result<BranchHead> {
        let url = |branch: &str| format!("{}/repository/branches/{}", r.base, encode(branch));
        api::branch_head(r, url, |b: Branch| b.commit.id).await
    }

    /// The whole tree in one recursive listing, page by page (GitLab never
    /// truncates it; folders are not pruned, the listing has them all).
    async fn tree(r: &Repo<'_>, commit: &str, _prune: &Prune) -> Result<Vec<TreeFile>> {
        let url = format!(
            "{}/repository/tree?ref={commit}&recursive=true&per_page=100",
            r.base
        );
        let entries: Vec<TreeEntry> = r.client.list(&url).await?;
        Ok(entries.iter().filter_map(|e| e.file("")).collect())
    }

    fn blob_url(base: &str, blob: &str) -> String {
        format!("{base}/repository/blobs/{blob}/raw")
    }

    const RAW: &'static str = "application/octet-stream";
}

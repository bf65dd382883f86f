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

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{HostOptions, HostRead, OrgFilter, RangeCommit};
use crate::facts::{Collection, Deployment, Incident, PullRequest, RepoFacts, Sha};
use crate::sources::http::{Client, StatusError};

/// What differs between hosts: endpoints and field names.
pub(crate) trait HostApi {
    /// `github` or `gitlab`: `collection.host` of the stored facts.
    const KIND: &'static str;
    /// What the host calls a change request, for notes: "pull requests".
    const REQUESTS: &'static str;

    /// The API URL of one repository (`owner/name`, `group/project`).
    fn base(api: &str, project: &str) -> String;

    /// The repositories of an organisation or group to collect, sorted.
    async fn members(
        client: &Client,
        api: &str,
        org: &str,
        filter: &OrgFilter,
    ) -> Result<Vec<String>>;

    /// Finished deployments to production environments.
    async fn environment_deployments(
        client: &Client,
        base: &str,
        o: &HostOptions,
        stored: &RepoFacts,
    ) -> Result<Vec<Deployment>>;

    /// Published releases, at their commit.
    async fn releases(
        client: &Client,
        base: &str,
        notes: &mut Vec<String>,
    ) -> Result<Vec<Deployment>>;

    /// Tags matching `tag_pattern`.
    async fn tags(
        client: &Client,
        base: &str,
        o: &HostOptions,
        notes: &mut Vec<String>,
    ) -> Result<Vec<Deployment>>;

    /// The commits deployed by `to` and not by `from`.
    async fn compare(client: &Client, base: &str, from: Sha, to: Sha) -> Result<Vec<RangeCommit>>;

    /// Merged requests, bots excluded: the stored ones plus those updated
    /// since the cursor; and the latest update time seen.
    async fn pull_requests(
        client: &Client,
        base: &str,
        o: &HostOptions,
        stored: Vec<PullRequest>,
        cursor: Option<DateTime<Utc>>,
    ) -> Result<(Vec<PullRequest>, Option<DateTime<Utc>>)>;

    /// Incidents: the stored ones plus those updated since the cursor.
    async fn incidents(
        client: &Client,
        base: &str,
        o: &HostOptions,
        stored: Vec<Incident>,
        cursor: Option<DateTime<Utc>>,
    ) -> Result<(Vec<Incident>, Option<DateTime<Utc>>)>;
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
    let base = H::base(api, project);
    let stored = stored.unwrap_or_default();
    let mut notes = Vec::new();

    let mut deployments = H::environment_deployments(client, &base, o, &stored).await?;
    if deployments.is_empty() {
        deployments = H::releases(client, &base, &mut notes).await?;
    }
    if deployments.is_empty() {
        deployments = H::tags(client, &base, o, &mut notes).await?;
        if deployments.is_empty() {
            notes.push(format!(
                "no production deployments, releases or tags matching tag_pattern `{}`: no deployments",
                o.tags.as_str()
            ));
        }
    }
    super::sort_deployments(&mut deployments);

    let mut ranges = Vec::new();
    for (i, from, to) in super::compare_pairs(&deployments) {
        match H::compare(client, &base, from, to).await {
            Ok(commits) => ranges.push((i, commits)),
            // A deployed commit that no longer exists, or unrelated histories:
            // that range is unknown, the rest still counts.
            Err(e) if StatusError::is(&e, &[404, 422]) => notes.push(format!(
                "{} cannot be compared with the deployment before it ({e:#}); the {} it shipped are not counted",
                deployments[i].reference,
                H::REQUESTS
            )),
            Err(e) => return Err(e),
        }
    }

    let cursor = since.or(stored.collection.as_ref().and_then(|c| c.cursor));
    let (pull_requests, newest_pull) =
        H::pull_requests(client, &base, o, stored.pull_requests, cursor).await?;
    let (incidents, newest_issue) =
        H::incidents(client, &base, o, stored.incidents, cursor).await?;

    Ok(super::assemble(HostRead {
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
    }))
}

/// A listing sorted newest-updated first, read down to the cursor: its items
/// and the latest update time among them.
pub(crate) async fn updated_since<T>(
    client: &Client,
    url: &str,
    cursor: Option<DateTime<Utc>>,
    updated: impl Fn(&T) -> DateTime<Utc>,
) -> Result<(Vec<T>, Option<DateTime<Utc>>)>
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
pub(crate) fn is_new(
    updated: DateTime<Utc>,
    cursor: Option<DateTime<Utc>>,
    number: u64,
    known: &std::collections::HashSet<u64>,
) -> bool {
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

//! Facts from a host (GitHub, GitLab), assembled without the network: what
//! the two collectors share once they have read deployments, pull requests,
//! the commits between consecutive deployments, and incidents.
//!
//! A pull request is shipped by the earliest deployment whose range (the
//! commits between the previous successful deployment and it) holds its merge
//! commit, its squashed commit or its last rebased commit; failing that, a
//! commit that names it (`(#12)`, `Merge pull request #12`, `See merge request
//! group/project!12`). The metrics engine then reads hosts' changes exactly as
//! it reads git's.

pub mod api;

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use crate::facts::{
    Change, Collection, Deployment, DeploymentStatus, Incident, PullRequest, RepoFacts, Sha,
};
use crate::message::Message;

/// The rules of one repository that a host collector applies.
pub struct HostOptions {
    /// Production environments, deployment tags and bots, compiled once.
    pub rules: std::sync::Arc<crate::sources::rules::Rules>,
    /// GitHub issues with this label are incidents.
    pub incident_label: String,
    /// The Actions workflow (file name or glob) whose runs on the default
    /// branch are the deployments, when configured.
    pub deploy_workflow: Option<globset::GlobMatcher>,
}

/// An account as hosts write it: GitHub's `login` and `type`, GitLab's
/// `username` and `bot`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct User {
    #[serde(default, alias = "username")]
    pub login: String,
    /// GitHub: `"Bot"` for apps.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// GitLab: true for bot users.
    #[serde(default)]
    pub bot: Option<bool>,
}

impl User {
    /// A bot by the host's word, by a name ending in `[bot]`, or by `bot_pattern`.
    pub fn is_bot(&self, o: &HostOptions) -> bool {
        self.kind.as_deref() == Some("Bot")
            || self.bot == Some(true)
            || o.rules.bots.is_bot(&self.login)
    }
}

/// Which repositories of an organisation or group to collect.
pub struct OrgFilter {
    pub include: globset::GlobSet,
    pub exclude: globset::GlobSet,
    pub archived: bool,
    pub forks: bool,
}

impl OrgFilter {
    pub fn new(
        include: &[String],
        exclude: &[String],
        archived: bool,
        forks: bool,
    ) -> anyhow::Result<OrgFilter> {
        let set = |globs: &[String]| -> anyhow::Result<globset::GlobSet> {
            let mut b = globset::GlobSetBuilder::new();
            for g in globs {
                b.add(globset::Glob::new(g)?);
            }
            Ok(b.build()?)
        };
        Ok(OrgFilter {
            include: set(include)?,
            exclude: set(exclude)?,
            archived,
            forks,
        })
    }

    /// Whether to collect the repository called `name` (its last path segment).
    pub fn keep(&self, name: &str, archived: bool, fork: bool) -> bool {
        (self.archived || !archived)
            && (self.forks || !fork)
            && (self.include.is_empty() || self.include.is_match(name))
            && !self.exclude.is_match(name)
    }
}

/// A field that is read when it has the expected shape and is `None` otherwise,
/// so one odd event does not make a whole page unreadable.
pub fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

/// One commit of a compare range.
#[derive(Debug, Clone)]
pub struct RangeCommit {
    pub sha: Sha,
    pub message: String,
}

/// Orders deployments by time, then by ref in byte order, as the definitions require.
pub fn sort_deployments(list: &mut [Deployment]) {
    list.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| a.reference.as_bytes().cmp(b.reference.as_bytes()))
    });
}

/// The ranges to compare, in order: (deployment index, previous successful
/// deployment's sha, this deployment's sha). Failed deployments ship nothing
/// and are skipped; the first successful one is the start of the chain.
pub fn compare_pairs(deployments: &[Deployment]) -> Vec<(usize, Sha, Sha)> {
    let mut out = Vec::new();
    let mut prev: Option<Sha> = None;
    for (i, d) in deployments.iter().enumerate() {
        if d.status != DeploymentStatus::Success {
            continue;
        }
        let Some(sha) = d.sha else { continue };
        if let Some(p) = prev {
            out.push((i, p, sha));
        }
        prev = Some(sha);
    }
    out
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

/// Whether a pull request is a planned fix: a conventional-commit `fix` or
/// `hotfix` title, or a `fix/…` / `hotfix/…` branch.
pub fn is_fix(title: &str, branch: &str) -> bool {
    static TITLE: OnceLock<Regex> = OnceLock::new();
    static BRANCH: OnceLock<Regex> = OnceLock::new();
    re(&TITLE, r"(?i)^(fix|hotfix)(\([^)]*\))?!?:").is_match(title.trim())
        || re(&BRANCH, r"(?i)^(fix|hotfix)[/-]").is_match(branch)
}

/// Whether a pull request is a revert, and of what: `#<number>` (GitHub's
/// `Reverts owner/repo#12`, GitLab's `This reverts merge request !12`) or a
/// commit's hex (`This reverts commit <sha>`).
pub fn revert_of(title: &str, body: &str) -> (bool, Option<String>) {
    static PR: OnceLock<Regex> = OnceLock::new();
    static MR: OnceLock<Regex> = OnceLock::new();
    static COMMIT: OnceLock<Regex> = OnceLock::new();
    let target = re(&PR, r"(?m)^Reverts [\w.-]+/[\w.-]+#(\d+)")
        .captures(body)
        .or_else(|| re(&MR, r"This reverts merge request !(\d+)").captures(body))
        .map(|c| format!("#{}", &c[1]))
        .or_else(|| {
            re(&COMMIT, r"This reverts commit ([0-9a-fA-F]{7,40})\b")
                .captures(body)
                .map(|c| c[1].to_ascii_lowercase())
        });
    let titled = title.trim_start().starts_with("Revert \"");
    (titled || target.is_some(), target)
}

/// The pull or merge request numbers a commit message names.
fn named_requests(message: &str) -> Vec<u64> {
    static SQUASH: OnceLock<Regex> = OnceLock::new();
    static MERGE: OnceLock<Regex> = OnceLock::new();
    static GITLAB: OnceLock<Regex> = OnceLock::new();
    let subject = message.lines().next().unwrap_or("");
    let mut out = Vec::new();
    for c in re(&SQUASH, r"\(#(\d+)\)\s*$").captures_iter(subject) {
        out.extend(c[1].parse::<u64>().ok());
    }
    for c in re(&MERGE, r"^Merge pull request #(\d+) ").captures_iter(subject) {
        out.extend(c[1].parse::<u64>().ok());
    }
    for c in re(&GITLAB, r"(?m)^See merge request [\w./-]+!(\d+)").captures_iter(message) {
        out.extend(c[1].parse::<u64>().ok());
    }
    out
}

/// Everything a host collector read about one repository.
pub struct HostRead {
    pub name: String,
    /// Sorted with [`sort_deployments`]; `ranges` index into it.
    pub deployments: Vec<Deployment>,
    /// The commits each deployment's range holds: (deployment index, commits).
    pub ranges: Vec<(usize, Vec<RangeCommit>)>,
    /// Merged, bots excluded.
    pub pull_requests: Vec<PullRequest>,
    pub incidents: Vec<Incident>,
    pub notes: Vec<Message>,
    pub collection: Collection,
}

/// Maps pull requests to the deployments that shipped them and derives the
/// changes the metrics read. The first deployment is the baseline: pull
/// requests it ships are kept (with their phases) but are not counted changes.
pub fn assemble(read: HostRead) -> RepoFacts {
    let HostRead {
        name,
        deployments,
        ranges,
        mut pull_requests,
        mut incidents,
        mut notes,
        collection,
    } = read;
    let mut shipped_by: HashMap<Sha, usize> = HashMap::new();
    let mut named: HashMap<u64, (usize, Sha)> = HashMap::new();
    let mut range_list = ranges;
    range_list.sort_by_key(|(d, _)| *d);
    for (d, commits) in &range_list {
        for c in commits {
            shipped_by.entry(c.sha).or_insert(*d);
            for n in named_requests(&c.message) {
                named.entry(n).or_insert((*d, c.sha));
            }
        }
    }
    let first_success = deployments
        .iter()
        .position(|d| d.status == DeploymentStatus::Success);
    let any_sha = deployments.iter().any(|d| d.sha.is_some());
    if !deployments.is_empty() && !any_sha {
        notes.push(Message::new("msg_note_deployments_without_commits"));
    }
    let mut shipped_sha: Vec<Option<Sha>> = vec![None; pull_requests.len()];
    for (k, pr) in pull_requests.iter_mut().enumerate() {
        let by_sha = pr
            .merge_sha
            .and_then(|s| shipped_by.get(&s).map(|&d| (d, s)));
        let found = by_sha.or_else(|| named.get(&pr.number).copied());
        pr.deployment = match found {
            Some((d, sha)) => {
                shipped_sha[k] = Some(sha);
                // A squash commit found by the number in its subject is the one that landed.
                pr.merge_sha = pr.merge_sha.or(Some(sha));
                Some(d)
            }
            None if !any_sha => deployments
                .iter()
                .position(|d| d.status == DeploymentStatus::Success && d.time >= pr.merged_at),
            // Merged before the chain starts: shipped by the first successful deployment.
            None => first_success.filter(|&f| pr.merged_at <= deployments[f].time),
        };
        if pr.deployment.is_some() && shipped_sha[k].is_none() {
            shipped_sha[k] = pr.merge_sha;
        }
    }
    let by_number: HashMap<u64, Option<usize>> = pull_requests
        .iter()
        .map(|p| (p.number, p.deployment))
        .collect();
    let deployment_of_commit = |hex: &str| -> Option<usize> {
        if let Some(sha) = Sha::from_hex(hex) {
            if let Some(&d) = shipped_by.get(&sha) {
                return Some(d);
            }
        }
        let mut hits = pull_requests
            .iter()
            .filter(|p| p.merge_sha.is_some_and(|s| s.to_hex().starts_with(hex)));
        let first = hits.next()?;
        if hits.next().is_some() {
            return None;
        }
        first.deployment
    };
    let mut changes = Vec::new();
    let mut unnamed = 0;
    for (k, pr) in pull_requests.iter().enumerate() {
        let Some(d) = pr.deployment else { continue };
        // The baseline ships no counted changes.
        if d == 0 {
            continue;
        }
        let Some(sha) = shipped_sha[k] else {
            unnamed += 1;
            continue;
        };
        let reverts_deployment = match pr.reverts.as_deref() {
            Some(r) if r.starts_with('#') => r[1..]
                .parse::<u64>()
                .ok()
                .and_then(|n| by_number.get(&n).copied().flatten()),
            Some(hex) => deployment_of_commit(hex),
            None => None,
        };
        changes.push(Change {
            sha,
            author_time: pr.first_commit_at.unwrap_or(pr.created_at),
            deployment: d,
            fix: is_fix(&pr.title, &pr.branch),
            reverts_deployment,
            revert: pr.revert,
            merged_at: Some(pr.merged_at),
        });
    }
    if unnamed > 0 {
        notes.push(crate::msg!(
            "msg_note_requests_without_merge_commit",
            count = unnamed
        ));
    }
    changes.sort_by(|a, b| {
        a.deployment
            .cmp(&b.deployment)
            .then_with(|| a.author_time.cmp(&b.author_time))
            .then_with(|| a.sha.cmp(&b.sha))
    });
    pull_requests.sort_by_key(|p| p.number);
    incidents.sort_by(|a, b| {
        a.started_at
            .cmp(&b.started_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    RepoFacts {
        name,
        deployments,
        changes,
        incidents,
        notes,
        pull_requests,
        collection: Some(collection),
        files: None,
        deployment_search: None,
        services: None,
    }
}

/// Merges newly read items into stored ones by key; new ones win.
pub fn merge_by<T, K: std::hash::Hash + Eq>(
    stored: Vec<T>,
    fresh: Vec<T>,
    key: impl Fn(&T) -> K,
) -> Vec<T> {
    let mut index: HashMap<K, usize> = HashMap::new();
    let mut out: Vec<T> = Vec::with_capacity(stored.len() + fresh.len());
    for item in stored.into_iter().chain(fresh) {
        match index.get(&key(&item)) {
            Some(&i) => out[i] = item,
            None => {
                index.insert(key(&item), out.len());
                out.push(item);
            }
        }
    }
    out
}

/// The later of two optional times.
pub fn later(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::DeploymentSource;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn sha(n: u8) -> Sha {
        Sha([n; 20])
    }

    fn dep(r: &str, s: u8, time: &str, status: DeploymentStatus) -> Deployment {
        Deployment {
            reference: r.into(),
            sha: Some(sha(s)),
            time: t(time),
            source: DeploymentSource::Deployment,
            status,
        }
    }

    fn pr(number: u64, title: &str, merge: Option<u8>, merged: &str) -> PullRequest {
        PullRequest {
            number,
            title: title.into(),
            author: "ada".into(),
            branch: format!("b{number}"),
            created_at: t("2024-01-01T00:00:00Z"),
            merged_at: t(merged),
            first_commit_at: Some(t("2024-01-01T00:00:00Z")),
            first_response_at: None,
            additions: None,
            deletions: None,
            merge_sha: merge.map(sha),
            revert: false,
            reverts: None,
            deployment: None,
        }
    }

    #[test]
    fn reverts_and_fixes_are_recognised() {
        assert_eq!(
            revert_of("Revert \"add x\"", "Reverts acme/api#12"),
            (true, Some("#12".into()))
        );
        assert_eq!(
            revert_of("Undo", "This reverts commit ABCDEF1234567.\n"),
            (true, Some("abcdef1234567".into()))
        );
        assert_eq!(revert_of("Revert \"x\"", ""), (true, None));
        assert_eq!(revert_of("feat: y", "reverts nothing"), (false, None));
        assert!(is_fix("fix(api)!: oops", "main"));
        assert!(is_fix("Something", "hotfix/login"));
        assert!(!is_fix("feat: prefix fix", "feature/fix"));
    }

    #[test]
    fn requests_named_in_commit_messages() {
        assert_eq!(named_requests("Add login (#42)"), vec![42]);
        assert_eq!(
            named_requests("Merge pull request #7 from a/b\n\nTitle"),
            vec![7]
        );
        assert_eq!(
            named_requests("Merge branch 'x' into 'main'\n\nTitle\n\nSee merge request grp/proj!9"),
            vec![9]
        );
        assert!(named_requests("plain (#x)").is_empty());
    }

    #[test]
    fn pull_requests_are_shipped_by_range_and_baseline_is_not_counted() {
        // d0 baseline (sha 1), d1 failed (ships nothing), d2 (sha 3) ships range 1..3.
        let deployments = vec![
            dep("p#1", 1, "2024-01-02T00:00:00Z", DeploymentStatus::Success),
            dep("p#2", 2, "2024-01-03T00:00:00Z", DeploymentStatus::Failure),
            dep("p#3", 3, "2024-01-04T00:00:00Z", DeploymentStatus::Success),
        ];
        assert_eq!(compare_pairs(&deployments), vec![(2, sha(1), sha(3))]);
        let mut squash_without_sha = pr(12, "feat: b", None, "2024-01-03T12:00:00Z");
        squash_without_sha.title = "feat: b".into();
        let mut revert = pr(13, "Revert \"feat: a\"", Some(13), "2024-01-03T13:00:00Z");
        revert.revert = true;
        revert.reverts = Some("#11".into());
        let facts = assemble(HostRead {
            name: "acme/api".into(),
            deployments,
            ranges: vec![(
                2,
                vec![
                    RangeCommit {
                        sha: sha(11),
                        message: "feat: a".into(),
                    },
                    RangeCommit {
                        sha: sha(20),
                        message: "feat: b (#12)".into(),
                    },
                    RangeCommit {
                        sha: sha(13),
                        message: "Revert \"feat: a\"".into(),
                    },
                ],
            )],
            pull_requests: vec![
                pr(10, "feat: old", Some(10), "2024-01-01T12:00:00Z"),
                pr(11, "feat: a", Some(11), "2024-01-02T12:00:00Z"),
                squash_without_sha,
                revert,
                pr(14, "feat: unshipped", Some(14), "2024-01-05T00:00:00Z"),
            ],
            incidents: vec![],
            notes: vec![],
            collection: Collection {
                host: "github".into(),
                project: "acme/api".into(),
                api_url: "https://api.github.com".into(),
                cursor: None,
            },
        });
        let shipped: Vec<_> = facts
            .pull_requests
            .iter()
            .map(|p| (p.number, p.deployment))
            .collect();
        assert_eq!(
            shipped,
            vec![
                (10, Some(0)),
                (11, Some(2)),
                (12, Some(2)),
                (13, Some(2)),
                (14, None)
            ]
        );
        // #10 is shipped by the baseline, so three changes count; #12 by its squash commit.
        assert_eq!(facts.changes.len(), 3);
        assert!(facts.changes.iter().any(|c| c.sha == sha(20)));
        // The revert of #11 is shipped with it: it names deployment 2, which fails nothing.
        let r = facts.changes.iter().find(|c| c.sha == sha(13)).unwrap();
        assert_eq!((r.revert, r.reverts_deployment), (true, Some(2)));
    }

    #[test]
    fn merging_keeps_order_and_prefers_fresh() {
        let merged = merge_by(vec![(1, "a"), (2, "b")], vec![(2, "B"), (3, "c")], |x| x.0);
        assert_eq!(merged, vec![(1, "a"), (2, "B"), (3, "c")]);
    }
}
